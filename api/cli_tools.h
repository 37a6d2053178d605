#pragma once
// `acg-emulator cost ...` and `acg-emulator retention ...`: planning tools that talk to an
// ARM endpoint over HTTPS (the emulator by default) with a token, as any client would.
//
//   cost       prices what a subscription, resource group, gallery, definition or version
//              keeps in storage (emulator/storage_cost.h) and prints the breakdown; with
//              --keep N (and the retention flags) also the saving that plan would make
//   retention  plans which old image versions of a gallery or definition to delete
//              (emulator/retention_plan.h), prints the plan and its monthly saving, then
//              deletes them through the ARM API (not with --dry-run)
//
// Exit status: 0 done, 1 an ARM or connection error (printed with its code), 2 bad usage.

#include <iosfwd>
#include <string>
#include <vector>

namespace acg::api {

// True when args[0] names a tool (then main() runs it instead of the server).
bool is_tool_command(const std::vector<std::string>& args);

// Runs the tool args[0] names with the rest of args; writes its report to `out` and errors
// to `err`. Returns the exit status.
int run_tool(const std::vector<std::string>& args, std::ostream& out, std::ostream& err);

std::string tool_usage();

}  // namespace acg::api
