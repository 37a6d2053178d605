#pragma once
// Naming rules of the resources this emulator serves, with the errors the real service gives.
// Sources: ../shared/reference/LIMITS.md §2 (Learn naming rules and the gallery
// troubleshooting page).

#include <string_view>

#include "emulator/arm_error.h"

namespace acg {

// Resource groups: 1-90 characters; letters, digits, '_', '-', '.', '(' and ')' (ASCII here);
// not ending in '.'.
Status check_resource_group_name(std::string_view name);

// Galleries: 1-80 characters, letters, digits, '_' and '.', starting and ending with a letter or
// digit; dashes refused (the service's documented behaviour, which is stricter than the spec's
// regular expression).
Status check_gallery_name(std::string_view name);

}  // namespace acg
