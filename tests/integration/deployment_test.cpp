// ARM template deployments over HTTPS: the long-running PUT and its status, resources
// written through the same rules as direct calls, validation errors with nothing written,
// failing resources, copy loops and conditions, RBAC, az's JSONC body, cancel, and a run
// resumed after a restart.

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "tests/support/test_server.h"

using namespace acg::test;
using nlohmann::json;

namespace {

const std::string kResApi = "?api-version=2021-04-01";
const std::string kV = "?api-version=2022-03-03";

std::string deployment_path(const std::string& name) {
  return TestEmulator::group_path("rg") + "/providers/Microsoft.Resources/deployments/" + name;
}

json gallery_template() {
  std::ifstream in(std::string(ACG_TEMPLATES_DIR) + "/gallery.json");
  std::stringstream text;
  text << in.rdbuf();
  json t = json::parse(text.str(), nullptr, false);
  REQUIRE(t.is_object());
  return t;
}

json deployment(const json& tmpl, const json& parameters = json::object()) {
  json params = json::object();
  for (auto& [k, v] : parameters.items()) params[k] = {{"value", v}};
  return {{"properties", {{"mode", "Incremental"}, {"template", tmpl}, {"parameters", params}}}};
}

// A template of its own: {"resources": [...], "parameters": {...}, "outputs": {...}}.
json template_of(json members) {
  json t = {{"$schema", "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#"},
            {"contentVersion", "1.0.0.0"}};
  for (auto& [k, v] : members.items()) t[k] = v;
  return t;
}

json gallery_resource(const std::string& name_expr) {
  return {{"type", "Microsoft.Compute/galleries"}, {"apiVersion", "2022-03-03"}, {"name", name_expr},
          {"location", "[resourceGroup().location]"}};
}

struct Deploying {
  TestEmulator emu;

  explicit Deploying(acg::api::AppOptions options = test_options()) : emu(std::move(options)) { make_group(); }

  void make_group() {
    auto r = emu.arm("PUT", TestEmulator::group_path("rg") + kResApi, R"({"location":"westus"})");
    REQUIRE((r.status == 201 || r.status == 200));
  }

  ClientResponse put(const std::string& name, const json& body) {
    return emu.arm("PUT", deployment_path(name) + kResApi, body.dump());
  }

  // Deploys and waits for the end; returns the deployment as GET shows it.
  json deploy(const std::string& name, const json& body) {
    auto started = put(name, body);
    INFO(started.body);
    REQUIRE((started.status == 201 || started.status == 200));  // 200: a deployment of that name existed
    REQUIRE(!started.header("Azure-AsyncOperation").empty());
    auto done = poll_until_done(emu.http(), started.header("Azure-AsyncOperation"), emu.token());
    REQUIRE(done.status == 200);
    return get(name);
  }

  json get(const std::string& name) {
    auto r = emu.arm("GET", deployment_path(name) + kResApi);
    REQUIRE(r.status == 200);
    return r.json();
  }

  json operations(const std::string& name) {
    auto r = emu.arm("GET", TestEmulator::group_path("rg") + "/deployments/" + name + "/operations" + kResApi);
    REQUIRE(r.status == 200);
    return r.json()["value"];
  }

  int status_of(const std::string& path, const std::string& api = kV) { return emu.arm("GET", path + api).status; }
};

std::string error_code(const ClientResponse& r) { return r.json()["error"].value("code", ""); }
std::string error_message(const ClientResponse& r) { return r.json()["error"].value("message", ""); }

}  // namespace

TEST_CASE("a template deploys a gallery, a definition and a replicated version", "[deployment]") {
  Deploying d;
  auto started = d.put("gallery", deployment(gallery_template(), {{"galleryName", "galA"}, {"replicaCount", 2}}));
  INFO(started.body);
  REQUIRE(started.status == 201);
  CHECK(started.json()["properties"]["provisioningState"] == "Accepted");
  CHECK(started.json()["properties"]["parameters"]["galleryName"]["value"] == "galA");
  CHECK(started.json()["properties"]["parameters"]["location"]["value"] == "westus");  // default from resourceGroup()
  CHECK(!started.json().contains("acg:request"));
  const std::string status_url = started.header("Azure-AsyncOperation");
  CHECK(status_url.find("/providers/Microsoft.Resources/deployments/gallery/operationStatuses/") != std::string::npos);

  auto done = poll_until_done(d.emu.http(), status_url, d.emu.token());
  INFO(done.body);
  CHECK(done.json()["status"] == "Succeeded");
  json shown = d.get("gallery");
  const json& p = shown["properties"];
  CHECK(p["provisioningState"] == "Succeeded");
  CHECK(p["outputs"]["galleryUniqueName"]["value"] == kSub + "-GALA");
  CHECK(p["outputs"]["regionCount"] == json{{"type", "Int"}, {"value", 2}});
  CHECK(p["outputs"]["replication"]["value"] == "Succeeded");
  CHECK(p["outputResources"].size() == 4);

  // The resources exist, written by the same rules as direct calls.
  auto gallery = d.emu.arm("GET", TestEmulator::gallery_path("rg", "galA") + kV);
  REQUIRE(gallery.status == 200);
  CHECK(gallery.json()["tags"]["deployedBy"] == "gallery");
  auto version = d.emu.arm("GET", TestEmulator::gallery_path("rg", "galA") + "/images/ubuntu-22.04/versions/1.0.0" + kV +
                                      "&$expand=ReplicationStatus");
  REQUIRE(version.status == 200);
  CHECK(version.json()["properties"]["replicationStatus"]["aggregatedState"] == "Completed");
  CHECK(version.json()["properties"]["publishingProfile"]["targetRegions"][0]["regionalReplicaCount"] == 2);

  // One operation per resource, in dependency order (the snapshot and gallery before the version).
  json ops = d.operations("gallery");
  REQUIRE(ops.size() == 4);
  CHECK(ops[3]["properties"]["targetResource"]["resourceType"] == "Microsoft.Compute/galleries/images/versions");
  for (const json& op : ops) CHECK(op["properties"]["provisioningState"] == "Succeeded");
  auto one = d.emu.arm("GET", deployment_path("gallery") + "/operations/" + ops[0]["operationId"].get<std::string>() + kResApi);
  CHECK(one.status == 200);

  auto list = d.emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Resources/deployments" + kResApi);
  REQUIRE(list.status == 200);
  CHECK(list.json()["value"].size() == 1);
  auto exported = d.emu.arm("POST", deployment_path("gallery") + "/exportTemplate" + kResApi);
  CHECK(exported.json()["template"]["contentVersion"] == "1.0.0.0");

  // Deploying again is incremental: the same resources, updated in place.
  json again = d.deploy("gallery", deployment(gallery_template(), {{"galleryName", "galA"}, {"replicaCount", 2}}));
  CHECK(again["properties"]["provisioningState"] == "Succeeded");

  CHECK(d.emu.arm("DELETE", deployment_path("gallery") + kResApi).status == 204);
  CHECK(d.emu.arm("GET", deployment_path("gallery") + kResApi).status == 404);
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "galA")) == 200);  // deleting a deployment keeps its resources
}

TEST_CASE("validation refuses a bad template or parameters, and nothing is written", "[deployment]") {
  Deploying d;
  struct Case {
    const char* what;
    json body;
    std::string code;
    std::string message_part;
  };
  json simple = template_of({{"parameters", {{"name", {{"type", "string"}}}}},
                             {"resources", json::array({gallery_resource("[parameters('name')]")})}});
  json bad_function = template_of({{"resources", json::array({gallery_resource("[nosuch('x')]")})}});
  json cycle = template_of({{"resources", json::array({gallery_resource("a"), gallery_resource("b")})}});
  cycle["resources"][0]["dependsOn"] = {"b"};
  cycle["resources"][1]["dependsOn"] = {"a"};
  json missing_dependency = template_of({{"resources", json::array({gallery_resource("a")})}});
  missing_dependency["resources"][0]["dependsOn"] = {"[resourceId('Microsoft.Compute/galleries', 'zzz')]"};
  json nested = template_of({{"resources", json::array({{{"type", "Microsoft.Resources/deployments"},
                                                          {"apiVersion", "2021-04-01"}, {"name", "inner"}}})}});
  json symbolic = template_of({{"languageVersion", "2.0"}, {"resources", json::object()}});
  json segments = template_of({{"resources", json::array({{{"type", "Microsoft.Compute/galleries/images"},
                                                            {"apiVersion", "2022-03-03"}, {"name", "onlyone"}}})}});
  json linked = {{"properties", {{"mode", "Incremental"}, {"templateLink", {{"uri", "https://example.com/t.json"}}}}}};
  json complete = deployment(simple, {{"name", "g"}});
  complete["properties"]["mode"] = "Complete";

  std::vector<Case> cases = {
      {"a missing parameter", deployment(simple), "InvalidTemplate", "'name' is not provided"},
      {"a parameter of the wrong type", deployment(simple, {{"name", 5}}), "InvalidTemplate", "Expected 'String'. Actual 'Integer'"},
      {"a parameter the template lacks", deployment(simple, {{"name", "g"}, {"extra", 1}}), "InvalidTemplate", "'extra'"},
      {"a value outside allowedValues", deployment(gallery_template(), {{"galleryName", "g"}, {"osType", "Solaris"}}),
       "InvalidTemplate", "not part of the allowed value(s): 'Linux,Windows'"},
      {"a value below minValue", deployment(gallery_template(), {{"galleryName", "g"}, {"replicaCount", 0}}),
       "InvalidTemplate", "greater than or equal to '1'"},
      {"an unknown function", deployment(bad_function), "InvalidTemplate", "'nosuch'"},
      {"a dependency cycle", deployment(cycle), "InvalidTemplate", "Circular dependency"},
      {"a dependency on nothing", deployment(missing_dependency), "InvalidTemplate", "is not defined in the template"},
      {"a nested deployment", deployment(nested), "InvalidTemplate", "nested deployments"},
      {"symbolic names", deployment(symbolic), "InvalidTemplate", "languageVersion"},
      {"wrong name segments", deployment(segments), "InvalidTemplate", "incorrect segment lengths"},
      {"a template link", linked, "InvalidTemplate", "templateLink"},
      {"Complete mode", complete, "InvalidTemplate", "'Complete'"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto validated = d.emu.arm("POST", deployment_path("bad") + "/validate" + kResApi, c.body.dump());
    INFO(validated.body);
    CHECK(validated.status == 400);
    CHECK(error_code(validated) == c.code);
    CHECK(error_message(validated).find(c.message_part) != std::string::npos);
    auto put = d.put("bad", c.body);
    CHECK(put.status == 400);
    CHECK(error_code(put) == c.code);
  }
  CHECK(d.emu.arm("GET", deployment_path("bad") + kResApi).status == 404);
  auto galleries = d.emu.arm("GET", TestEmulator::group_path("rg") + "/providers/Microsoft.Compute/galleries" + kV);
  CHECK(galleries.json()["value"].empty());

  auto validated = d.emu.arm("POST", deployment_path("good") + "/validate" + kResApi,
                             deployment(gallery_template(), {{"galleryName", "galV"}}).dump());
  INFO(validated.body);
  REQUIRE(validated.status == 200);
  CHECK(validated.json()["properties"]["validatedResources"].size() == 4);
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "galV")) == 404);  // validate writes nothing

  auto bad_name = d.put(std::string(65, 'n'), deployment(simple, {{"name", "g"}}));
  CHECK(bad_name.status == 400);
  CHECK(error_code(bad_name) == "DeploymentNameLengthLimitExceeded");
  auto no_group = d.emu.arm("PUT", TestEmulator::group_path("nogroup") + "/providers/Microsoft.Resources/deployments/x" + kResApi,
                            deployment(simple, {{"name", "g"}}).dump());
  CHECK(no_group.status == 404);
  CHECK(error_code(no_group) == "ResourceGroupNotFound");
}

TEST_CASE("a resource the service refuses fails the deployment with the resource's error", "[deployment]") {
  Deploying d;
  json shown = d.deploy("bad-version", deployment(gallery_template(), {{"galleryName", "galF"}, {"versionName", "1.0"}}));
  const json& p = shown["properties"];
  CHECK(p["provisioningState"] == "Failed");
  CHECK(p["error"]["code"] == "DeploymentFailed");
  REQUIRE(p["error"]["details"].size() == 1);
  CHECK(p["error"]["details"][0]["code"] == "InvalidParameter");
  CHECK(p["error"]["details"][0]["target"] == "galleryImageVersionName");
  CHECK(!p.contains("outputs"));

  json ops = d.operations("bad-version");
  REQUIRE(ops.size() == 4);
  CHECK(ops[3]["properties"]["provisioningState"] == "Failed");
  CHECK(ops[3]["properties"]["statusCode"] == "BadRequest");
  CHECK(ops[3]["properties"]["statusMessage"]["error"]["code"] == "InvalidParameter");
  // Incremental: what was written before the failure stays.
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "galF")) == 200);

  // A version in a region that does not serve galleries: the replication rules apply too.
  json tmpl = gallery_template();
  auto regions = d.deploy("bad-region", deployment(tmpl, {{"galleryName", "galG"}, {"replicaRegions", {"nowhere"}}}));
  CHECK(regions["properties"]["provisioningState"] == "Failed");
  CHECK(regions["properties"]["error"]["details"][0]["code"] != "");
}

TEST_CASE("copy loops, conditions, child resources, functions and outputs", "[deployment]") {
  Deploying d;
  json galleries = gallery_resource("[format('loop{0:D2}', copyIndex(1))]");
  galleries["copy"] = {{"name", "galleryLoop"}, {"count", "[parameters('count')]"}};
  galleries["properties"] = {{"description", "[concat('gallery ', string(copyIndex()), ' of ', string(parameters('count')))]"}};
  json skipped = gallery_resource("skipped");
  skipped["condition"] = "[equals(parameters('withExtra'), 'yes')]";
  json last = gallery_resource("[toLower('LAST')]");
  last["dependsOn"] = {"galleryLoop", "skipped"};
  last["tags"] = {{"count", "[string(length(range(0, parameters('count'))))]"},
                  {"first", "[first(split('a,b,c', ','))]"},
                  {"kind", "[if(greater(parameters('count'), 2), 'many', 'few')]"},
                  {"escaped", "[[not an expression]"},
                  {"upper", "[toUpper(substring(variables('word'), 0, 3))]"}};
  json tmpl = template_of({{"parameters", {{"count", {{"type", "int"}, {"defaultValue", 3}}},
                                           {"withExtra", {{"type", "string"}, {"defaultValue", "no"}}}}},
                           {"variables", {{"word", "gallery"}}},
                           {"resources", json::array({last, galleries, skipped})},
                           {"outputs", {{"names", {{"type", "array"}, {"value", "[createArray(reference('loop01').identifier.uniqueName, reference('last', '2022-03-03', 'Full').name)]"}}},
                                        {"sum", {{"type", "int"}, {"value", "[add(mul(2, 3), mod(7, 4))]"}}},
                                        {"same", {{"type", "string"}, {"value", "[uniqueString(resourceGroup().id)]"}}}}}});
  json shown = d.deploy("loops", deployment(tmpl));
  INFO(shown.dump());
  const json& p = shown["properties"];
  REQUIRE(p["provisioningState"] == "Succeeded");
  for (const char* name : {"loop01", "loop02", "loop03", "last"})
    CHECK(d.status_of(TestEmulator::gallery_path("rg", name)) == 200);
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "skipped")) == 404);
  auto loop2 = d.emu.arm("GET", TestEmulator::gallery_path("rg", "loop02") + kV);
  CHECK(loop2.json()["properties"]["description"] == "gallery 1 of 3");
  auto tags = d.emu.arm("GET", TestEmulator::gallery_path("rg", "last") + kV).json()["tags"];
  CHECK(tags == json{{"count", "3"}, {"first", "a"}, {"kind", "many"}, {"escaped", "[not an expression]"}, {"upper", "GAL"}});
  CHECK(p["outputs"]["names"]["value"] == json::array({kSub + "-LOOP01", "last"}));
  CHECK(p["outputs"]["sum"]["value"] == 9);
  CHECK(p["outputs"]["same"]["value"].get<std::string>().size() == 13);
  // "last" waits for the whole loop: it is the last operation.
  json ops = d.operations("loops");
  REQUIRE(ops.size() == 4);
  CHECK(ops[3]["properties"]["targetResource"]["resourceName"] == "last");
}

TEST_CASE("az's body: the template file's text under an unquoted key, with comments", "[deployment]") {
  Deploying d;
  const std::string body = R"({"properties": {"parameters": {"name": {"value": "galjsonc"}}, "mode": "Incremental", template:{
    // a comment, as template files may have
    "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
    "contentVersion": "1.0.0.0",
    "parameters": { "name": { "type": "string" }, },  /* trailing comma */
    "resources": [ { "type": "Microsoft.Compute/galleries", "apiVersion": "2021-10-01",
                     "name": "[parameters('name')]", "location": "westus" } ]
  }}})";
  auto started = d.emu.arm("PUT", deployment_path("jsonc") + kResApi, body);
  INFO(started.body);
  REQUIRE(started.status == 201);
  poll_until_done(d.emu.http(), started.header("Azure-AsyncOperation"), d.emu.token());
  CHECK(d.get("jsonc")["properties"]["provisioningState"] == "Succeeded");
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "galjsonc")) == 200);
  auto broken = d.emu.arm("PUT", deployment_path("broken") + kResApi, R"({"properties": {template: {)");
  CHECK(broken.status == 400);
  CHECK(error_code(broken) == "InvalidRequestContent");
}

TEST_CASE("a Reader may not deploy; a deployment writes with its principal's own rights", "[deployment][rbac]") {
  const std::string reader = "44444444-4444-4444-4444-444444444444";
  auto dir = std::filesystem::temp_directory_path() / ("acg-deploy-rbac-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string config = (dir / "config.json").string();
  const std::string publisher = "66666666-6666-6666-6666-666666666666";
  auto principal = [](const std::string& id, const std::string& secret, const std::string& oid) {
    return json{{"clientId", id}, {"secret", secret}, {"tenantId", kTenant}, {"objectId", oid}, {"displayName", id}};
  };
  auto assignment = [](const std::string& id, const std::string& role) {
    return json{{"clientId", id}, {"role", role}, {"scope", "/subscriptions/" + kSub}};
  };
  std::ofstream(config) << json{{"principals", {principal(reader, "reader-secret", "55555555-5555-5555-5555-555555555555"),
                                                principal(publisher, "publisher-secret", "77777777-7777-7777-7777-777777777777")}},
                                {"roleAssignments", {assignment(reader, "Reader"),
                                                     assignment(publisher, "Compute Gallery Artifacts Publisher")}}}
                               .dump();
  Deploying d(test_options([&](acg::api::AppOptions& o) { o.config_file = config; }));
  const std::string token = d.emu.token(reader, "reader-secret");
  auto refused = d.emu.http().request("PUT", deployment_path("r") + kResApi,
                                      deployment(gallery_template(), {{"galleryName", "galR"}}).dump(),
                                      {{"Authorization", "Bearer " + token}, {"Content-Type", "application/json"}});
  INFO(refused.body);
  CHECK(refused.status == 403);
  CHECK(error_code(refused) == "AuthorizationFailed");
  CHECK(error_message(refused).find("Microsoft.Resources/deployments/write") != std::string::npos);

  // The publisher may deploy and write galleries, but not snapshots: its deployment fails on
  // the snapshot (its first resource) with the refusal a direct PUT would get.
  const std::string publisher_token = d.emu.token(publisher, "publisher-secret");
  const Headers as_publisher = {{"Authorization", "Bearer " + publisher_token}, {"Content-Type", "application/json"}};
  auto started = d.emu.http().request("PUT", deployment_path("p") + kResApi,
                                      deployment(gallery_template(), {{"galleryName", "galP"}}).dump(), as_publisher);
  INFO(started.body);
  REQUIRE(started.status == 201);
  auto done = poll_until_done(d.emu.http(), started.header("Azure-AsyncOperation"), publisher_token);
  CHECK(done.json()["status"] == "Failed");
  CHECK(done.json()["error"]["details"][0]["code"] == "AuthorizationFailed");
  CHECK(done.json()["error"]["details"][0]["message"].get<std::string>().find("Microsoft.Compute/snapshots/write") !=
        std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("a running deployment can be canceled, and resumes after a restart", "[deployment][persistence]") {
  auto dir = std::filesystem::temp_directory_path() / ("acg-deploy-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto options = test_options([&](acg::api::AppOptions& o) {
    o.in_memory = false;
    o.data_dir = dir.string();
    o.virtual_clock = true;  // replication waits for the test to move time
    o.replication_speed = 1;
  });
  {
    Deploying d(options);
    // Cancel: the run stops before its next resource; what it wrote stays.
    auto started = d.put("cancel-me", deployment(gallery_template(), {{"galleryName", "galC"}}));
    REQUIRE(started.status == 201);
    for (int i = 0; i < 200 && d.operations("cancel-me").size() < 3; ++i) usleep(10000);
    auto canceled = d.emu.arm("POST", deployment_path("cancel-me") + "/cancel" + kResApi);
    CHECK(canceled.status == 204);
    auto done = poll_until_done(d.emu.http(), started.header("Azure-AsyncOperation"), d.emu.token());
    CHECK(done.json()["status"] == "Canceled");
    CHECK(d.emu.arm("POST", deployment_path("cancel-me") + "/cancel" + kResApi).status == 409);

    // Left running (its version replicates for simulated minutes) when the emulator stops.
    REQUIRE(d.put("resume-me", deployment(gallery_template(), {{"galleryName", "galS"}})).status == 201);
    for (int i = 0; i < 200 && d.operations("resume-me").size() < 3; ++i) usleep(10000);
    CHECK(d.get("resume-me")["properties"]["provisioningState"] == "Running");
    auto again = d.put("resume-me", deployment(gallery_template(), {{"galleryName", "galS"}}));
    CHECK(again.status == 409);
    CHECK(error_code(again) == "DeploymentActive");
  }
  Deploying d(options);
  auto advanced = d.emu.http().request("POST", "/_emulator/clock/advance", R"({"seconds": 7200})",
                                       {{"Content-Type", "application/json"}});
  REQUIRE(advanced.status == 200);
  std::string state;
  for (int i = 0; i < 300 && state != "Succeeded"; ++i, usleep(10000)) state = d.get("resume-me")["properties"]["provisioningState"];
  CHECK(state == "Succeeded");
  CHECK(d.status_of(TestEmulator::gallery_path("rg", "galS") + "/images/ubuntu-22.04/versions/1.0.0") == 200);
  std::filesystem::remove_all(dir);
}
