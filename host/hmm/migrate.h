#pragma once
// Page migration between system memory and device-private memory, in the
// named phases of Linux mm/migrate_device.c:
//   setup    -> collect and isolate pages (src[]), raising MIGRATE(owner);
//               pages mapped elsewhere too are unmapped there (CLEAR)
//   (driver) -> allocate dst pages, copy data
//   pages    -> commit: fill holes, split compound sources for 4 KiB dsts
//   finalize -> install new entries in every mapping, or restore the old
//               ones; drop references
// A page may be skipped (no MIGRATE bit, or an empty dst), never dropped.
// The migrate_device_* calls do the same by device pfn, for eviction.
#include <cstdint>
#include <vector>

#include "host/common/status.h"
#include "host/mm/address_space.h"

namespace hmmsim::host {

constexpr uint64_t kMigratePfnValid = 1ull << 0;
constexpr uint64_t kMigratePfnMigrate = 1ull << 1;
constexpr uint64_t kMigratePfnWrite = 1ull << 3;
constexpr uint64_t kMigratePfnCompound = 1ull << 4;
constexpr uint64_t kMigratePfnShift = 6;
inline uint64_t migrate_pfn(Pfn pfn) { return (pfn << kMigratePfnShift) | kMigratePfnValid; }
inline Pfn migrate_pfn_to_pfn(uint64_t m) { return m >> kMigratePfnShift; }

enum MigrateSelect : uint32_t {
  kSelectSystem = 1,
  kSelectDevicePrivate = 2,
  kSelectCompound = 8,  // collect whole 2 MiB folios (and 2 MiB holes) as one entry
};

struct MigrateVma {
  uint64_t start = 0, end = 0;
  std::vector<uint64_t> src, dst;
  const void* pgmap_owner = nullptr;  // device-private selection and the MIGRATE event's owner
  uint32_t flags = 0;
  uint64_t cpages = 0;  // entries collected for migration by setup
};

// Inval: bad range, not inside one VMA, or a hugetlb VMA.
Status migrate_vma_setup(AddressSpace& mm, MigrateVma& args);
void migrate_vma_pages(AddressSpace& mm, MigrateVma& args);
void migrate_vma_finalize(AddressSpace& mm, MigrateVma& args);

// Eviction by device pfn (migrate_device_range / _pages / _finalize):
// collects every in-use page of [start_pfn, start_pfn + n), unmapping it
// from every address space that maps it (CLEAR, owner NULL).
struct MigrateDevice {
  Pfn start_pfn = 0;
  std::vector<uint64_t> src, dst;
};
void migrate_device_range(HostSystem& sys, MigrateDevice& args, Pfn start_pfn, uint64_t n);
void migrate_device_pages(HostSystem& sys, MigrateDevice& args);
void migrate_device_finalize(HostSystem& sys, MigrateDevice& args);

}  // namespace hmmsim::host
