#include <catch2/catch.hpp>

#include "emulator/version_name.h"

using namespace acg;

TEST_CASE("version names are Major.Minor.Patch within int32", "[versions]") {
  for (const char* ok : {"0.0.0", "1.0.0", "2018.12.1", "2147483647.2147483647.2147483647", "01.0.0"})
    CHECK(parse_version_name(ok));
  for (const char* bad : {"", "1", "1.0", "1.0.0.0", "1..0", ".1.0", "1.0.", "a.b.c", "1.0.-1", "2147483648.0.0",
                          "7.9.2201041542", " 1.0.0", "1.0.0 ", "+1.0.0", "99999999999.0.0", "1.0.0-beta"})
    CHECK_FALSE(parse_version_name(bad));
  CHECK(parse_version_name("1.2.3")->patch == 3);
}

TEST_CASE("versions compare numerically, not lexically", "[versions]") {
  CHECK(*parse_version_name("1.10.0") > *parse_version_name("1.9.0"));
  CHECK(*parse_version_name("2.0.0") > *parse_version_name("1.99.99"));
  CHECK(*parse_version_name("1.0.10") > *parse_version_name("1.0.9"));
  CHECK(*parse_version_name("01.0.0") == *parse_version_name("1.0.0"));
}
