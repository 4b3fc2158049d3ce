#pragma once
// Device-private memory registered with the host, like memremap_pages():
// each device page gets a host pfn (above system RAM) so the CPU page table
// can hold a special swap entry that names it. The CPU can never map one; a
// touch calls the owner's migrate_to_ram.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "host/common/status.h"
#include "host/mm/phys_mem.h"
#include "host/mm/rmap.h"

namespace hmmsim::host {

class AddressSpace;
struct DevicePagemap;

struct IPagemapOps {
  virtual ~IPagemapOps() = default;
  // CPU touched `va`, whose PTE names device page `pfn` of this pagemap.
  // Must migrate the page back to system memory (or fail with a Status).
  virtual Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) = 0;
  // The last reference to a device page went away; the driver reclaims it.
  virtual void page_free(Pfn pfn) = 0;
};

struct DevicePagemap {
  std::string name;
  const void* owner = nullptr;  // pgmap owner, compared by range_fault / migrate
  IPagemapOps* ops = nullptr;
  Pfn base = 0;
  uint64_t npages = 0;
};

class DevicePagemaps {
 public:
  // Device pfns start far above any system frame.
  static constexpr Pfn kDeviceBase = 1ull << 36;

  // Registers `npages` device-private pages; returns the pagemap.
  DevicePagemap& add(std::string name, const void* owner, IPagemapOps* ops, uint64_t npages);

  static bool is_device(Pfn pfn) { return pfn >= kDeviceBase; }
  DevicePagemap* find(Pfn pfn);

  // Page references: 0 means free (owned by the driver's free list).
  void get(Pfn pfn);
  void init_page(Pfn pfn);  // driver hands a free page out: ref = 1
  void put(Pfn pfn);        // at zero calls ops->page_free
  uint32_t refcount(Pfn pfn) const;

 private:
  std::vector<std::unique_ptr<DevicePagemap>> m_maps;
  std::vector<uint32_t> m_ref;  // indexed by pfn - kDeviceBase
  Pfn m_next = kDeviceBase;
};

// The machine's memory: system RAM plus registered device memory, and the
// reverse map of both.
struct HostSystem {
  explicit HostSystem(uint64_t ram_frames, common::DataMode mode = common::DataMode::Full)
      : phys(ram_frames, mode) {}
  PhysMem phys;
  DevicePagemaps pagemaps;
  Rmap rmap;
};

}  // namespace hmmsim::host
