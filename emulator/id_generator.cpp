#include "emulator/id_generator.h"

#include <cstdio>

namespace acg {

IdGenerator::IdGenerator(std::uint64_t seed)
    : engine_(seed != 0 ? seed : (static_cast<std::uint64_t>(std::random_device{}()) << 32) ^
                                     std::random_device{}()) {}

std::string IdGenerator::uuid() {
  std::uint64_t hi, lo;
  {
    std::lock_guard lock(mutex_);
    hi = engine_();
    lo = engine_();
  }
  hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
  lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // RFC 4122 variant
  char buf[37];
  std::snprintf(buf, sizeof buf, "%08x-%04x-%04x-%04x-%012llx",
                static_cast<unsigned>(hi >> 32), static_cast<unsigned>((hi >> 16) & 0xffff),
                static_cast<unsigned>(hi & 0xffff), static_cast<unsigned>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xffffffffffffULL));
  return buf;
}

}  // namespace acg
