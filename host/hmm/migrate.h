#pragma once
// migrate_vma: move pages between system memory and device-private memory in
// named phases, as in Linux mm/migrate_device.c:
//   setup    -> collect and isolate pages (src[]), raising MIGRATE(owner)
//   (driver) -> allocate dst pages, copy data
//   pages    -> commit the pages whose dst is filled
//   finalize -> install new PTEs, or restore the old ones; drop references
// A page may be skipped (no MIGRATE bit, or an empty dst), never dropped.
#include <cstdint>
#include <vector>

#include "host/common/status.h"
#include "host/mm/address_space.h"

namespace hmmsim::host {

constexpr uint64_t kMigratePfnValid = 1ull << 0;
constexpr uint64_t kMigratePfnMigrate = 1ull << 1;
constexpr uint64_t kMigratePfnWrite = 1ull << 3;
constexpr uint64_t kMigratePfnShift = 6;
inline uint64_t migrate_pfn(Pfn pfn) { return (pfn << kMigratePfnShift) | kMigratePfnValid; }
inline Pfn migrate_pfn_to_pfn(uint64_t m) { return m >> kMigratePfnShift; }

enum MigrateSelect : uint32_t {
  kSelectSystem = 1,
  kSelectDevicePrivate = 2,
};

struct MigrateVma {
  uint64_t start = 0, end = 0;
  std::vector<uint64_t> src, dst;
  const void* pgmap_owner = nullptr;  // for device-private selection and the notifier
  uint32_t flags = 0;
  uint64_t cpages = 0;  // pages collected for migration by setup
};

// Inval: bad range, or the range is not inside one VMA.
Status migrate_vma_setup(AddressSpace& mm, MigrateVma& args);
void migrate_vma_pages(AddressSpace& mm, MigrateVma& args);
void migrate_vma_finalize(AddressSpace& mm, MigrateVma& args);

}  // namespace hmmsim::host
