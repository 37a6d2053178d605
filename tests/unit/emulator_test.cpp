// The core's rules without HTTP: a manual clock drives long-running operations.

#include <catch2/catch.hpp>

#include "emulator/emulator.h"

using namespace acg;
using nlohmann::json;

namespace {

struct Fixture {
  ManualClock clock{1795795200000};
  IdGenerator ids{7};
  std::unique_ptr<Emulator> emulator;

  explicit Fixture(std::int64_t delay_ms = 0) {
    auto store = storage::open_sqlite_store(":memory:");
    REQUIRE(store.ok());
    auto regions = RegionCatalog::builtin("AzureCloud");
    REQUIRE(regions.ok());
    emulator = std::make_unique<Emulator>(std::move(store.value()), clock, ids, std::move(*regions),
                                          IdentityDirectory::defaults(), EmulatorSettings{delay_ms, 100});
  }
};

const std::string kSub(kDefaultSubscriptionId);

}  // namespace

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
