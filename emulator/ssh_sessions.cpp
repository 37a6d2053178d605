// The SSH endpoint's question to the emulator: which VM, if any, was deployed with this key.
// A build VM (Packer's pkrvm..., an Image Builder run) gets its key through
// osProfile.linuxConfiguration.ssh.publicKeys; the SSH session then speaks for that VM.

#include <sstream>

#include "emulator/emulator.h"
#include "emulator/source_types.h"

namespace acg {

using nlohmann::json;

namespace {

// "ssh-rsa AAAAB3... user@host" -> "AAAAB3..."; a bare blob is its own blob.
std::string key_blob(const std::string& key_data) {
  std::istringstream fields(key_data);
  std::string first, second;
  fields >> first >> second;
  return second.empty() ? first : second;
}

bool vm_has_key(const json& vm, const std::string& key_base64) {
  const json* keys = &vm;
  for (const char* member : {"properties", "osProfile", "linuxConfiguration", "ssh", "publicKeys"}) {
    if (!keys->is_object() || !keys->contains(member)) return false;
    keys = &(*keys)[member];
  }
  if (!keys->is_array()) return false;
  for (const json& key : *keys)
    if (key.is_object() && key.value("keyData", json()).is_string() &&
        key_blob(key["keyData"].get<std::string>()) == key_base64)
      return true;
  return false;
}

}  // namespace

Result<std::optional<std::string>> Emulator::find_vm_by_ssh_key(const std::string& key_base64) {
  if (key_base64.empty()) return std::optional<std::string>();
  for (const Subscription& sub : identities_.subscriptions()) {
    std::string continuation;
    do {
      auto page = list_resources_in_subscription(virtual_machine_type(), sub.id, continuation);
      if (!page) return std::move(page).error();
      for (const json& vm : page->items)
        if (vm_has_key(vm, key_base64)) return std::optional<std::string>(vm.value("id", ""));
      continuation = page->continuation.value_or("");
    } while (!continuation.empty());
  }
  return std::optional<std::string>();
}

}  // namespace acg
