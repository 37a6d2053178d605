// The JSON bodies of every writable resource type: the first byte picks the write (type and
// method), the rest is the body. Parents exist (fuzz_support's fixtures), so bodies reach the
// type's own validation, its rules and the replication engine.

#include <array>
#include <string>

#include "tests/fuzz/fuzz_support.h"

namespace {

using namespace acg::fuzz;

struct Write {
  const char* method;
  std::string target;
};

const std::string kGalleryApi = "?api-version=2022-03-03";
const std::string kComputeApi = "?api-version=2022-08-01";
const std::string kDisksApi = "?api-version=2022-03-02";
const std::string kProviders = kGroup + "/providers/";

const std::array<Write, 20>& writes() {
  static const std::array<Write, 20> all = {{
      {"PUT", kGroup + "?api-version=2021-04-01"},
      {"PATCH", kGroup + "?api-version=2021-04-01"},
      {"PUT", kProviders + "Microsoft.Compute/galleries/g2" + kGalleryApi},
      {"PATCH", kGallery + kGalleryApi},
      {"PUT", kGallery + "/images/img2" + kGalleryApi},
      {"PATCH", kImage + kGalleryApi},
      {"PUT", kImage + "/versions/1.0.0" + kGalleryApi},
      {"PATCH", kImage + "/versions/1.0.0" + kGalleryApi},
      {"PUT", kGallery + "/applications/app2" + kGalleryApi},
      {"PUT", kApplication + "/versions/1.0.0" + kGalleryApi},
      {"POST", kGallery + "/share" + kGalleryApi},
      {"PUT", kProviders + "Microsoft.Compute/images/im1" + kComputeApi},
      {"PUT", kProviders + "Microsoft.Compute/virtualMachines/vm1" + kComputeApi},
      {"PUT", kProviders + "Microsoft.Compute/disks/d1" + kDisksApi},
      {"PUT", kProviders + "Microsoft.Compute/snapshots/s1" + kDisksApi},
      {"PUT", kProviders + "Microsoft.Compute/diskEncryptionSets/des1" + kDisksApi},
      {"PUT", kProviders + "Microsoft.Storage/storageAccounts/sa1?api-version=2023-01-01"},
      {"PUT", kGroup + "/providers/Microsoft.Authorization/roleAssignments/0a8b1e58-6c6b-4f09-9d3a-111111111111"
              "?api-version=2022-04-01"},
      {"PUT", kProviders + "Microsoft.Resources/deployments/dep1?api-version=2021-04-01"},
      {"POST", kProviders + "Microsoft.Resources/deployments/dep1/validate?api-version=2021-04-01"},
  }};
  return all;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  fresh_state();
  const Write& write = writes()[data[0] % writes().size()];
  call(write.method, write.target, std::string(as_text(data + 1, size - 1)));
  return 0;
}
