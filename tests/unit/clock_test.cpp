#include <catch2/catch.hpp>

#include "emulator/clock.h"
#include "emulator/id_generator.h"
#include "emulator/text.h"

using namespace acg;

TEST_CASE("ARM timestamps format and parse", "[clock]") {
  CHECK(format_arm_time(0) == "1970-01-01T00:00:00.0000000+00:00");
  CHECK(format_arm_time(1795795200123) == "2026-11-27T16:00:00.1230000+00:00");
  std::int64_t ms = 0;
  REQUIRE(parse_iso8601("2030-01-01", ms));
  CHECK(ms == 1893456000000);
  REQUIRE(parse_iso8601("2030-01-01T12:59:59.000Z", ms));
  CHECK(ms == 1893456000000 + 46799000);
  REQUIRE(parse_iso8601("2030-01-01T02:00:00+02:00", ms));
  CHECK(ms == 1893456000000);
  REQUIRE(parse_iso8601(format_arm_time(1795795200123), ms));
  CHECK(ms == 1795795200123);
  for (const char* bad : {"", "2030", "2030-13-01", "2030-01-01T25:00", "yesterday", "2030-01-01T10:00:00Zjunk"})
    CHECK_FALSE(parse_iso8601(bad, ms));
}

TEST_CASE("a manual clock moves only when told", "[clock]") {
  ManualClock clock(1000);
  CHECK(clock.now_ms() == 1000);
  clock.advance_ms(250);
  CHECK(clock.now_ms() == 1250);
  SystemClock system;
  CHECK(system.now_ms() > 1700000000000);
}

TEST_CASE("ids are version-4 GUIDs, reproducible with a seed", "[ids]") {
  IdGenerator a(42), b(42), random;
  std::string first = a.uuid();
  CHECK(is_guid(first));
  CHECK(first[14] == '4');
  CHECK(first == b.uuid());
  CHECK(a.uuid() != first);
  CHECK(random.uuid() != random.uuid());
}
