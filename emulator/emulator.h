#pragma once
// The emulator core: the service's rules for resource groups, galleries and their
// long-running operations, over a Store. No HTTP here: api/ turns requests into these calls
// and their results into ARM responses.
//
// Threading: every public method may be called from any thread; one mutex serialises them
// (one SQLite connection, one writer, like LevelDB's single-writer queue). Each write is one
// store transaction: it commits whole or leaves nothing behind.
//
// Long-running operations
// -----------------------
// A write whose simulated work is not finished when the response is sent starts an
// operation. Its state machine (persisted in the operations table):
//
//     begin_operation()                    settle(): due, finisher succeeded
//   ────────────────────► InProgress ────────────────────────────────────────► Succeeded
//                             │  settle(): due, finisher returned an error
//                             ├──────────────────────────────────────────────► Failed
//                             │  the resource it works on was deleted
//                             └──────────────────────────────────────────────► Canceled
//
// With a zero operation delay every write completes inside its own request and no
// operation is created: callers answer synchronously. A write of an image or application
// version whose replication is still running is the exception: its operation finishes when
// the last region does (emulator/replication.h), Failed when one failed.

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "emulator/access_control.h"
#include "emulator/arm_error.h"
#include "emulator/clock.h"
#include "emulator/gallery_sharing.h"
#include "emulator/id_generator.h"
#include "emulator/identity.h"
#include "emulator/marketplace_terms.h"
#include "emulator/network_rules.h"
#include "emulator/region_catalog.h"
#include "emulator/replication.h"
#include "emulator/resource_type.h"
#include "emulator/retention_plan.h"
#include "emulator/settings.h"
#include "emulator/shared_galleries.h"
#include "storage/store.h"

namespace acg {


// A stored image version deleted with soft delete on (resources.cpp): kept, hidden, until purged.
bool is_soft_deleted(const nlohmann::json& stored);

// A long-running operation a response must point the client at.
struct OperationRef {
  std::string id;
  std::string subscription;
  std::string location;  // region in the status URL
};

struct OperationStatus {
  std::string id;
  std::string kind;
  std::string status;  // InProgress | Succeeded | Failed | Canceled
  std::string start_time;
  std::string end_time;  // empty while InProgress
  std::optional<ArmError> error;
  std::string resource_id;
  // What the operation's Location (monitor) URL answers once it Succeeded, when it is more
  // than an empty 200: a POST action's result (the share action's SharingUpdate).
  std::optional<nlohmann::json> result;
};

struct WriteOutcome {
  nlohmann::json resource;
  bool created = false;
  std::optional<OperationRef> operation;  // set while the work is still running
};

struct DeleteOutcome {
  bool existed = false;
  std::optional<OperationRef> operation;
};

// What POST .../galleries/{g}/share answers: the update as applied, and the operation while
// the sharing is still spreading (with a non-zero operation delay).
struct ShareOutcome {
  nlohmann::json update;
  std::optional<OperationRef> operation;
};

struct ListPage {
  std::vector<nlohmann::json> items;
  std::optional<std::string> continuation;  // opaque $skiptoken of the next page
};

// Names a resource below a resource group: the names of its ancestors and its own, outermost
// first (gallery, image, version), as the client spelled them. For a list, the names of the
// parent.
struct ResourceRef {
  std::string subscription;
  std::string resource_group;
  std::vector<std::string> names;
};

class Emulator {
 public:
  Emulator(std::unique_ptr<storage::Store> store, const Clock& clock, IdGenerator& ids,
           RegionCatalog regions, IdentityDirectory identities, EmulatorSettings settings);
  ~Emulator();
  Emulator(const Emulator&) = delete;
  Emulator& operator=(const Emulator&) = delete;

  // --- Resource groups (Microsoft.Resources/resourceGroups) ---
  Result<WriteOutcome> put_resource_group(const std::string& sub, const std::string& name,
                                          const nlohmann::json& body);
  Result<nlohmann::json> get_resource_group(const std::string& sub, const std::string& name);
  Result<nlohmann::json> patch_resource_group(const std::string& sub, const std::string& name,
                                              const nlohmann::json& body);
  Result<ListPage> list_resource_groups(const std::string& sub, const std::string& continuation);
  // Deletes the group and everything in it.
  Result<DeleteOutcome> delete_resource_group(const std::string& sub, const std::string& name);

  // --- Resources below resource groups (galleries, images, ...), by their ResourceType ---
  Result<WriteOutcome> put_resource(const ResourceType& type, const ResourceRef& ref, const nlohmann::json& body);
  Result<WriteOutcome> patch_resource(const ResourceType& type, const ResourceRef& ref, const nlohmann::json& body);
  Result<nlohmann::json> get_resource(const ResourceType& type, const ResourceRef& ref, const std::string& expand = {});
  // The resource as stored, before ResourceType::view (members the type keeps to itself
  // included): for services that keep their own state in it (an Image Builder run).
  Result<nlohmann::json> get_stored_resource(const ResourceType& type, const ResourceRef& ref);
  Result<DeleteOutcome> delete_resource(const ResourceType& type, const ResourceRef& ref);
  // Resources of `type` in the parent that ref names (ref.names: the parent's names).
  Result<ListPage> list_resources(const ResourceType& type, const ResourceRef& parent, const std::string& continuation);
  Result<ListPage> list_resources_in_subscription(const ResourceType& type, const std::string& sub,
                                                  const std::string& continuation);
  // Changes one stored resource in its own transaction (resources.cpp): for actions
  // such as POST .../generalize, and members the generic write does not store (sku, kind).
  // `change` edits the whole stored body and must keep its id, name, type and location
  // (checked: 500 otherwise). 404 ResourceNotFound when absent, 409 while it is being deleted.
  // Returns the resource as stored.
  Result<nlohmann::json> update_resource(const ResourceType& type, const ResourceRef& ref,
                                         const std::function<Status(nlohmann::json& resource)>& change);
  // POST .../virtualMachines/{vm}/deallocate: records the VM's power state as deallocated and
  // returns the operation the 202 points at (Compute answers power actions as long-running
  // operations, even when they end at once).
  Result<OperationRef> deallocate_vm(const ResourceRef& vm);

  // --- Sharing (emulator/gallery_sharing.h) and what consumers see (shared_galleries.h) ---
  // POST .../galleries/{g}/share with a SharingUpdate body; gallery.names = {gallery}. The new
  // sharing applies at once; with an operation delay only the answer is long-running (the
  // gallery's sharingStatus says InProgress until it ends).
  Result<ShareOutcome> share_gallery(const ResourceRef& gallery, const nlohmann::json& body);
  // A consumer read by subscription `sub` (the path's) of what `ref` names; ref.region is the
  // path's location, checked against the catalog.
  Result<nlohmann::json> get_public_resource(const std::string& sub, PublicGalleryRef ref);
  Result<ListPage> list_public_resources(const std::string& sub, PublicGalleryRef ref, const std::string& continuation);

  // Soft-deleted image versions of a definition (definition.names = {gallery, image}), as
  // GallerySoftDeletedResource items.
  Result<ListPage> list_soft_deleted(const ResourceRef& definition);

  // "Latest": the definition's highest version by numeric Major.Minor.Patch, skipping those
  // excluded from latest (the version's flag, overridden by its target region's flag when a
  // region is given). definition.names = {gallery, image}. 404 when there is none.
  Result<nlohmann::json> latest_version(const ResourceRef& definition, const std::string& region);

  // --- Storage cost (emulator/storage_cost.h, cost_estimates.cpp) ---
  // What `scope` (a subscription, resource group, gallery, definition or version id) costs to
  // keep per month with its breakdown, soft-deleted versions at one replica per region; with a
  // policy, also the retention plan (emulator/retention_plan.h) and the saving it would make.
  // 400 InvalidScope for anything else, 404 when it does not exist.
  Result<nlohmann::json> storage_cost(const std::string& scope, const std::optional<RetentionPolicy>& retention);

  // --- Template deployments (Microsoft.Resources/deployments; emulator/arm_template.h) ---
  // A deployment is stored below its resource group (deleted with it) as the resource GET
  // shows, plus members named "acg:..." the api layer keeps to itself: the request as sent,
  // the deploying principal, the per-resource operation records.
  //
  //   start_deployment()       Accepted   (refused while the same name is Accepted/Running)
  //   update_deployment()      Running -> Succeeded | Failed | Canceled  (api/deployment_runner)
  Result<WriteOutcome> start_deployment(const std::string& sub, const std::string& rg, const std::string& name,
                                        nlohmann::json record);
  Result<nlohmann::json> get_deployment(const std::string& sub, const std::string& rg, const std::string& name);
  Result<ListPage> list_deployments(const std::string& sub, const std::string& rg, const std::string& continuation);
  // true when it existed. 409 DeploymentActive while it runs.
  Result<bool> delete_deployment(const std::string& sub, const std::string& rg, const std::string& name);
  // Changes the stored record in one transaction; 404 DeploymentNotFound once it is gone.
  Result<nlohmann::json> update_deployment(const std::string& sub, const std::string& rg, const std::string& name,
                                           const std::function<Status(nlohmann::json& record)>& change);
  // A deployment's per-resource operation records, stored as rows of their own below it (a
  // growing array inside the record made a deployment of N resources cost O(N^2)).
  Status add_deployment_operation(const std::string& deployment_id, const std::string& operation_id,
                                  const nlohmann::json& operation);
  Result<std::vector<nlohmann::json>> deployment_operations(const std::string& deployment_id);
  // Every deployment still Accepted or Running (to resume after a restart): their ids.
  Result<std::vector<std::string>> active_deployments();

  // --- Access control (emulator/access_control.h) ---
  // Role assignments and custom role definitions live as resources under their scope
  // (deleting the scope deletes them); an index in memory answers authorize().
  struct AssignmentFilter {
    std::string principal_id;  // "principalId eq '...'" / "assignedTo('...')"
    bool at_scope = false;     // "atScope()": at the scope and above only
  };
  Result<WriteOutcome> put_role_assignment(const std::string& scope, const std::string& name, const nlohmann::json& body,
                                           const Principal& caller);
  Result<nlohmann::json> get_role_assignment(const std::string& scope, const std::string& name);
  // The assignment removed, or nullopt when there was none.
  Result<std::optional<nlohmann::json>> delete_role_assignment(const std::string& scope, const std::string& name);
  Result<std::vector<nlohmann::json>> list_role_assignments(const std::string& scope, const AssignmentFilter& filter);
  Result<std::vector<nlohmann::json>> list_role_definitions(const std::string& scope, const std::string& role_name);
  Result<nlohmann::json> get_role_definition(const std::string& scope, const std::string& name);
  Result<WriteOutcome> put_role_definition(const std::string& scope, const std::string& name, const nlohmann::json& body);
  Result<std::optional<nlohmann::json>> delete_role_definition(const std::string& scope, const std::string& name);

  // --- Azure Policy (emulator/policies.cpp, the rule language in emulator/policy_rule.h) ---
  // Custom definitions live at a subscription, assignments at a subscription or resource group
  // (deleted with it); the built-ins are compiled in (emulator/data/policy_definitions.json).
  // Every create and update below a subscription meets the assignments covering it.
  Result<WriteOutcome> put_policy_definition(const std::string& sub, const std::string& name, const nlohmann::json& body,
                                             const Principal& caller);
  // The subscription's custom definition `name`, else the built-in of that name (sub empty:
  // built-ins only). 404 PolicyDefinitionNotFound.
  Result<nlohmann::json> get_policy_definition(const std::string& sub, const std::string& name);
  // The definition removed, or nullopt; 400 PolicyDefinitionInUse while assigned.
  Result<std::optional<nlohmann::json>> delete_policy_definition(const std::string& sub, const std::string& name);
  // Built-ins and (sub not empty) the subscription's custom ones; policy_type "BuiltIn" or
  // "Custom" keeps one kind ($filter=policyType eq '...').
  Result<std::vector<nlohmann::json>> list_policy_definitions(const std::string& sub, const std::string& policy_type);
  Result<WriteOutcome> put_policy_assignment(const std::string& scope, const std::string& name, const nlohmann::json& body,
                                             const Principal& caller);
  Result<nlohmann::json> get_policy_assignment(const std::string& scope, const std::string& name);
  Result<std::optional<nlohmann::json>> delete_policy_assignment(const std::string& scope, const std::string& name);
  struct PolicyAssignmentFilter {
    bool at_scope = false;        // "atScope()": at the scope and above
    bool at_exact_scope = false;  // "atExactScope()": at the scope only
    std::string definition_id;    // "policyDefinitionId eq '...'"
  };
  // Without a filter: the assignments at, above and below the scope, as ARM lists them.
  Result<std::vector<nlohmann::json>> list_policy_assignments(const std::string& scope, const PolicyAssignmentFilter& filter);
  // The audit and deny decisions made since the start or the last reset, oldest first (at
  // most the last 10,000), of one subscription or (sub empty) all.
  nlohmann::json policy_events(const std::string& sub);

  // Adds tenants, subscriptions and principals (with role assignments) at run time, as
  // {"tenants": [...], "subscriptions": [...], "principals": [...]} (README "Identities");
  // missing ids and secrets are generated. Persisted: a restart keeps them. Returns what was
  // added, secrets included (shown once).
  Result<nlohmann::json> add_identities(const nlohmann::json& request);
  // Every tenant, subscription and principal (without secrets).
  nlohmann::json identities_json();
  // What add_identities() added, as persisted (secrets included): for /_emulator/snapshot.
  nlohmann::json added_identities();

  // Every resource below the subscriptions (resource groups and what they hold, role
  // assignments, custom roles, deployment records) as stored, in creation order, so parents
  // and sources come before what uses them; soft-deleted versions are left out. Each has
  // "id" and "type". For /_emulator/snapshot (api/seeder.h).
  Result<std::vector<nlohmann::json>> all_resources();

  // Private endpoint emulation (emulator/network_rules.h): a gallery limited to callers from
  // address ranges; an empty list lifts the limit. Persisted.
  Status set_network_rule(const std::string& gallery_id, const std::vector<std::string>& ranges);
  nlohmann::json network_rules_json();
  // 403 ForbiddenByNetworkRule when a rule covering `scope` does not admit `address`.
  Status check_network(const std::string& scope, const std::string& address);

  // 403 AuthorizationFailed unless the principal may perform the target's action.
  Status authorize(const Principal& principal, const RbacTarget& target);
  bool permits(const Principal& principal, const std::string& action, const std::string& scope);
  // Some assignment of the principal sits at `scope` or below it (lists show it what it may read).
  bool has_role_within(const Principal& principal, const std::string& scope);

  // --- Quotas (emulator/quotas.h) ---
  // Compute's usages list for a subscription and region: the gallery quotas, each a
  // ListUsagesResult item. 400 LocationNotAvailableForResourceType for an unknown region.
  Result<std::vector<nlohmann::json>> usages(const std::string& sub, const std::string& location);
  // The admin view of a subscription's quotas: each limit with where it comes from, the admin
  // overrides, and the usage of every region that has some.
  Result<nlohmann::json> quotas_of(const std::string& sub);
  // Merges {"galleries": N, ...} into the subscription's admin overrides (null removes one),
  // or removes them all; persisted (a restart keeps them), cleared by reset(). Returns quotas_of.
  Result<nlohmann::json> set_quota_overrides(const std::string& sub, const nlohmann::json& limits);
  Result<nlohmann::json> clear_quota_overrides(const std::string& sub);

  // --- Marketplace terms (Microsoft.MarketplaceOrdering; emulator/marketplace_terms.h) ---
  // The terms of a plan for a subscription, as `view` shapes them (never accepted until
  // set_marketplace_terms accepts them). Persisted per subscription, cleared by reset().
  Result<nlohmann::json> marketplace_terms(const std::string& sub, const MarketplacePlan& plan, TermsView view);
  Result<nlohmann::json> set_marketplace_terms(const std::string& sub, const MarketplacePlan& plan, bool accepted,
                                               TermsView view);
  // Every plan whose terms the subscription has signed or canceled (the agreements view).
  Result<std::vector<nlohmann::json>> marketplace_agreements(const std::string& sub);

  // --- Build logs (image pipelines: README "Image pipelines") ---
  // What a build did to a resource, line by line: an Image Builder template's customization
  // log, the commands and uploads an SSH build session made on a VM. Kept after the resource
  // is deleted (Packer deletes its build VM), persisted, cleared by reset(); at most the last
  // kMaxBuildLogs resources and kMaxBuildLogLines lines each are kept.
  static constexpr std::size_t kMaxBuildLogs = 200;
  static constexpr std::size_t kMaxBuildLogLines = 5000;
  // Appends one line from `source` ("ssh", "customizer", ...) at the emulator's now.
  Status append_build_log(const std::string& resource_id, const std::string& source, const std::string& text);
  // {"resourceId", "lines": [{"time", "source", "text"}]}; 404 NotFound when nothing was logged.
  Result<nlohmann::json> build_log(const std::string& resource_id);
  // The resource ids with a log, oldest log first: {"value": [{"resourceId", "lines": count}]}.
  Result<nlohmann::json> build_logs();

  // --- SSH build sessions (emulator/ssh_sessions.cpp) ---
  // The id of a stored VM (Microsoft.Compute/virtualMachines, any subscription) whose
  // osProfile.linuxConfiguration.ssh.publicKeys[].keyData carries this public key, given as its
  // base64 blob (the second field of "ssh-rsa AAAA... comment"); nullopt when none does. The SSH
  // endpoint lets a client in only with such a key, and logs to that VM.
  Result<std::optional<std::string>> find_vm_by_ssh_key(const std::string& key_base64);

  // --- Replication and faults (admin API) ---
  // The replication jobs still running (the `top` due first), with their progress and
  // remaining time: {"count": all of them, "value": [...]}.
  Result<nlohmann::json> replications(std::size_t top);
  FaultPlan& faults() { return faults_; }

  // --- Operations and time ---
  Result<OperationStatus> get_operation(const std::string& sub, const std::string& id);
  // The `limit` most recently started operations of every subscription, newest first (the
  // dashboard's operations table).
  Result<std::vector<OperationStatus>> recent_operations(std::size_t limit);
  // Finishes every operation whose simulated work is due on the clock.
  void settle();
  // When the next operation falls due, if any (drives the server's timer).
  std::optional<std::int64_t> next_due_ms();
  // Wipes all ARM state (resources, operations, replication jobs, accepted marketplace terms),
  // the faults, network rules and quota overrides in place; identities, TLS material, the
  // config file's settings and the clock stay.
  Status reset();
  // Moves the emulator's clock forward by delta_ms (persisted), then finishes what fell due.
  Status advance_clock(std::int64_t delta_ms);
  // {"mode": "system"|"virtual", "now": ARM time, "nowMs", "offsetMs"}.
  nlohmann::json clock_info();

  // --- Operator metrics (api/metrics.h) ---
  // What the store holds, counted, after settling what fell due.
  Result<storage::StoreCounts> counts();
  // Called with the wall time of each write() transaction (begin to commit or rollback) and
  // of each read() (write = false), in seconds. Set once, before requests arrive.
  using TransactionObserver = std::function<void(bool write, double seconds)>;
  void observe_transactions(TransactionObserver observer) { transaction_observer_ = std::move(observer); }

  const IdentityDirectory& identities() const { return identities_; }
  const RegionCatalog& regions() const { return regions_; }
  const Clock& clock() const { return clock_; }
  const EmulatorSettings& settings() const { return settings_; }

 private:
  using Finisher = std::function<Status(const storage::OperationRow&)>;

  // Runs fn inside one store transaction under the lock; commits on success.
  template <class T>
  Result<T> write(const std::function<Result<T>()>& fn);
  template <class T>
  Result<T> read(const std::function<Result<T>()>& fn);

  // Store access that maps storage failures to ARM errors.
  Result<std::optional<nlohmann::json>> load(const std::string& id);
  Status save(const std::string& id, const std::string& type, const std::string& parent_id,
              const std::string& name, const nlohmann::json& body);
  Status erase_tree(const std::string& id);
  Status save_companions(const ResourceType& type, const nlohmann::json& resource, Lookup& lookup);
  Result<ListPage> page(storage::StoreResult<storage::ResourcePage> rows);
  Result<std::int64_t> parse_continuation(const std::string& token);

  // Preconditions shared by routes.
  Status require_subscription(const std::string& sub);
  Result<nlohmann::json> require_resource_group(const std::string& sub, const std::string& rg);

  // Operation bookkeeping.
  // An operation due at due_ms (default: now + the operation delay; none when that is now).
  Result<std::optional<OperationRef>> begin_operation(const std::string& kind,
                                                      const std::string& resource_id,
                                                      const std::string& sub,
                                                      const std::string& location,
                                                      std::optional<std::int64_t> due_ms = std::nullopt,
                                                      const std::string& payload = {});
  // What finishing an operation found: done (ok or error), canceled, or not yet (due again).
  struct Finish {
    std::string status;  // Succeeded | Failed | Canceled | "" (not yet)
    std::optional<ArmError> error;
    std::int64_t due_again_ms = 0;
  };
  void settle_locked();
  void settle_jobs_locked();
  Result<Finish> finish_provisioning(const storage::OperationRow& op);
  Result<Finish> finish_deletion(const storage::OperationRow& op);
  Result<Finish> finish_sharing(const storage::OperationRow& op);
  // The consumer (sub and its tenant) and the catalog's name of a consumer read's region.
  Result<Consumer> consumer_of(const std::string& sub, PublicGalleryRef& ref);
  Status cancel_operations_of(const std::string& resource_id);
  Result<bool> soft_delete(nlohmann::json& version, const std::string& definition_id, const std::string& sub);
  Result<Finish> finish_purge(const storage::OperationRow& op);

  // Replication (emulator/replication.h): the jobs of a version (versions stored before jobs
  // existed count as Completed where they were provisioned), and the (re)planning of its
  // jobs on a write; returns when the last job is due, if any still runs.
  Result<std::vector<storage::ReplicationJobRow>> jobs_of(const nlohmann::json& artifact);
  Result<std::optional<std::int64_t>> replicate(const nlohmann::json& artifact, const std::string& sub);
  void persist_clock();

  // Quotas: 409 OperationNotAllowed when creating one more resource of `type` in `location`
  // would exceed the subscription's limit (inside the write's transaction).
  Status check_quota(const ResourceType& type, const std::string& sub, const std::string& location);
  Result<std::map<std::string, QuotaLimits>> quota_overrides_locked();
  nlohmann::json quotas_locked(const std::string& sub);
  // Marketplace terms as stored: {"<sub>": {"<publisher>:<offer>:<plan>": {...}}}, lower-cased keys.
  Result<nlohmann::json> stored_terms_locked();
  Result<bool> terms_accepted_locked(const std::string& sub, const MarketplacePlan& plan);

  class TransactionLookup;
  // The resource that contains `type` at ref (a resource group or a resource), or 404.
  Result<nlohmann::json> resolve_parent(const ResourceType& type, const ResourceRef& ref, bool tolerate_deleting);
  // The stored resource ref names (not soft-deleted), or 404 ResourceNotFound; lock held.
  Result<nlohmann::json> stored_resource_locked(const ResourceType& type, const ResourceRef& ref);
  Result<WriteOutcome> write_resource(const ResourceType& type, const ResourceRef& ref, const nlohmann::json& body,
                                      bool patch);

  std::mutex mutex_;
  std::unique_ptr<storage::Store> store_;  // GUARDED_BY(mutex_)
  EmulatorClock clock_;
  IdGenerator& ids_;
  RegionCatalog regions_;
  IdentityDirectory identities_;
  EmulatorSettings settings_;
  FaultPlan faults_;

  // $expand=ReplicationStatus answers, reused while nothing they show can change: no write
  // or settled job since (generation_), and the clock before any progress ticks.
  struct CachedStatus {
    std::uint64_t generation = 0;
    std::int64_t from_ms = 0, until_ms = 0;
    nlohmann::json status;
  };
  Result<nlohmann::json> cached_replication_status(const nlohmann::json& artifact);
  std::unordered_map<std::string, CachedStatus> status_cache_;  // GUARDED_BY(mutex_)
  std::uint64_t generation_ = 0;                                // GUARDED_BY(mutex_)

  // Access control: the stored assignments and custom roles, reloaded when generation_ moved.
  void refresh_access_locked();
  Status ensure_initial_assignments_locked();
  Result<nlohmann::json> add_identity_entries(const nlohmann::json& request, bool replaying);
  void replay_added_identities();
  Result<nlohmann::json> require_scope(const std::string& scope);
  std::vector<RoleAssignment> assignments_;   // GUARDED_BY(mutex_)
  std::vector<RoleDefinition> custom_roles_;  // GUARDED_BY(mutex_)
  std::uint64_t access_generation_ = UINT64_MAX;
  // Policy: the assignments covering `resource` (a resource group or a resource below one, about
  // to be stored) applied to it inside the write's transaction: deny -> 403
  // RequestDisallowedByPolicy (the caller writes nothing), append / modify change it, every
  // decision is recorded in policy_events_.
  Status enforce_policies_locked(nlohmann::json& resource, const std::string& sub);
  Result<nlohmann::json> resolve_policy_definition_locked(const std::string& definition_id);
  std::vector<nlohmann::json> policy_events_;  // GUARDED_BY(mutex_)
  std::vector<NetworkRule> network_rules_;  // GUARDED_BY(mutex_)
  TransactionObserver transaction_observer_;
  void load_network_rules();
};

}  // namespace acg
