#include <catch2/catch.hpp>

#include "api/http_message.h"
#include "api/router.h"

using namespace acg::api;

TEST_CASE("routes match case-insensitively and capture segments", "[router]") {
  Router router;
  int hit = 0;
  router.add("GET", "/subscriptions/{sub}/resourcegroups/{rg}", ApiFamily::resources, true, [&](RequestContext&) {
    hit = 1;
    return HttpResponse{};
  });
  router.add("PUT", "/subscriptions/{sub}/resourcegroups/{rg}", ApiFamily::resources, true,
             [&](RequestContext&) { return HttpResponse{}; });
  auto m = router.match("GET", "/subscriptions/S1/resourceGroups/MyRg");
  REQUIRE(m.route);
  CHECK(m.params["sub"] == "S1");
  CHECK(m.params["rg"] == "MyRg");
  CHECK(router.match("GET", "//subscriptions/S1/RESOURCEGROUPS/x/").route);
  auto wrong = router.match("POST", "/subscriptions/S1/resourceGroups/MyRg");
  CHECK_FALSE(wrong.route);
  CHECK(wrong.other_method);
  auto none = router.match("GET", "/subscriptions/S1");
  CHECK_FALSE(none.route);
  CHECK_FALSE(none.other_method);
}

TEST_CASE("targets are split and percent-decoded", "[http]") {
  auto t = parse_target("/a/b%20c?api-version=2022-03-03&%24skiptoken=x%2By&flag");
  CHECK(t.path == "/a/b c");
  REQUIRE(t.query_value("api-version"));
  CHECK(*t.query_value("API-VERSION") == "2022-03-03");
  CHECK(*t.query_value("$skipToken") == "x+y");
  CHECK(t.query_value("flag")->empty());
  CHECK(percent_decode("%zz%4", false) == "%zz%4");
  CHECK(percent_encode("a b/$") == "a%20b%2F%24");
  auto form = parse_form("grant_type=client_credentials&scope=https%3A%2F%2Fx%2F.default&a=b+c");
  CHECK(form[1].second == "https://x/.default");
  CHECK(form[2].second == "b c");
}
