#include <catch2/catch.hpp>
#include <filesystem>

#include "storage/migrations.h"
#include "storage/store.h"

using namespace acg::storage;

namespace {

std::unique_ptr<Store> memory_store() {
  auto s = open_sqlite_store(":memory:");
  REQUIRE(s.ok());
  return std::move(s.value());
}

ResourceRow row(const std::string& id, const std::string& parent, const std::string& type = "T/x") {
  return ResourceRow{id, type, parent, id.substr(id.rfind('/') + 1), "{\"id\":\"" + id + "\"}", 0};
}

}  // namespace

TEST_CASE("resources are found case-insensitively and keep their casing", "[store]") {
  auto store = memory_store();
  REQUIRE(store->put(row("/subscriptions/S/resourceGroups/RG", "/subscriptions/S")).ok());
  auto got = store->get("/SUBSCRIPTIONS/s/resourcegroups/rg");
  REQUIRE(got.ok());
  REQUIRE(got.value());
  CHECK(got.value()->id == "/subscriptions/S/resourceGroups/RG");
  CHECK(store->get("/subscriptions/S/resourceGroups/other").value() == std::nullopt);
}

TEST_CASE("listing pages in insertion order; updates keep their place", "[store]") {
  auto store = memory_store();
  for (int i = 0; i < 5; ++i) REQUIRE(store->put(row("/p/c" + std::to_string(i), "/p")).ok());
  REQUIRE(store->put(row("/p/c0", "/p")).ok());  // update keeps seq
  auto first = store->list_children("/P", "t/X", 0, 2);
  REQUIRE(first.ok());
  REQUIRE(first.value().rows.size() == 2);
  CHECK(first.value().rows[0].id == "/p/c0");
  REQUIRE(first.value().next_after);
  auto rest = store->list_children("/p", "", *first.value().next_after, 10);
  CHECK(rest.value().rows.size() == 3);
  CHECK_FALSE(rest.value().next_after);
  CHECK(store->count_children("/p").value() == 5);
}

TEST_CASE("remove_tree removes a subtree and nothing else", "[store]") {
  auto store = memory_store();
  for (const char* id : {"/s/rg", "/s/rg/g1", "/s/rg/g1/i", "/s/rg2", "/s/rg0"}) REQUIRE(store->put(row(id, "/s")).ok());
  REQUIRE(store->remove_tree("/S/RG").ok());
  CHECK_FALSE(store->get("/s/rg/g1/i").value());
  CHECK_FALSE(store->get("/s/rg").value());
  CHECK(store->get("/s/rg2").value());
  CHECK(store->get("/s/rg0").value());
  auto scoped = store->list_in_scope("/s", "T/x", 0, 10);
  CHECK(scoped.value().rows.size() == 2);
}

TEST_CASE("a rolled-back transaction leaves nothing behind", "[store]") {
  auto store = memory_store();
  REQUIRE(store->begin().ok());
  REQUIRE(store->put(row("/a", "/")).ok());
  store->rollback();
  CHECK_FALSE(store->get("/a").value());
  REQUIRE(store->begin().ok());
  REQUIRE(store->put(row("/b", "/")).ok());
  REQUIRE(store->commit().ok());
  CHECK(store->get("/b").value());
}

TEST_CASE("operations are kept and found when due", "[store]") {
  auto store = memory_store();
  OperationRow op{"Op-1", "provision", "/r", "westus", "S", "InProgress", "t0", "", 500, "", ""};
  REQUIRE(store->put_operation(op).ok());
  CHECK(store->next_due_ms().value() == 500);
  CHECK(store->due_operations(499).value().empty());
  REQUIRE(store->due_operations(500).value().size() == 1);
  op.status = "Succeeded";
  REQUIRE(store->put_operation(op).ok());
  CHECK_FALSE(store->next_due_ms().value());
  CHECK(store->get_operation("op-1").value()->status == "Succeeded");
}

TEST_CASE("a database file is migrated once and reopened", "[store]") {
  auto path = std::filesystem::temp_directory_path() / "acg-store-test.db";
  std::filesystem::remove(path);
  {
    auto s = open_sqlite_store(path.string());
    REQUIRE(s.ok());
    REQUIRE(s.value()->put(row("/x", "/")).ok());
  }
  auto s = open_sqlite_store(path.string());
  REQUIRE(s.ok());
  CHECK(s.value()->get("/x").value());
  CHECK(current_schema_version() >= 1);
  std::filesystem::remove(path);
  std::filesystem::remove(path.string() + "-wal");
  std::filesystem::remove(path.string() + "-shm");
}

TEST_CASE("resources are counted by type and location below a scope", "[store][quota]") {
  auto store = memory_store();
  auto located = [](const std::string& id, const std::string& type, const std::string& location) {
    return ResourceRow{id, type, "/subscriptions/s/resourceGroups/rg", id.substr(id.rfind('/') + 1),
                       "{\"id\":\"" + id + "\",\"location\":\"" + location + "\"}", 0};
  };
  const std::string g = "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Compute/galleries/";
  REQUIRE(store->put(located(g + "a", "Microsoft.Compute/galleries", "westus")).ok());
  REQUIRE(store->put(located(g + "b", "Microsoft.Compute/galleries", "westus")).ok());
  REQUIRE(store->put(located(g + "c", "Microsoft.Compute/galleries", "eastus")).ok());
  REQUIRE(store->put(located(g + "a/images/d", "Microsoft.Compute/galleries/images", "westus")).ok());
  REQUIRE(store->put(located("/subscriptions/other/resourceGroups/rg/providers/Microsoft.Compute/galleries/x",
                             "Microsoft.Compute/galleries", "westus"))
              .ok());
  CHECK(store->count_in_location("/subscriptions/s", "microsoft.compute/GALLERIES", "westus").value() == 2);
  CHECK(store->count_in_location("/subscriptions/s", "Microsoft.Compute/galleries", "eastus").value() == 1);
  CHECK(store->count_in_location("/subscriptions/s", "Microsoft.Compute/galleries", "northeurope").value() == 0);
  CHECK(store->count_in_location("/subscriptions/s", "Microsoft.Compute/galleries/images", "westus").value() == 1);
  auto by_location = store->count_by_location("/subscriptions/S", "Microsoft.Compute/galleries");
  REQUIRE(by_location.ok());
  using Counts = std::vector<std::pair<std::string, std::int64_t>>;
  CHECK(by_location.value() == Counts{{"eastus", 1}, {"westus", 2}});
  REQUIRE(store->remove(g + "a").ok());
  CHECK(store->count_in_location("/subscriptions/s", "Microsoft.Compute/galleries", "westus").value() == 1);
}
