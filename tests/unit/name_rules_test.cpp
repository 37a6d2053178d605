#include <catch2/catch.hpp>

#include "emulator/name_rules.h"
#include "emulator/text.h"

using namespace acg;

TEST_CASE("gallery names follow the documented rules", "[names]") {
  for (const char* ok : {"a", "myGallery", "gallery_1", "my.gallery.2", "A1"}) CHECK(check_gallery_name(ok).ok());
  CHECK(check_gallery_name(std::string(80, 'x')).ok());
  for (const char* bad : {"", "has-dash", "_lead", ".lead", "trail.", "trail_", "sp ace", "ünï"}) {
    auto st = check_gallery_name(bad);
    REQUIRE_FALSE(st.ok());
    CHECK(st.error().status == 400);
    CHECK(st.error().code == "InvalidParameter");
    CHECK(st.error().target == "galleryName");
  }
  CHECK_FALSE(check_gallery_name(std::string(81, 'x')).ok());
  CHECK(check_gallery_name("trail.").error().message.find("invalid trailing characters") != std::string::npos);
}

TEST_CASE("resource group names follow ARM's rules", "[names]") {
  for (const char* ok : {"rg", "my-rg_(1).x", "RG"}) CHECK(check_resource_group_name(ok).ok());
  CHECK(check_resource_group_name(std::string(90, 'r')).ok());
  for (const char* bad : {"", "ends.", "has space", "a/b", "semi;colon"}) CHECK_FALSE(check_resource_group_name(bad).ok());
  CHECK_FALSE(check_resource_group_name(std::string(91, 'r')).ok());
}

TEST_CASE("case-insensitive helpers", "[text]") {
  CHECK(iequals("resourceGroups", "RESOURCEGROUPS"));
  CHECK_FALSE(iequals("a", "ab"));
  CHECK(istarts_with("Bearer x", "bearer "));
  CHECK(is_guid("22222222-2222-2222-2222-222222222222"));
  CHECK_FALSE(is_guid("22222222-2222-2222-2222-22222222222g"));
  CHECK(path_segments("/subscriptions/S/resourceGroups/G") == std::vector<std::string>{"subscriptions", "S", "resourceGroups", "G"});
  CHECK(path_segments("a//b") == std::vector<std::string>{"a", "", "b"});
  CHECK(path_segments("") == std::vector<std::string>{""});
}
