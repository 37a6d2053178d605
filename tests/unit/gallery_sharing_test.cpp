// The share action's rules and who may see a gallery (emulator/gallery_sharing.h), without HTTP.

#include <catch2/catch.hpp>

#include "emulator/gallery_sharing.h"
#include "emulator/text.h"

using namespace acg;
using nlohmann::json;

namespace {

const std::string kTenantA = "11111111-1111-1111-1111-111111111111";
const std::string kSubA = "22222222-2222-2222-2222-222222222222";
const std::string kSubB = "55555555-5555-5555-5555-555555555555";
const std::string kTenantB = "66666666-6666-6666-6666-666666666666";

json gallery(const json& sharing) {
  return {{"id", "/subscriptions/" + kSubA + "/resourceGroups/rg/providers/Microsoft.Compute/galleries/g"},
          {"name", "g"},
          {"properties", {{"identifier", {{"uniqueName", kSubA + "-G"}}}, {"sharingProfile", sharing}}}};
}

SharingUpdate parsed(const json& body) {
  auto update = parse_sharing_update(body);
  REQUIRE(update.ok());
  return *update;
}

const SharingContext kContext{kTenantA, false, "00000000-0000-4000-8000-000000000001"};

}  // namespace

TEST_CASE("a SharingUpdate is checked and canonically spelled", "[sharing]") {
  auto update = parsed({{"operationType", "add"}, {"groups", {{{"type", "subscriptions"}, {"ids", {kSubB}}}}}});
  CHECK(update.operation == "Add");
  CHECK(update.to_json() ==
        json{{"operationType", "Add"}, {"groups", {{{"type", "Subscriptions"}, {"ids", {kSubB}}}}}});
  CHECK(parsed({{"operationType", "Reset"}}).to_json() == json{{"operationType", "Reset"}});

  for (const json& bad : {json{{"groups", json::array()}}, json{{"operationType", "Publish"}},
                          json{{"operationType", "Add"}}, json{{"operationType", "Remove"}, {"groups", json::array()}},
                          json{{"operationType", "Add"}, {"groups", {{{"type", "Users"}, {"ids", {kSubB}}}}}},
                          json{{"operationType", "Add"}, {"groups", {{{"type", "Subscriptions"}, {"ids", {"sub-b"}}}}}},
                          json{{"operationType", "Add"}, {"groups", {{{"type", "Subscriptions"}, {"ids", {42}}}}}}}) {
    INFO(bad.dump());
    auto refused = parse_sharing_update(bad);
    REQUIRE_FALSE(refused.ok());
    CHECK(refused.error().status == 400);
  }
}

TEST_CASE("Add and Remove merge ids into a Groups gallery's groups, within the limits", "[sharing]") {
  json g = gallery({{"permissions", "Groups"}});
  auto added = apply_sharing_update(
      g, parsed({{"operationType", "Add"}, {"groups", {{{"type", "Subscriptions"}, {"ids", {kSubB, kSubB}}}}}}),
      kContext);
  REQUIRE(added.ok());
  CHECK((*added)["groups"] == json::array({{{"type", "Subscriptions"}, {"ids", {kSubB}}}}));

  g["properties"]["sharingProfile"] = *added;
  auto removed = apply_sharing_update(
      g, parsed({{"operationType", "Remove"}, {"groups", {{{"type", "Subscriptions"}, {"ids", {to_upper(kSubB)}}}}}}),
      kContext);
  REQUIRE(removed.ok());
  CHECK_FALSE(removed->contains("groups"));

  json many = json::array();
  for (int i = 0; i < 31; ++i) many.push_back("00000000-0000-4000-8000-0000000000" + std::to_string(10 + i));
  auto over = apply_sharing_update(
      g, parsed({{"operationType", "Add"}, {"groups", {{{"type", "Subscriptions"}, {"ids", many}}}}}), kContext);
  REQUIRE_FALSE(over.ok());
  CHECK(over.error().code == "InvalidParameter");

  auto foreign = apply_sharing_update(
      g, parsed({{"operationType", "Add"}, {"groups", {{{"type", "AADTenants"}, {"ids", {kTenantB}}}}}}), kContext);
  REQUIRE_FALSE(foreign.ok());
  CHECK(foreign.error().code == "CrossTenantSharingNotSupported");
  SharingContext allowed = kContext;
  allowed.allow_cross_tenant = true;
  CHECK(apply_sharing_update(
            g, parsed({{"operationType", "Add"}, {"groups", {{{"type", "AADTenants"}, {"ids", {kTenantB}}}}}}), allowed)
            .ok());

  auto on_private = apply_sharing_update(
      gallery({{"permissions", "Private"}}),
      parsed({{"operationType", "Add"}, {"groups", {{{"type", "AADTenants"}, {"ids", {kTenantA}}}}}}), kContext);
  REQUIRE_FALSE(on_private.ok());
  CHECK(on_private.error().status == 409);
}

TEST_CASE("EnableCommunity makes a community gallery public until Reset", "[sharing][community]") {
  const json info = {{"publisherUri", "u"}, {"publisherContact", "c"}, {"eula", "e"}, {"publicNamePrefix", "pre"}};
  json g = gallery({{"permissions", "Community"}, {"communityGalleryInfo", info}});
  CHECK(public_names(g).empty());
  CHECK(check_community_delete(g).ok());
  auto enabled = apply_sharing_update(g, parsed({{"operationType", "EnableCommunity"}}), kContext);
  REQUIRE(enabled.ok());
  g["properties"]["sharingProfile"] = *enabled;
  CHECK(public_names(g) == std::vector<std::string>{"pre-00000000-0000-4000-8000-000000000001"});
  CHECK(check_community_delete(g).error().status == 409);

  SharingContext again = kContext;
  again.public_name_guid = "00000000-0000-4000-8000-000000000002";
  CHECK((*apply_sharing_update(g, parsed({{"operationType", "EnableCommunity"}}), again)) == *enabled);

  auto reset = apply_sharing_update(g, parsed({{"operationType", "Reset"}}), kContext);
  REQUIRE(reset.ok());
  g["properties"]["sharingProfile"] = *reset;
  CHECK(public_names(g).empty());
  CHECK(check_community_delete(g).ok());

  json bare = gallery({{"permissions", "Community"}});
  CHECK(apply_sharing_update(bare, parsed({{"operationType", "EnableCommunity"}}), kContext).error().status == 400);
}

TEST_CASE("a gallery is shared with a subscription or its whole tenant", "[sharing]") {
  json g = gallery(
      {{"permissions", "Groups"},
       {"groups", {{{"type", "Subscriptions"}, {"ids", {kSubB}}}, {{"type", "AADTenants"}, {"ids", {kTenantB}}}}}});
  CHECK(shared_with(g, Consumer{kSubB, kTenantA}, false));
  CHECK_FALSE(shared_with(g, Consumer{kSubB, kTenantA}, true));
  CHECK(shared_with(g, Consumer{"77777777-7777-7777-7777-777777777777", kTenantB}, true));
  CHECK_FALSE(shared_with(g, Consumer{kSubA, kTenantA}, false));  // its owner is not a consumer
}
