// Microsoft.Network resources (see network_types.h): public IP addresses, virtual networks
// with inline subnets, network interfaces and network security groups. The error codes and
// messages are Network's (NRP's) own, as clients and templates meet them.

#include "emulator/network_types.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <optional>
#include <set>

#include "emulator/clock.h"
#include "emulator/region_catalog.h"
#include "emulator/request_body.h"
#include "emulator/source_rules.h"
#include "emulator/text.h"

namespace acg {

using nlohmann::json;

namespace {

// --- Names, references, addresses -----------------------------------------------------------

// Network's name rule: 1-80 word characters, '.', '-' or '_', starting with a word character
// and ending with one or '_'.
Status check_network_name(std::string_view name) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_'; };
  bool ok = !name.empty() && name.size() <= 80 && word(name.front()) && word(name.back());
  for (char c : name)
    if (!word(c) && c != '.' && c != '-') ok = false;
  if (ok) return ok_status();
  return bad_request("InvalidResourceName",
                     "Resource name " + std::string(name) +
                         " is invalid. The name can be up to 80 characters long. It must begin with a word character, "
                         "and it must end with a word character or with '_'. The name may contain word characters or "
                         "'.', '-', '_'.");
}

ArmError invalid_reference(const std::string& referenced, const std::string& by) {
  return bad_request("InvalidResourceReference",
                     "Resource " + referenced + " referenced by resource " + by +
                         " was not found. Please make sure that the referenced resource exists, and that both "
                         "resources are in the same region.");
}

// An IPv4 prefix "10.0.0.0/16".
struct Prefix {
  std::uint32_t network = 0;
  int length = 0;
  std::uint32_t mask() const { return length == 0 ? 0 : ~std::uint32_t{0} << (32 - length); }
  std::uint32_t first() const { return network; }
  std::uint32_t last() const { return network | ~mask(); }
  bool contains(const Prefix& other) const { return other.first() >= first() && other.last() <= last(); }
  bool overlaps(const Prefix& other) const { return other.first() <= last() && first() <= other.last(); }
};

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  std::uint32_t out = 0;
  int parts = 0;
  size_t i = 0;
  while (parts < 4) {
    size_t start = i;
    std::uint32_t octet = 0;
    while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && i - start < 3)
      octet = octet * 10 + static_cast<std::uint32_t>(text[i++] - '0');
    if (i == start || octet > 255) return std::nullopt;
    out = (out << 8) | octet;
    if (++parts < 4) {
      if (i >= text.size() || text[i] != '.') return std::nullopt;
      ++i;
    }
  }
  if (i != text.size()) return std::nullopt;
  return out;
}

std::string format_ipv4(std::uint32_t a) {
  return std::to_string(a >> 24) + "." + std::to_string((a >> 16) & 255) + "." + std::to_string((a >> 8) & 255) + "." +
         std::to_string(a & 255);
}

std::optional<Prefix> parse_prefix_text(std::string_view text) {
  const size_t slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = parse_ipv4(text.substr(0, slash));
  std::string_view length = text.substr(slash + 1);
  if (!address || length.empty() || length.size() > 2 ||
      !std::all_of(length.begin(), length.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
    return std::nullopt;
  const int bits = std::stoi(std::string(length));
  if (bits > 32) return std::nullopt;
  return Prefix{*address, bits};
}

// A prefix of resource `owner`: CIDR-shaped (InvalidAddressPrefixFormat) with no host bits set
// (InvalidCIDRNotation), as NRP checks them.
Result<Prefix> parse_prefix(const json& value, const std::string& owner) {
  const std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  auto prefix = parse_prefix_text(text);
  if (!prefix)
    return bad_request("InvalidAddressPrefixFormat", "Address prefix " + text + " of resource " + owner +
                                                         " is not formatted correctly. It should follow CIDR notation, "
                                                         "for example 10.0.0.0/24.");
  if ((prefix->network & ~prefix->mask()) != 0)
    return bad_request("InvalidCIDRNotation",
                       "The address prefix " + text + " in resource " + owner +
                           " has an invalid CIDR notation. For the given prefix length, the address prefix should be " +
                           format_ipv4(prefix->network & prefix->mask()) + "/" + std::to_string(prefix->length) + ".");
  return *prefix;
}

// The subscription part of an id: "/subscriptions/{sub}".
std::string subscription_scope(const std::string& id) {
  const size_t next = id.find('/', std::string("/subscriptions/").size());
  return id.substr(0, next);
}

// Every NIC of the subscription that `id` is in.
Result<std::vector<json>> nics_of_subscription(const std::string& id, Lookup& lookup) {
  return lookup.in_scope(subscription_scope(id), "Microsoft.Network/networkInterfaces");
}

std::vector<json> ip_configurations(const json& nic) {
  return nic.value("/properties/ipConfigurations"_json_pointer, json::array()).get<std::vector<json>>();
}

std::string config_ref(const json& config, const char* key) {
  return json_member(config, "properties").is_object() ? reference_id(config["properties"], key) : std::string();
}

// The id of an ipConfiguration of `nic` whose `key` reference starts with `target` (the
// target itself, or something inside it), or empty.
std::string config_referring_to(const json& nic, const char* key, const std::string& target, bool inside) {
  for (const json& config : ip_configurations(nic)) {
    const std::string ref = to_lower(config_ref(config, key));
    const std::string t = to_lower(target);
    if (ref == t || (inside && istarts_with(ref, t + "/"))) return config.value("id", "");
  }
  return {};
}

class NetworkType : public ResourceType {
 public:
  bool needs_gallery_region() const override { return false; }
  Status check_name(std::string_view name) const override { return check_network_name(name); }
  void apply_members(json& resource, const json& /*body*/, const WriteRequest& request) const override {
    // NRP's etag changes on every write; the core's clock is not reachable here, the id and
    // the properties written make it change with the content.
    resource["etag"] = "W/\"" + derived_guid(to_lower(request.id) + "|" + resource["properties"].dump()) + "\"";
  }

 protected:
  // properties.resourceGuid: kept across updates.
  static std::string resource_guid(const WriteRequest& request) {
    if (request.stored) {
      std::string kept = request.stored->value("/properties/resourceGuid"_json_pointer, "");
      if (!kept.empty()) return kept;
    }
    return derived_guid(to_lower(request.id) + "|resourceGuid");
  }
};

// --- Public IP addresses -------------------------------------------------------------------

const EnumRule kAllocation{"properties.publicIPAllocationMethod", {"Static", "Dynamic"}};
const EnumRule kIpVersion{"properties.publicIPAddressVersion", {"IPv4", "IPv6"}};
const EnumRule kPublicIpSku{"sku.name", {"Basic", "Standard"}};

class PublicIpAddressType final : public NetworkType {
 public:
  std::string type() const override { return "Microsoft.Network/publicIPAddresses"; }

  Status check_body(const json& body, bool /*patch*/) const override {
    const json p = object_at(body, "properties");
    if (auto st = check_enum(p, "publicIPAllocationMethod", kAllocation); !st) return st;
    if (auto st = check_enum(p, "publicIPAddressVersion", kIpVersion); !st) return st;
    if (auto st = optional_integer(p, "idleTimeoutInMinutes", "properties", 4); !st) return st;
    if (auto st = optional_object(p, "dnsSettings", "properties"); !st) return st;
    if (auto st = optional_string(object_at(p, "dnsSettings"), "domainNameLabel", "properties.dnsSettings"); !st) return st;
    if (auto st = optional_object(body, "sku", ""); !st) return st;
    return check_enum(object_at(body, "sku"), "name", kPublicIpSku);
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    json out = request.stored && request.patch ? (*request.stored)["properties"] : json::object();
    for (auto& [key, value] : in.items()) out[key] = value;
    for (const char* key : {"provisioningState", "ipAddress", "ipConfiguration", "resourceGuid"}) out.erase(key);
    const std::string sku = sku_of(request);
    canonicalise_enum(out, "publicIPAllocationMethod", kAllocation);
    if (!out.contains("publicIPAllocationMethod")) out["publicIPAllocationMethod"] = sku == "Standard" ? "Static" : "Dynamic";
    if (sku == "Standard" && out["publicIPAllocationMethod"] == "Dynamic")
      return bad_request("StandardSkuPublicIPAddressesMustBeStatic",
                         "Standard sku publicIp " + request.id + " must have AllocationMethod set to Static.");
    canonicalise_enum(out, "publicIPAddressVersion", kIpVersion);
    if (!out.contains("publicIPAddressVersion")) out["publicIPAddressVersion"] = "IPv4";
    if (!out.contains("idleTimeoutInMinutes")) out["idleTimeoutInMinutes"] = 4;
    if (auto st = apply_dns_settings(request, out, lookup); !st) return std::move(st).error();
    out["ipAddress"] = kPublicIpAddress;
    out["resourceGuid"] = resource_guid(request);
    if (request.stored)
      if (const json& config = request.stored->value("/properties/ipConfiguration"_json_pointer, json()); config.is_object())
        out["ipConfiguration"] = config;
    return out;
  }

  void apply_members(json& resource, const json& body, const WriteRequest& request) const override {
    NetworkType::apply_members(resource, body, request);
    resource["sku"] = {{"name", sku_of(request)}, {"tier", "Regional"}};
  }

  Status check_delete(const json& stored, Lookup& lookup) const override {
    auto nics = nics_of_subscription(stored["id"], lookup);
    if (!nics) return std::move(nics).error();
    for (const json& nic : *nics)
      if (std::string config = config_referring_to(nic, "publicIPAddress", stored["id"], false); !config.empty())
        return bad_request("PublicIPAddressCannotBeDeleted",
                           "Public IP address " + stored["id"].get<std::string>() +
                               " can not be deleted since it is still allocated to resource " + config +
                               ". In order to delete the public IP, disassociate/detach the Public IP address from the "
                               "resource.  To learn how to do this, see aka.ms/deletepublicip.");
    return ok_status();
  }

 private:
  static std::string sku_of(const WriteRequest& request) {
    const json& sku = json_member(json_member(request.body, "sku"), "name");
    if (sku.is_string()) {
      auto canonical = canonical_enum(kPublicIpSku, sku);
      if (canonical) return *canonical;
    }
    if (request.stored) return request.stored->value("/sku/name"_json_pointer, "Basic");
    return "Basic";
  }

  // dnsSettings.domainNameLabel: DNS's rule, unique per region; fqdn is
  // "<label>.<region>.cloudapp.azure.com".
  static Status apply_dns_settings(const WriteRequest& request, json& out, Lookup& lookup) {
    json& dns = out["dnsSettings"];
    if (!dns.is_object() || json_text(dns, "domainNameLabel").empty()) {
      out.erase("dnsSettings");
      return ok_status();
    }
    const std::string label = dns["domainNameLabel"];
    bool valid = label.size() >= 3 && label.size() <= 63 && std::islower(static_cast<unsigned char>(label.front())) &&
                 label.back() != '-';
    for (char c : label)
      if (!std::islower(static_cast<unsigned char>(c)) && !std::isdigit(static_cast<unsigned char>(c)) && c != '-')
        valid = false;
    if (!valid)
      return bad_request("InvalidDomainNameLabel",
                         "The domain name label " + label +
                             " is invalid. It must conform to the following regular expression: "
                             "^[a-z][a-z0-9-]{1,61}[a-z0-9]$.");
    const std::string region = json_text(request.stored ? *request.stored : request.body, "location");
    const std::string fqdn = label + "." + normalize_location(region) + ".cloudapp.azure.com";
    auto others = lookup.in_scope(subscription_scope(request.id), "Microsoft.Network/publicIPAddresses");
    if (!others) return std::move(others).error();
    for (const json& other : *others)
      if (!iequals(other.value("id", ""), request.id) &&
          iequals(other.value("/properties/dnsSettings/fqdn"_json_pointer, ""), fqdn))
        return bad_request("DnsRecordInUse", "DNS record " + fqdn + " is already used by another public IP.");
    dns["fqdn"] = fqdn;
    return ok_status();
  }
};

// --- Virtual networks ------------------------------------------------------------------------

class VirtualNetworkType final : public NetworkType {
 public:
  std::string type() const override { return "Microsoft.Network/virtualNetworks"; }

  Status check_body(const json& body, bool patch) const override {
    const json p = object_at(body, "properties");
    if (auto st = optional_object(p, "addressSpace", "properties"); !st) return st;
    if (auto st = optional_array(object_at(p, "addressSpace"), "addressPrefixes", "properties.addressSpace"); !st) return st;
    if (auto st = optional_array(p, "subnets", "properties"); !st) return st;
    for (const json& subnet : p.value("subnets", json::array())) {
      if (!subnet.is_object()) return invalid_content("Expected objects at path 'properties.subnets'");
      if (auto st = optional_string(subnet, "name", "properties.subnets"); !st) return st;
      if (auto st = optional_object(subnet, "properties", "properties.subnets"); !st) return st;
    }
    if (patch) return ok_status();
    if (object_at(p, "addressSpace").value("addressPrefixes", json::array()).empty())
      return bad_request("InvalidRequestFormat",
                         "Cannot parse the request. Virtual network address space must have at least one address "
                         "prefix (properties.addressSpace.addressPrefixes).");
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    json out = request.stored && request.patch ? (*request.stored)["properties"] : json::object();
    for (auto& [key, value] : in.items()) out[key] = value;
    for (const char* key : {"provisioningState", "resourceGuid"}) out.erase(key);
    std::vector<Prefix> space;
    for (const json& text : object_at(out, "addressSpace").value("addressPrefixes", json::array())) {
      auto prefix = parse_prefix(text, request.id);
      if (!prefix) return std::move(prefix).error();
      space.push_back(*prefix);
    }
    auto subnets = resolve_subnets(request, out.value("subnets", json::array()), space);
    if (!subnets) return std::move(subnets).error();
    if (auto st = check_subnets_still_used(request, *subnets, lookup); !st) return std::move(st).error();
    out["subnets"] = std::move(*subnets);
    out["resourceGuid"] = resource_guid(request);
    if (!out.contains("enableDdosProtection")) out["enableDdosProtection"] = false;
    return out;
  }

  Status check_delete(const json& stored, Lookup& lookup) const override {
    auto nics = nics_of_subscription(stored["id"], lookup);
    if (!nics) return std::move(nics).error();
    for (const json& subnet : stored.value("/properties/subnets"_json_pointer, json::array()))
      if (auto st = subnet_free(subnet, *nics); !st) return st;
    return ok_status();
  }

 private:
  // Each subnet gets its id, type, etag and provisioningState; prefixes must lie inside the
  // address space and not overlap.
  static Result<json> resolve_subnets(const WriteRequest& request, const json& subnets, const std::vector<Prefix>& space) {
    json out = json::array();
    std::vector<std::pair<std::string, Prefix>> seen;
    for (json subnet : subnets) {
      const std::string name = json_text(subnet, "name");
      if (name.empty()) return missing_parameter("properties.subnets.name");
      if (auto st = check_network_name(name); !st) return std::move(st).error();
      const std::string id = request.id + "/subnets/" + name;
      json& p = subnet["properties"];
      if (!p.is_object()) p = json::object();
      if (!p.contains("addressPrefix"))
        return bad_request("InvalidRequestFormat",
                           "Cannot parse the request. Subnet " + name + " must have an address prefix (addressPrefix).");
      auto prefix = parse_prefix(p["addressPrefix"], id);
      if (!prefix) return std::move(prefix).error();
      if (std::none_of(space.begin(), space.end(), [&](const Prefix& s) { return s.contains(*prefix); }))
        return bad_request("NetcfgSubnetRangeOutsideVnet",
                           "Subnet '" + name + "' is not valid because its IP address range is outside the IP address "
                           "range of virtual network '" + request.name + "'.");
      for (const auto& [other, range] : seen) {
        if (iequals(other, name))
          return bad_request("InvalidRequestFormat",
                             "Cannot parse the request. Subnet name " + name + " is used more than once.");
        if (range.overlaps(*prefix))
          return bad_request("NetcfgSubnetRangesOverlap",
                             "Subnet '" + name + "' is not valid because its IP address range overlaps with that of an "
                             "existing subnet in virtual network '" + request.name + "'.");
      }
      seen.push_back({name, *prefix});
      p.erase("ipConfigurations");
      p["provisioningState"] = "Succeeded";
      if (!p.contains("privateEndpointNetworkPolicies")) p["privateEndpointNetworkPolicies"] = "Disabled";
      if (!p.contains("privateLinkServiceNetworkPolicies")) p["privateLinkServiceNetworkPolicies"] = "Enabled";
      json stored = {{"id", id}, {"name", name}, {"type", "Microsoft.Network/virtualNetworks/subnets"},
                     {"etag", "W/\"" + derived_guid(to_lower(id) + "|" + p.dump()) + "\""}, {"properties", p}};
      out.push_back(std::move(stored));
    }
    return out;
  }

  // An update that drops a subnet some NIC is in is refused.
  static Status check_subnets_still_used(const WriteRequest& request, const json& subnets, Lookup& lookup) {
    if (!request.stored) return ok_status();
    auto nics = nics_of_subscription(request.id, lookup);
    if (!nics) return std::move(nics).error();
    for (const json& old : request.stored->value("/properties/subnets"_json_pointer, json::array())) {
      const bool kept = std::any_of(subnets.begin(), subnets.end(),
                                    [&](const json& s) { return iequals(s.value("name", ""), old.value("name", "")); });
      if (!kept)
        if (auto st = subnet_free(old, *nics); !st) return st;
    }
    return ok_status();
  }

  static Status subnet_free(const json& subnet, const std::vector<json>& nics) {
    for (const json& nic : nics)
      if (std::string config = config_referring_to(nic, "subnet", subnet.value("id", ""), false); !config.empty())
        return bad_request("InUseSubnetCannotBeDeleted",
                           "Subnet " + subnet.value("name", "") + " is in use by " + config +
                               " and cannot be deleted. In order to delete the subnet, delete all the resources within "
                               "the subnet. See aka.ms/deletesubnet.");
    return ok_status();
  }
};

// --- Network security groups ----------------------------------------------------------------

const EnumRule kRuleProtocol{"properties.securityRules.properties.protocol", {"Tcp", "Udp", "Icmp", "Esp", "Ah", "*"}};
const EnumRule kRuleAccess{"properties.securityRules.properties.access", {"Allow", "Deny"}};
const EnumRule kRuleDirection{"properties.securityRules.properties.direction", {"Inbound", "Outbound"}};

json default_security_rules(const std::string& nsg_id) {
  struct Rule {
    const char* name;
    const char* description;
    const char* source;
    const char* destination;
    const char* access;
    int priority;
    const char* direction;
  };
  const Rule rules[] = {
      {"AllowVnetInBound", "Allow inbound traffic from all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Inbound"},
      {"AllowAzureLoadBalancerInBound", "Allow inbound traffic from azure load balancer", "AzureLoadBalancer", "*", "Allow", 65001, "Inbound"},
      {"DenyAllInBound", "Deny all inbound traffic", "*", "*", "Deny", 65500, "Inbound"},
      {"AllowVnetOutBound", "Allow outbound traffic from all VMs to all VMs in VNET", "VirtualNetwork", "VirtualNetwork", "Allow", 65000, "Outbound"},
      {"AllowInternetOutBound", "Allow outbound traffic from all VMs to Internet", "*", "Internet", "Allow", 65001, "Outbound"},
      {"DenyAllOutBound", "Deny all outbound traffic", "*", "*", "Deny", 65500, "Outbound"},
  };
  json out = json::array();
  for (const Rule& r : rules) {
    const std::string id = nsg_id + "/defaultSecurityRules/" + r.name;
    out.push_back({{"id", id},
                   {"name", r.name},
                   {"type", "Microsoft.Network/networkSecurityGroups/defaultSecurityRules"},
                   {"etag", "W/\"" + derived_guid(to_lower(id)) + "\""},
                   {"properties",
                    {{"provisioningState", "Succeeded"}, {"description", r.description}, {"protocol", "*"},
                     {"sourcePortRange", "*"}, {"destinationPortRange", "*"}, {"sourceAddressPrefix", r.source},
                     {"destinationAddressPrefix", r.destination}, {"access", r.access}, {"priority", r.priority},
                     {"direction", r.direction}, {"sourcePortRanges", json::array()},
                     {"destinationPortRanges", json::array()}, {"sourceAddressPrefixes", json::array()},
                     {"destinationAddressPrefixes", json::array()}}}});
  }
  return out;
}

class NetworkSecurityGroupType final : public NetworkType {
 public:
  std::string type() const override { return "Microsoft.Network/networkSecurityGroups"; }

  Status check_body(const json& body, bool /*patch*/) const override {
    const json p = object_at(body, "properties");
    if (auto st = optional_array(p, "securityRules", "properties"); !st) return st;
    for (const json& rule : p.value("securityRules", json::array())) {
      if (!rule.is_object()) return invalid_content("Expected objects at path 'properties.securityRules'");
      if (auto st = optional_string(rule, "name", "properties.securityRules"); !st) return st;
      if (auto st = optional_object(rule, "properties", "properties.securityRules"); !st) return st;
      const json rp = object_at(rule, "properties");
      for (const EnumRule* e : {&kRuleProtocol, &kRuleAccess, &kRuleDirection}) {
        const char* key = e == &kRuleProtocol ? "protocol" : e == &kRuleAccess ? "access" : "direction";
        if (auto st = check_enum(rp, key, *e); !st) return st;
      }
      if (auto st = optional_integer(rp, "priority", "properties.securityRules.properties"); !st) return st;
    }
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& /*lookup*/) const override {
    json in = object_at(request.body, "properties");
    json out = request.stored && request.patch ? (*request.stored)["properties"] : json::object();
    for (auto& [key, value] : in.items()) out[key] = value;
    for (const char* key : {"provisioningState", "resourceGuid", "defaultSecurityRules", "networkInterfaces", "subnets"})
      out.erase(key);
    json rules = json::array();
    std::set<std::pair<std::string, std::int64_t>> priorities;
    for (json rule : out.value("securityRules", json::array())) {
      auto resolved = resolve_rule(request, std::move(rule), priorities);
      if (!resolved) return std::move(resolved).error();
      rules.push_back(std::move(*resolved));
    }
    out["securityRules"] = std::move(rules);
    out["defaultSecurityRules"] = default_security_rules(request.id);
    out["resourceGuid"] = resource_guid(request);
    return out;
  }

  Status check_delete(const json& stored, Lookup& lookup) const override {
    auto nics = nics_of_subscription(stored["id"], lookup);
    if (!nics) return std::move(nics).error();
    std::string users;
    for (const json& nic : *nics)
      if (iequals(nic.value("/properties/networkSecurityGroup/id"_json_pointer, ""), stored["id"].get<std::string>()))
        users += (users.empty() ? "" : ", ") + nic.value("id", "");
    if (users.empty()) return ok_status();
    return bad_request("InUseNetworkSecurityGroupCannotBeDeleted",
                       "Network security group " + stored["id"].get<std::string>() +
                           " cannot be deleted because it is in use by the following resources: " + users +
                           ". In order to delete the Network security group, remove the association with the "
                           "resource(s). To learn how to do this, see aka.ms/deletensg.");
  }

 private:
  // One security rule: name, access, direction, protocol and a priority of 100-4096 that no
  // other rule of the same direction has.
  static Result<json> resolve_rule(const WriteRequest& request, json rule,
                                   std::set<std::pair<std::string, std::int64_t>>& priorities) {
    const std::string name = json_text(rule, "name");
    if (name.empty()) return missing_parameter("properties.securityRules.name");
    const std::string id = request.id + "/securityRules/" + name;
    json& p = rule["properties"];
    if (!p.is_object()) p = json::object();
    for (const char* key : {"protocol", "access", "direction", "priority"})
      if (!p.contains(key))
        return bad_request("SecurityRuleParameterMissing",
                           "Security rule " + id + " is missing the required parameter '" + key + "'.");
    canonicalise_enum(p, "protocol", kRuleProtocol);
    canonicalise_enum(p, "access", kRuleAccess);
    canonicalise_enum(p, "direction", kRuleDirection);
    const std::int64_t priority = p["priority"].get<std::int64_t>();
    if (priority < 100 || priority > 4096)
      return bad_request("SecurityRuleInvalidPriority", "Security rule has invalid Priority. Value provided: " +
                                                            std::to_string(priority) + " Allowed range 100-4096.");
    if (!priorities.insert({p["direction"].get<std::string>(), priority}).second)
      return bad_request("SecurityRuleConflict",
                         "Security rule " + name + " conflicts with another rule of the network security group: both "
                         "have priority " + std::to_string(priority) + " and direction " +
                             p["direction"].get<std::string>() + ".");
    p["provisioningState"] = "Succeeded";
    for (const char* key : {"sourcePortRanges", "destinationPortRanges", "sourceAddressPrefixes", "destinationAddressPrefixes"})
      if (!p.contains(key)) p[key] = json::array();
    return json{{"id", id}, {"name", name}, {"type", "Microsoft.Network/networkSecurityGroups/securityRules"},
                {"etag", "W/\"" + derived_guid(to_lower(id) + "|" + p.dump()) + "\""}, {"properties", p}};
  }
};

// --- Network interfaces ---------------------------------------------------------------------

const EnumRule kPrivateAllocation{"properties.ipConfigurations.properties.privateIPAllocationMethod", {"Dynamic", "Static"}};

class NetworkInterfaceType final : public NetworkType {
 public:
  std::string type() const override { return "Microsoft.Network/networkInterfaces"; }

  Status check_body(const json& body, bool patch) const override {
    const json p = object_at(body, "properties");
    if (auto st = optional_array(p, "ipConfigurations", "properties"); !st) return st;
    if (auto st = optional_reference(p, "networkSecurityGroup", "properties"); !st) return st;
    for (const json& config : p.value("ipConfigurations", json::array())) {
      if (!config.is_object()) return invalid_content("Expected objects at path 'properties.ipConfigurations'");
      if (auto st = optional_string(config, "name", "properties.ipConfigurations"); !st) return st;
      if (auto st = optional_object(config, "properties", "properties.ipConfigurations"); !st) return st;
      const json cp = object_at(config, "properties");
      const std::string path = "properties.ipConfigurations.properties";
      for (const char* key : {"subnet", "publicIPAddress"})
        if (auto st = optional_reference(cp, key, path); !st) return st;
      if (auto st = optional_string(cp, "privateIPAddress", path); !st) return st;
      if (auto st = check_enum(cp, "privateIPAllocationMethod", kPrivateAllocation); !st) return st;
    }
    if (!patch && p.value("ipConfigurations", json::array()).empty())
      return bad_request("NetworkInterfaceMustHaveAtLeastOneIpConfiguration",
                         "Network interface must have at least one IP configuration (properties.ipConfigurations).");
    return ok_status();
  }

  Result<json> properties(const WriteRequest& request, Lookup& lookup) const override {
    json in = object_at(request.body, "properties");
    json out = request.stored && request.patch ? (*request.stored)["properties"] : json::object();
    for (auto& [key, value] : in.items()) out[key] = value;
    for (const char* key : {"provisioningState", "resourceGuid", "virtualMachine", "macAddress"}) out.erase(key);
    const std::string location = json_text(request.stored ? *request.stored : request.body, "location");
    if (std::string nsg = reference_id(out, "networkSecurityGroup"); !nsg.empty()) {
      auto found = load_in_region(lookup, nsg, "Microsoft.Network/networkSecurityGroups", location);
      if (!found) return std::move(found).error();
      if (!*found) return invalid_reference(nsg, request.id);
      out["networkSecurityGroup"] = {{"id", (**found)["id"]}};
    }
    auto nics = nics_of_subscription(request.id, lookup);
    if (!nics) return std::move(nics).error();
    std::erase_if(*nics, [&](const json& nic) { return iequals(nic.value("id", ""), request.id); });
    json configs = json::array();
    for (json config : out.value("ipConfigurations", json::array())) {
      auto resolved = resolve_config(request, std::move(config), configs.empty(), location, *nics, lookup);
      if (!resolved) return std::move(resolved).error();
      configs.push_back(std::move(*resolved));
    }
    out["ipConfigurations"] = std::move(configs);
    out["resourceGuid"] = resource_guid(request);
    if (!out.contains("enableAcceleratedNetworking")) out["enableAcceleratedNetworking"] = false;
    if (!out.contains("enableIPForwarding")) out["enableIPForwarding"] = false;
    out["dnsSettings"] = object_at(out, "dnsSettings");
    if (!out["dnsSettings"].contains("dnsServers")) out["dnsSettings"]["dnsServers"] = json::array();
    out["macAddress"] = mac_address(request.id);
    if (request.stored)
      if (const json& vm = request.stored->value("/properties/virtualMachine"_json_pointer, json()); vm.is_object())
        out["virtualMachine"] = vm;
    return out;
  }

  Status check_delete(const json& stored, Lookup& lookup) const override {
    const std::string vm_id = stored.value("/properties/virtualMachine/id"_json_pointer, "");
    if (vm_id.empty()) return ok_status();
    auto vm = lookup.load(vm_id);
    if (!vm) return std::move(vm).error();
    if (!*vm) return ok_status();  // the VM is gone: the NIC is free again
    return bad_request("NicInUse", "Network Interface " + stored["id"].get<std::string>() +
                                       " is used by existing resource " + (**vm)["id"].get<std::string>() +
                                       ". In order to delete the network interface, it must be dissociated from the "
                                       "resource. To learn more, see aka.ms/deletenic.");
  }

 private:
  // The resource `id` of `type`, when it exists in `location`; nullopt otherwise.
  static Result<std::optional<json>> load_in_region(Lookup& lookup, const std::string& id, const std::string& type,
                                                    const std::string& location) {
    auto found = lookup.load(id);
    if (!found) return std::move(found).error();
    if (!*found || !iequals((**found).value("type", ""), type) ||
        normalize_location((**found).value("location", "")) != normalize_location(location))
      return std::optional<json>{};
    return found;
  }

  // One ipConfiguration: its subnet (in a VNet of the NIC's region) and public IP (used by no
  // other NIC) must exist; its private address is taken from the subnet.
  static Result<json> resolve_config(const WriteRequest& request, json config, bool first, const std::string& location,
                                     const std::vector<json>& other_nics, Lookup& lookup) {
    const std::string name = json_text(config, "name");
    if (name.empty()) return missing_parameter("properties.ipConfigurations.name");
    const std::string id = request.id + "/ipConfigurations/" + name;
    json& p = config["properties"];
    if (!p.is_object()) p = json::object();
    const std::string subnet_id = reference_id(p, "subnet");
    if (subnet_id.empty()) return missing_parameter("properties.ipConfigurations.properties.subnet.id");
    const size_t cut = to_lower(subnet_id).find("/subnets/");
    if (cut == std::string::npos) return invalid_reference(subnet_id, request.id);
    auto vnet = load_in_region(lookup, subnet_id.substr(0, cut), "Microsoft.Network/virtualNetworks", location);
    if (!vnet) return std::move(vnet).error();
    json subnet = *vnet ? find_subnet(**vnet, subnet_id.substr(cut + 9)) : json();
    if (subnet.is_null()) return invalid_reference(subnet_id, request.id);
    p["subnet"] = {{"id", subnet["id"]}};

    if (std::string ip = reference_id(p, "publicIPAddress"); !ip.empty()) {
      auto found = load_in_region(lookup, ip, "Microsoft.Network/publicIPAddresses", location);
      if (!found) return std::move(found).error();
      if (!*found) return invalid_reference(ip, request.id);
      for (const json& nic : other_nics)
        if (std::string used = config_referring_to(nic, "publicIPAddress", (**found)["id"], false); !used.empty())
          return bad_request("PublicIPAddressInUse", "Resource " + (**found)["id"].get<std::string>() +
                                                         " is already in use by " + used + ".");
      p["publicIPAddress"] = {{"id", (**found)["id"]}};
    }

    canonicalise_enum(p, "privateIPAllocationMethod", kPrivateAllocation);
    if (!p.contains("privateIPAllocationMethod"))
      p["privateIPAllocationMethod"] = p.contains("privateIPAddress") ? "Static" : "Dynamic";
    auto address = private_address(request, p, subnet, other_nics);
    if (!address) return std::move(address).error();
    p["privateIPAddress"] = *address;
    p["privateIPAddressVersion"] = "IPv4";
    p["primary"] = p.value("primary", first);
    p["provisioningState"] = "Succeeded";
    return json{{"id", id}, {"name", name}, {"type", "Microsoft.Network/networkInterfaces/ipConfigurations"},
                {"etag", "W/\"" + derived_guid(to_lower(id) + "|" + p.dump()) + "\""}, {"properties", p}};
  }

  // Static: the address asked for, inside the subnet and free. Dynamic: the address it had
  // (an update), else the lowest free one after Azure's 4 reserved ones, before broadcast.
  static Result<std::string> private_address(const WriteRequest& request, const json& p, const json& subnet,
                                             const std::vector<json>& other_nics) {
    auto prefix = parse_prefix_text(subnet.value("/properties/addressPrefix"_json_pointer, ""));
    if (!prefix) return internal_error("The subnet " + subnet.value("id", "") + " has no valid address prefix.");
    std::set<std::uint32_t> used;
    for (const json& nic : other_nics)
      for (const json& config : ip_configurations(nic))
        if (iequals(config_ref(config, "subnet"), subnet.value("id", "")))
          if (auto a = parse_ipv4(config.value("/properties/privateIPAddress"_json_pointer, ""))) used.insert(*a);
    if (p["privateIPAllocationMethod"] == "Static") {
      const std::string text = json_text(p, "privateIPAddress");
      auto address = parse_ipv4(text);
      if (!address || *address < prefix->first() + 4 || *address >= prefix->last())
        return bad_request("PrivateIPAddressNotInSubnet",
                           "IP configuration of " + request.id + " has private IP address " + text +
                               " which does not belong to the usable range of subnet " + subnet.value("id", "") + ".");
      if (used.count(*address))
        return bad_request("PrivateIPAddressInUse", "IP configuration of " + request.id + " is using the private IP address " +
                                                        text + " which is already allocated to another resource.");
      return text;
    }
    if (request.stored)
      for (const json& config : ip_configurations(*request.stored))
        if (iequals(config_ref(config, "subnet"), subnet.value("id", "")))
          if (auto a = parse_ipv4(config.value("/properties/privateIPAddress"_json_pointer, ""))) return format_ipv4(*a);
    for (std::uint64_t a = std::uint64_t{prefix->first()} + 4; a < prefix->last(); ++a)
      if (!used.count(static_cast<std::uint32_t>(a))) return format_ipv4(static_cast<std::uint32_t>(a));
    return bad_request("SubnetIsFull", "Subnet " + subnet.value("name", "") +
                                           " with address prefix " + subnet.value("/properties/addressPrefix"_json_pointer, "") +
                                           " does not have enough capacity for 1 IP addresses.");
  }

  // Azure's MAC addresses: "00-0D-3A-xx-xx-xx", stable for one NIC.
  static std::string mac_address(const std::string& id) {
    std::string hex = to_upper(derived_guid(to_lower(id) + "|mac"));
    hex.erase(std::remove(hex.begin(), hex.end(), '-'), hex.end());
    return "00-0D-3A-" + hex.substr(0, 2) + "-" + hex.substr(2, 2) + "-" + hex.substr(4, 2);
  }
};

}  // namespace

const ResourceType& public_ip_address_type() {
  static const PublicIpAddressType type;
  return type;
}

const ResourceType& virtual_network_type() {
  static const VirtualNetworkType type;
  return type;
}

const ResourceType& network_interface_type() {
  static const NetworkInterfaceType type;
  return type;
}

const ResourceType& network_security_group_type() {
  static const NetworkSecurityGroupType type;
  return type;
}

json find_subnet(const json& vnet, std::string_view name) {
  for (const json& subnet : vnet.value("/properties/subnets"_json_pointer, json::array()))
    if (iequals(subnet.value("name", ""), name)) return subnet;
  return json();
}

Status check_vm_nics(const json& network_profile, const std::string& vm_id, const std::string& location, Lookup& lookup) {
  for (const json& ref : network_profile.value("networkInterfaces", json::array())) {
    const std::string id = json_text(ref, "id");
    auto nic = lookup.load(id);
    if (!nic) return std::move(nic).error();
    if (id.empty() || !*nic || !iequals((**nic).value("type", ""), "Microsoft.Network/networkInterfaces"))
      return bad_request("NotFound", "Resource " + id + " not found.");
    if (normalize_location((**nic).value("location", "")) != normalize_location(location))
      return bad_request("NicLocationNotSameAsVmLocation",
                         "Network interface " + (**nic)["id"].get<std::string>() + " is in location '" +
                             (**nic).value("location", "") + "', but virtual machine " + vm_id + " is in location '" +
                             location + "'. Virtual machine and its network interfaces must be in the same location.");
    const std::string owner = (**nic).value("/properties/virtualMachine/id"_json_pointer, "");
    if (!owner.empty() && !iequals(owner, vm_id)) {
      auto other = lookup.load(owner);
      if (!other) return std::move(other).error();
      if (*other)
        return bad_request("NicInUse", "Network Interface " + (**nic)["id"].get<std::string>() +
                                           " is used by existing resource " + owner +
                                           ". In order to use it for another virtual machine, it must be dissociated "
                                           "from that one first.");
    }
  }
  return ok_status();
}

}  // namespace acg
