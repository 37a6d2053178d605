#pragma once
// Azure Image Builder (Microsoft.VirtualMachineImages/imageTemplates) and the user-assigned
// managed identity it runs as (Microsoft.ManagedIdentity/userAssignedIdentities): the two
// resource types, and the pure model of a build run. The run itself (distribution through
// the request pipeline) lives in api/image_builder_handlers.cpp.
//
// A run, as lastRunStatus shows it (runState / runSubState):
//
//   POST .../run                phase ends, the next starts        the last phase ended
//   ────────────► Running/Queued ──► Building ──► Customizing ──► [Validating] ──► Distributing ──► Succeeded
//                     │   a phase's injected fault, the build timeout, a refused write     (PartiallySucceeded:
//                     ├─────────────────────────────────────────────────────────► Failed    some outputs failed)
//                     │   POST .../cancel
//                     └──► Canceling ──(kCancelModelledMs later)──► Canceled
//
// Each phase lasts a modelled time (below), divided by the replication model's speed (the
// emulator's "X times faster than the world"; speed 0 = instant), so the default settings
// finish a build in well under a second and a virtual clock steps through it exactly.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "emulator/resource_type.h"

namespace acg {

const ResourceType& user_assigned_identity_type();
const ResourceType& image_template_type();

inline constexpr const char* kImageTemplateType = "Microsoft.VirtualMachineImages/imageTemplates";
inline constexpr const char* kUserAssignedIdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";

// The principal (object) id and client id of a user-assigned identity: derived from its id,
// so a role assignment to it is stable across restarts and re-creations.
std::string identity_principal_id(const std::string& identity_id);
std::string identity_client_id(const std::string& identity_id);

// Modelled durations (milliseconds of the real world).
inline constexpr std::int64_t kQueueModelledMs = 60'000;         // waiting for a build slot
inline constexpr std::int64_t kBuildVmModelledMs = 300'000;      // the build VM is created and boots
inline constexpr std::int64_t kValidateModelledMs = 180'000;     // validation customizers
inline constexpr std::int64_t kCaptureModelledMs = 120'000;      // generalize + capture the OS disk
inline constexpr std::int64_t kDistributeModelledMs = 120'000;   // per distributor, before replication
inline constexpr std::int64_t kCancelModelledMs = 60'000;        // tearing the build VM down
inline constexpr std::int64_t kDefaultBuildTimeoutMinutes = 240;  // buildTimeoutInMinutes 0

// One customizer's modelled duration, by type (Shell 2 min, File 30 s, WindowsUpdate 15 min...).
std::int64_t customizer_modelled_ms(const nlohmann::json& customizer);

// One phase of a planned run: its name (runSubState) and when it ends on the emulator clock.
struct BuildPhase {
  std::string name;     // Queued | Building | Customizing | Validating | Distributing
  std::int64_t end_ms;  // emulator clock
  std::int64_t modelled_end_ms;  // modelled time since the start (for the build timeout)
};

// The phases of a run of `properties` starting at start_ms, with durations divided by `speed`
// (<= 0: instant).
std::vector<BuildPhase> plan_build(const nlohmann::json& properties, std::int64_t start_ms, double speed);

// "Linux" or "Windows": the OS the template's source builds (a platform image's publisher and
// offer, a managed image's or gallery version's osType as resolved at create time).
std::string template_os_type(const nlohmann::json& properties);

}  // namespace acg
