#pragma once
// The test device of lib/test_hmm.c ("dmirror"), as hardware plus driver
// globals: device-private memory registered in chunks (like memremap_pages),
// each device page backed by a real system page that holds its data, free
// lists of 4 KiB pages and 2 MiB folios, CPU faults on its pages
// (migrate_to_ram) and eviction of whole chunks. Per-open state (the mirror
// and its commands) is in dmirror.h. A device may also have no memory at
// all: an on-demand-paging device (an RDMA NIC, as in the seeds' ODP
// patches) that mirrors and faults but never migrates.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "host/hmm/migrate.h"
#include "host/mm/address_space.h"

namespace hmmsim::host {

class Dmirror;

enum class DmirrorKind : uint8_t {
  Private,  // DEVICE_PRIVATE memory (hmm_dmirror0/1)
  Odp,      // no device memory: mirror only
};

struct DmirrorDeviceSpec {
  std::string name = "dmirror0";
  DmirrorKind kind = DmirrorKind::Private;
  uint64_t chunk_pages = 16384;  // 64 MiB chunks (the kernel driver uses 256 MiB)
  uint32_t max_chunks = 16;      // device memory = chunk_pages x max_chunks
};

class DmirrorDevice final : public IPagemapOps {
 public:
  DmirrorDevice(HostSystem& sys, const DmirrorDeviceSpec& spec);
  ~DmirrorDevice() override;

  HostSystem& system() { return m_sys; }
  const DmirrorDeviceSpec& spec() const { return m_spec; }
  bool has_memory() const { return m_spec.kind == DmirrorKind::Private; }
  const void* owner() const { return this; }  // pgmap owner compared by range_fault and migrate

  // Opens a mirror of `mm` (one per "fd").
  std::unique_ptr<Dmirror> open(AddressSpace& mm);

  // A device page (or the head of a 512-page folio) for `owner`, with its
  // backing system page(s) allocated; kNoPfn when memory is exhausted.
  Pfn alloc_page(bool large, Dmirror* owner);
  Pfn backing(Pfn dpfn) const;
  unsigned order(Pfn dpfn) const;
  Dmirror* page_owner(Pfn dpfn) const;
  bool owns(Pfn pfn) const;

  // Moves every page of every chunk back to system memory (close). With
  // `remove`, the chunks are retired too (RELEASE).
  Status evict_all(bool remove);

  // IPagemapOps
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) override;
  void page_free(Pfn pfn) override;

  // Shared by MIGRATE_TO_SYS and migrate_to_ram: allocate system pages for
  // the selected device pages, copy, and erase `owner`'s mirror entries.
  Status fault_alloc_and_copy(MigrateVma& a, Dmirror* owner);

  void forget(Dmirror* m);  // a mirror closed
  uint64_t pages_in_use() const;

  uint64_t s_chunks = 0, s_allocs = 0, s_frees = 0, s_migrate_to_ram = 0, s_evicted = 0;

 private:
  struct Chunk {
    DevicePagemap* pgmap;
    bool removed = false;
  };
  struct PageInfo {
    Pfn backing = kNoPfn;
    Dmirror* owner = nullptr;
    Pfn head = 0;       // folio head (itself for 4 KiB pages)
    uint8_t order = 0;  // 0 or 9
  };
  bool add_chunk(bool large);
  bool retired(Pfn pfn) const;
  Status evict_chunk(const Chunk& c);

  HostSystem& m_sys;
  const DmirrorDeviceSpec m_spec;
  std::vector<Chunk> m_chunks;
  std::vector<Chunk> m_retired;  // released chunks: their pages never come back
  std::vector<Pfn> m_free_pages, m_free_folios;  // LIFO: deterministic reuse
  std::unordered_map<Pfn, PageInfo> m_pages;     // pages handed out
  std::unordered_map<Pfn, uint32_t> m_folio_freed;  // folio head -> subpages freed so far
  std::vector<Dmirror*> m_open;
};

}  // namespace hmmsim::host
