#include "emulator/name_rules.h"

#include <cctype>
#include <string>

namespace acg {
namespace {

bool alnum(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }

}  // namespace

Status check_resource_group_name(std::string_view name) {
  bool chars_ok = !name.empty() && name.size() <= 90 && name.back() != '.';
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '-' && c != '.' && c != '(' && c != ')') chars_ok = false;
  if (chars_ok) return ok_status();
  return bad_request("InvalidResourceGroupName",
                     "Resource group name '" + std::string(name) +
                         "' is invalid. It can include alphanumeric, underscore, parentheses, "
                         "hyphen, period (except at end), and must be 1 to 90 characters long.",
                     "resourceGroupName");
}

Status check_gallery_name(std::string_view name) {
  if (!name.empty() && (name.back() == '.' || name.back() == '_' || name.back() == '-')) {
    std::string last(1, name.back());
    return bad_request("InvalidParameter",
                       "The provided resource name '" + std::string(name) +
                           "' has these invalid trailing characters: '" + last +
                           "'. The name can not end with characters: '" + last + "'",
                       "galleryName");
  }
  bool ok = !name.empty() && name.size() <= 80 && alnum(name.front());
  for (char c : name)
    if (!alnum(c) && c != '_' && c != '.') ok = false;
  if (ok) return ok_status();
  return bad_request("InvalidParameter",
                     "Gallery name is invalid. Allowed characters are English alphanumeric "
                     "characters, with underscores, and periods allowed in the middle, up to 80 "
                     "characters total. All other special characters, including dashes, are "
                     "disallowed.",
                     "galleryName");
}

}  // namespace acg
