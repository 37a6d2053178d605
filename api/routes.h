#pragma once
// The route table: every path the emulator serves, grouped by the file that handles it.

#include <atomic>
#include <cstdint>
#include <string>

#include "api/router.h"

namespace acg {
class Emulator;
}

namespace acg::api {

class TokenService;
class DeploymentRunner;
class Metrics;
class Seeder;

// The ports the emulator listens on, for /_emulator/health; set once each listener is bound.
struct ListenerPorts {
  std::atomic<std::uint16_t> https{0};
  std::atomic<std::uint16_t> proxy{0};  // 0: off
  std::atomic<std::uint16_t> ssh{0};    // 0: off
};

// What the handlers need; owned by the App, outliving every request.
struct Services {
  Emulator& emulator;
  TokenService& tokens;
  std::string ca_certificate_pem;
  std::string version;     // emulator version for /_emulator/health
  std::string cloud_name;  // name in the metadata document
  DeploymentRunner* deployments = nullptr;  // set once the pipeline it writes through exists
  Metrics* metrics = nullptr;               // operator metrics (api/metrics.h), when kept
  Seeder* seeder = nullptr;                 // likewise (seed files and snapshots)
  // How the emulator sends a request through its own pipeline as a principal (Image Builder's
  // distribution); set once the pipeline exists.
  std::function<HttpResponse(const HttpRequest&, const Principal&)> dispatch;
  std::int64_t next_run_sweep_ms = 0;  // advance_image_builder_runs' schedule (the tick is serial)
  const ListenerPorts* ports = nullptr;     // set by App
};

void add_identity_routes(Router& router, Services& services);      // metadata, OIDC, tokens
void add_subscription_routes(Router& router, Services& services);  // subscriptions, tenants, providers
void add_resource_group_routes(Router& router, Services& services);
void add_gallery_routes(Router& router, Services& services);       // galleries, operation status
void add_admin_routes(Router& router, Services& services);         // /_emulator/*
void add_source_routes(Router& router, Services& services);        // VM generalize (source resources)
void add_network_routes(Router& router, Services& services);       // virtual network subnets
void add_authorization_routes(Router& router, Services& services); // role assignments and definitions
void add_sharing_routes(Router& router, Services& services);       // share action, shared/community galleries
void add_deployment_routes(Router& router, Services& services);    // ARM template deployments
void add_dashboard_routes(Router& router, Services& services);     // /_emulator/ui: the live dashboard
void add_metrics_routes(Router& router, Services& services);       // GET /_emulator/metrics
void add_seed_routes(Router& router, Services& services);          // /_emulator/seed, /_emulator/snapshot
void add_cost_routes(Router& router, Services& services);          // GET /_emulator/cost, VMs by subscription
void add_quota_routes(Router& router, Services& services);         // Compute usages, /_emulator/quotas
void add_marketplace_routes(Router& router, Services& services);   // Microsoft.MarketplaceOrdering agreements
void add_policy_routes(Router& router, Services& services);        // policy definitions, assignments, events
void add_image_builder_routes(Router& router, Services& services); // image templates, runs, identities list
// Moves every Image Builder run in progress up to the emulator's now (at most once a second):
// called from the server's tick, so a run nobody polls still distributes on time.
void advance_image_builder_runs(Services& services);
// Operations of the real API that this build does not serve yet: 501 NotImplemented.
void add_not_implemented_routes(Router& router);

// Every route, in matching order.
Router build_router(Services& services);

}  // namespace acg::api
