#pragma once
// Minimal device-private memory for host unit tests: pages live in `mem`;
// migrate() moves a range in (SELECT_SYSTEM), migrate_to_ram() brings one
// page back, and every CPU fault and page free is recorded.
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "host/hmm/migrate.h"

namespace hmmsim::testing {

using namespace hmmsim::host;

struct TestDeviceMemory : IPagemapOps {
  TestDeviceMemory(HostSystem& s, uint64_t n, const char* name = "test-devmem") : sys(s) {
    pm = &s.pagemaps.add(name, this, this, n);
    for (uint64_t i = n; i-- > 0;) free_list.push_back(pm->base + i);
  }
  // A page handed out with stale contents (0xA5) until something copies in.
  Pfn alloc() {
    if (free_list.empty()) return kNoPfn;
    const Pfn p = free_list.back();
    free_list.pop_back();
    sys.pagemaps.init_page(p);
    mem[p].assign(kPageSize, 0xA5);
    return p;
  }
  // Migrates [start, end) in; returns the pages that moved.
  uint64_t migrate(AddressSpace& mm, uint64_t start, uint64_t end) {
    MigrateVma a;
    a.start = start;
    a.end = end;
    a.flags = kSelectSystem;
    a.pgmap_owner = this;
    if (migrate_vma_setup(mm, a) != Status::Ok) return 0;
    for (size_t i = 0; i < a.src.size(); ++i) {
      if (!(a.src[i] & kMigratePfnMigrate)) continue;
      const Pfn d = alloc();
      if (d == kNoPfn) continue;
      std::vector<uint8_t>& m = mem[d];
      m.assign(kPageSize, 0);
      if (a.src[i] & kMigratePfnValid) sys.phys.read(migrate_pfn_to_pfn(a.src[i]), 0, m.data(), kPageSize);
      a.dst[i] = migrate_pfn(d) | (a.src[i] & kMigratePfnWrite);
    }
    migrate_vma_pages(mm, a);
    uint64_t n = 0;
    for (uint64_t s : a.src) n += (s & kMigratePfnMigrate) ? 1 : 0;
    migrate_vma_finalize(mm, a);
    return n;
  }
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) override {
    to_ram.emplace_back(va, pfn);
    if (fail != Status::Ok) return fail;
    MigrateVma a;
    a.start = page_down(va);
    a.end = a.start + kPageSize;
    a.flags = kSelectDevicePrivate;
    a.pgmap_owner = this;
    const Status s = migrate_vma_setup(mm, a);
    if (s != Status::Ok) return s;
    if (!(a.src[0] & kMigratePfnMigrate)) return Status::Ok;
    const Pfn sp = sys.phys.alloc();
    if (sp == kNoPfn) {
      migrate_vma_finalize(mm, a);
      return Status::NoMem;
    }
    sys.phys.write(sp, 0, mem.at(migrate_pfn_to_pfn(a.src[0])).data(), kPageSize);
    a.dst[0] = migrate_pfn(sp);
    migrate_vma_pages(mm, a);
    migrate_vma_finalize(mm, a);
    return Status::Ok;
  }
  void page_free(Pfn p) override {
    freed.push_back(p);
    free_list.push_back(p);
    mem.erase(p);
  }

  HostSystem& sys;
  DevicePagemap* pm = nullptr;
  std::map<Pfn, std::vector<uint8_t>> mem;
  std::vector<Pfn> free_list;
  std::vector<Pfn> freed;
  std::vector<std::pair<uint64_t, Pfn>> to_ram;  // CPU faults: (va, device pfn)
  Status fail = Status::Ok;                      // what migrate_to_ram returns, if not Ok
};

}  // namespace hmmsim::testing
