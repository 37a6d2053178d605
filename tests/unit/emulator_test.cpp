// The core's rules without HTTP: a manual clock drives long-running operations.

#include <catch2/catch.hpp>
#include <stdexcept>

#include "emulator/emulator.h"

using namespace acg;
using nlohmann::json;

namespace {

EmulatorSettings settings_with(std::int64_t delay_ms) {
  EmulatorSettings settings;
  settings.operation_delay_ms = delay_ms;
  settings.page_size = 100;
  settings.max_versions_per_definition = 3;
  settings.replication.speed = 0;  // instant: these tests are about operations
  return settings;
}

struct Fixture {
  ManualClock clock{1795795200000};
  IdGenerator ids{7};
  std::unique_ptr<Emulator> emulator;
  storage::Store* store = nullptr;  // test seam: rows the API cannot create yet

  explicit Fixture(std::int64_t delay_ms = 0) {
    auto store_result = storage::open_sqlite_store(":memory:");
    REQUIRE(store_result.ok());
    auto& store = store_result;
    this->store = store.value().get();
    auto regions = RegionCatalog::builtin("AzureCloud");
    REQUIRE(regions.ok());
    emulator = std::make_unique<Emulator>(std::move(store.value()), clock, ids, std::move(*regions),
                                          IdentityDirectory::defaults(), settings_with(delay_ms));
  }
};

const std::string kSub(kDefaultSubscriptionId);

// A store that throws from put() once armed, after the row was written (a bug in code that
// runs inside a write transaction); everything else goes to the real store.
class ThrowingStore final : public storage::Store {
 public:
  explicit ThrowingStore(std::unique_ptr<storage::Store> inner) : inner_(std::move(inner)) {}
  bool throw_on_put = false;

  storage::StoreStatus begin() override { return inner_->begin(); }
  storage::StoreStatus commit() override { return inner_->commit(); }
  void rollback() override { inner_->rollback(); }
  storage::StoreResult<std::optional<storage::ResourceRow>> get(const std::string& id) override {
    return inner_->get(id);
  }
  storage::StoreStatus put(const storage::ResourceRow& row) override {
    auto st = inner_->put(row);
    if (throw_on_put) throw std::runtime_error("injected failure after put");
    return st;
  }
  storage::StoreStatus remove(const std::string& id) override { return inner_->remove(id); }
  storage::StoreStatus remove_tree(const std::string& id) override { return inner_->remove_tree(id); }
  storage::StoreResult<storage::ResourcePage> list_children(const std::string& parent_id, const std::string& type,
                                                            std::int64_t after_seq, int limit) override {
    return inner_->list_children(parent_id, type, after_seq, limit);
  }
  storage::StoreResult<storage::ResourcePage> list_in_scope(const std::string& scope_id, const std::string& type,
                                                            std::int64_t after_seq, int limit) override {
    return inner_->list_in_scope(scope_id, type, after_seq, limit);
  }
  storage::StoreResult<std::int64_t> count_children(const std::string& parent_id) override {
    return inner_->count_children(parent_id);
  }
  storage::StoreResult<std::int64_t> count_in_location(const std::string& scope_id, const std::string& type,
                                                       const std::string& location) override {
    return inner_->count_in_location(scope_id, type, location);
  }
  storage::StoreResult<std::vector<std::pair<std::string, std::int64_t>>> count_by_location(
      const std::string& scope_id, const std::string& type) override {
    return inner_->count_by_location(scope_id, type);
  }
  storage::StoreResult<std::optional<storage::OperationRow>> get_operation(const std::string& id) override {
    return inner_->get_operation(id);
  }
  storage::StoreStatus put_operation(const storage::OperationRow& op) override { return inner_->put_operation(op); }
  storage::StoreResult<std::vector<storage::OperationRow>> due_operations(std::int64_t due_ms) override {
    return inner_->due_operations(due_ms);
  }
  storage::StoreResult<std::optional<std::int64_t>> next_due_ms() override { return inner_->next_due_ms(); }
  storage::StoreResult<std::vector<storage::OperationRow>> pending_operations_of(const std::string& id) override {
    return inner_->pending_operations_of(id);
  }
  storage::StoreResult<std::vector<storage::OperationRow>> recent_operations(int limit) override {
    return inner_->recent_operations(limit);
  }
  storage::StoreResult<storage::StoreCounts> counts() override { return inner_->counts(); }
  storage::StoreStatus put_job(const storage::ReplicationJobRow& job) override { return inner_->put_job(job); }
  storage::StoreStatus remove_job(const std::string& artifact_id, const std::string& region) override {
    return inner_->remove_job(artifact_id, region);
  }
  storage::StoreResult<std::vector<storage::ReplicationJobRow>> jobs_of(const std::string& artifact_id) override {
    return inner_->jobs_of(artifact_id);
  }
  storage::StoreResult<std::vector<storage::ReplicationJobRow>> due_jobs(std::int64_t due_ms, int limit) override {
    return inner_->due_jobs(due_ms, limit);
  }
  storage::StoreResult<std::vector<storage::ReplicationJobRow>> active_jobs() override { return inner_->active_jobs(); }
  storage::StoreResult<std::string> get_meta(const std::string& key) override { return inner_->get_meta(key); }
  storage::StoreStatus put_meta(const std::string& key, const std::string& value) override {
    return inner_->put_meta(key, value);
  }
  storage::StoreStatus clear() override { return inner_->clear(); }

 private:
  std::unique_ptr<storage::Store> inner_;
};

}  // namespace

TEST_CASE("a write that throws rolls its transaction back and later writes still work", "[emulator]") {
  auto sqlite = storage::open_sqlite_store(":memory:");
  REQUIRE(sqlite.ok());
  auto owned = std::make_unique<ThrowingStore>(std::move(sqlite.value()));
  ThrowingStore& store = *owned;
  ManualClock clock{1795795200000};
  IdGenerator ids{7};
  auto regions = RegionCatalog::builtin("AzureCloud");
  REQUIRE(regions.ok());
  Emulator emulator(std::move(owned), clock, ids, std::move(*regions), IdentityDirectory::defaults(), settings_with(0));
  REQUIRE(emulator.put_resource_group(kSub, "rg", json{{"location", "westus"}}).ok());

  store.throw_on_put = true;
  CHECK_THROWS(emulator.put_resource(gallery_type(), ResourceRef{kSub, "rg", {"lost"}}, json{{"location", "westus"}}));
  store.throw_on_put = false;

  // Nothing of the failed write is left, and the store is not stuck inside its transaction.
  auto lost = emulator.get_resource(gallery_type(), ResourceRef{kSub, "rg", {"lost"}});
  REQUIRE_FALSE(lost.ok());
  CHECK(lost.error().status == 404);
  auto next = emulator.put_resource(gallery_type(), ResourceRef{kSub, "rg", {"kept"}}, json{{"location", "westus"}});
  INFO((next.ok() ? std::string() : next.error().message));
  REQUIRE(next.ok());
  CHECK(emulator.get_resource(gallery_type(), ResourceRef{kSub, "rg", {"kept"}}).ok());
}

TEST_CASE("operations finish on the emulator's clock, not before", "[emulator][lro]") {
  Fixture f(60000);
  REQUIRE(f.emulator->put_resource_group(kSub, "rg", json{{"location", "westus"}}).ok());
  auto created = f.emulator->put_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}, json{{"location", "westus"}});
  REQUIRE(created.ok());
  REQUIRE(created->operation);
  CHECK(created->resource["properties"]["provisioningState"] == "Creating");
  CHECK(f.emulator->next_due_ms() == f.clock.now_ms() + 60000);

  f.clock.advance_ms(59999);
  f.emulator->settle();
  CHECK(f.emulator->get_operation(kSub, created->operation->id)->status == "InProgress");
  f.clock.advance_ms(1);
  f.emulator->settle();
  auto op = f.emulator->get_operation(kSub, created->operation->id);
  CHECK(op->status == "Succeeded");
  CHECK_FALSE(op->end_time.empty());
  CHECK((*f.emulator->get_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}))["properties"]["provisioningState"] == "Succeeded");
  CHECK_FALSE(f.emulator->next_due_ms());
}

TEST_CASE("deleting a gallery twice: the second finds nothing", "[emulator]") {
  Fixture f;
  REQUIRE(f.emulator->put_resource_group(kSub, "rg", json{{"location", "westus"}}).ok());
  REQUIRE(f.emulator->put_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}, json{{"location", "westus"}}).ok());
  CHECK(f.emulator->delete_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}})->existed);
  CHECK_FALSE(f.emulator->delete_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}})->existed);
}

TEST_CASE("a refused write changes nothing", "[emulator]") {
  Fixture f;
  REQUIRE(f.emulator->put_resource_group(kSub, "rg", json{{"location", "westus"}}).ok());
  auto bad = f.emulator->put_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}, json{{"location", "westus"}, {"tags", json{{"k", 1}}}});
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.error().code == "InvalidRequestContent");
  CHECK(f.emulator->get_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}).error().status == 404);
  auto unknown_sub = f.emulator->list_resource_groups("99999999-9999-9999-9999-999999999999", "");
  CHECK(unknown_sub.error().code == "SubscriptionNotFound");
}

namespace {

const std::string kGroupId = "/subscriptions/" + kSub + "/resourceGroups/rg";
const std::string kImageId = kGroupId + "/providers/Microsoft.Compute/images/golden";

// A gallery, a Linux generalized definition and a managed image to publish from.
void publishing_setup(Fixture& f) {
  REQUIRE(f.emulator->put_resource_group(kSub, "rg", json{{"location", "westus"}}).ok());
  REQUIRE(f.emulator->put_resource(gallery_type(), ResourceRef{kSub, "rg", {"g"}}, json{{"location", "westus"}}).ok());
  json definition = {{"location", "westus"},
                     {"properties",
                      {{"osType", "Linux"}, {"osState", "Generalized"},
                       {"identifier", {{"publisher", "p"}, {"offer", "o"}, {"sku", "s"}}}}}};
  REQUIRE(f.emulator->put_resource(gallery_image_type(), ResourceRef{kSub, "rg", {"g", "d"}}, definition).ok());
  json image = {{"id", kImageId}, {"name", "golden"}, {"type", "Microsoft.Compute/images"}, {"location", "westus"},
                {"properties", {{"storageProfile", {{"osDisk", {{"osType", "Linux"}, {"osState", "Generalized"}}}}}}}};
  REQUIRE(f.store->put(storage::ResourceRow{kImageId, "Microsoft.Compute/images", kGroupId, "golden", image.dump(), 0}).ok());
}

Result<WriteOutcome> publish(Fixture& f, const std::string& version, json profile = json::object()) {
  json body = {{"location", "westus"},
               {"properties", {{"storageProfile", {{"source", {{"id", kImageId}}}}}, {"publishingProfile", profile}}}};
  return f.emulator->put_resource(gallery_image_version_type(), ResourceRef{kSub, "rg", {"g", "d", version}}, body);
}

}  // namespace

TEST_CASE("latest is the highest version by number, skipping excluded ones", "[emulator][versions]") {
  Fixture f;
  publishing_setup(f);
  const ResourceRef definition{kSub, "rg", {"g", "d"}};
  CHECK(f.emulator->latest_version(definition, "").error().status == 404);
  REQUIRE(publish(f, "1.9.0").ok());
  REQUIRE(publish(f, "1.10.0").ok());
  CHECK((*f.emulator->latest_version(definition, ""))["name"] == "1.10.0");

  // Excluded globally, but the westus target region overrides the flag.
  json profile = {{"excludeFromLatest", true}, {"targetRegions", json::array({{{"name", "westus"}, {"excludeFromLatest", false}},
                                                                             {{"name", "eastus"}}})}};
  REQUIRE(publish(f, "2.0.0", profile).ok());
  CHECK((*f.emulator->latest_version(definition, ""))["name"] == "1.10.0");
  CHECK((*f.emulator->latest_version(definition, "eastus"))["name"] == "1.10.0");
  CHECK((*f.emulator->latest_version(definition, "West US"))["name"] == "2.0.0");
}

TEST_CASE("a version excluded from latest later is skipped in every region without its own flag", "[emulator][versions]") {
  Fixture f;
  publishing_setup(f);
  const ResourceRef definition{kSub, "rg", {"g", "d"}};
  REQUIRE(publish(f, "1.0.0").ok());
  auto newer = publish(f, "2.0.0", {{"targetRegions", json::array({{{"name", "westus"}}, {{"name", "eastus"}}})}});
  REQUIRE(newer.ok());
  // Shown with the version's flag, stored without one of its own.
  CHECK(newer->resource["properties"]["publishingProfile"]["targetRegions"][1]["excludeFromLatest"] == false);
  CHECK((*f.emulator->latest_version(definition, "eastus"))["name"] == "2.0.0");
  json exclude = {{"properties", {{"publishingProfile", {{"excludeFromLatest", true}}}}}};
  REQUIRE(f.emulator->patch_resource(gallery_image_version_type(), ResourceRef{kSub, "rg", {"g", "d", "2.0.0"}}, exclude).ok());
  CHECK((*f.emulator->latest_version(definition, "eastus"))["name"] == "1.0.0");
  CHECK((*f.emulator->latest_version(definition, ""))["name"] == "1.0.0");
}

TEST_CASE("a definition holds at most the configured number of versions", "[emulator][versions]") {
  Fixture f;  // the fixture allows 3 per definition
  publishing_setup(f);
  for (const char* v : {"1.0.0", "1.0.1", "1.0.2"}) REQUIRE(publish(f, v).ok());
  auto fourth = publish(f, "1.0.3");
  REQUIRE_FALSE(fourth.ok());
  CHECK(fourth.error().status == 409);
  CHECK(fourth.error().message.find("3 versions") != std::string::npos);
  CHECK(publish(f, "1.0.2").ok());  // updating an existing one is not a new version
}
