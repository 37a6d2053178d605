#include "emulator/arm_error.h"

#include <nlohmann/json.hpp>

namespace acg {

ArmError bad_request(std::string code, std::string message, std::string target) {
  return ArmError{400, std::move(code), std::move(message), std::move(target), {}};
}

ArmError not_found(std::string code, std::string message) {
  return ArmError{404, std::move(code), std::move(message), {}, {}};
}

ArmError conflict(std::string code, std::string message) {
  return ArmError{409, std::move(code), std::move(message), {}, {}};
}

ArmError internal_error(std::string message) {
  return ArmError{500, "InternalServerError", std::move(message), {}, {}};
}

nlohmann::json error_to_json(const ArmError& error) {
  nlohmann::json j = {{"code", error.code}, {"message", error.message}};
  if (!error.target.empty()) j["target"] = error.target;
  if (!error.details.empty()) {
    j["details"] = nlohmann::json::array();
    for (const ArmError& d : error.details) j["details"].push_back(error_to_json(d));
  }
  if (!error.additional_info.empty()) {
    nlohmann::json info = nlohmann::json::parse(error.additional_info, nullptr, false);
    if (info.is_array()) j["additionalInfo"] = std::move(info);
  }
  return j;
}

ArmError error_from_json(const nlohmann::json& j, int status) {
  ArmError e{status, {}, {}, {}, {}};
  if (!j.is_object()) return e;
  e.code = j.value("code", "");
  e.message = j.value("message", "");
  e.target = j.value("target", "");
  if (auto it = j.find("details"); it != j.end() && it->is_array())
    for (const auto& d : *it) e.details.push_back(error_from_json(d, status));
  if (auto it = j.find("additionalInfo"); it != j.end() && it->is_array()) e.additional_info = it->dump();
  return e;
}

}  // namespace acg
