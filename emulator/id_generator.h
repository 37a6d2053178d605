#pragma once
// Ids and randomness are injected: a seeded generator makes a run reproducible.

#include <cstdint>
#include <mutex>
#include <random>
#include <string>

namespace acg {

class IdGenerator {
 public:
  // seed 0: seeded from the OS; any other value: the same sequence every run.
  explicit IdGenerator(std::uint64_t seed = 0);
  // A random (version 4) UUID in lower case: "3f2504e0-4f89-41d3-9a0c-0305e82c3301".
  std::string uuid();

 private:
  std::mutex mutex_;
  std::mt19937_64 engine_;  // GUARDED_BY(mutex_)
};

}  // namespace acg
