#include "host/test_device/dmirror_device.h"

#include <algorithm>
#include <cassert>

#include "host/test_device/dmirror.h"

namespace hmmsim::host {

DmirrorDevice::DmirrorDevice(HostSystem& sys, const DmirrorDeviceSpec& spec) : m_sys(sys), m_spec(spec) {
  // Like the module: one 4 KiB-only chunk at load.
  if (has_memory()) add_chunk(false);
}

DmirrorDevice::~DmirrorDevice() {
  // Mirrors must be closed first (they point at us).
  assert(m_open.empty());
}

std::unique_ptr<Dmirror> DmirrorDevice::open(AddressSpace& mm) {
  auto m = std::make_unique<Dmirror>(*this, mm);
  m_open.push_back(m.get());
  return m;
}

void DmirrorDevice::forget(Dmirror* m) {
  m_open.erase(std::remove(m_open.begin(), m_open.end(), m), m_open.end());
  for (auto& [pfn, info] : m_pages)
    if (info.owner == m) info.owner = nullptr;  // evicted already; stale pointers must not survive
}

bool DmirrorDevice::add_chunk(bool large) {
  if (m_chunks.size() >= m_spec.max_chunks) return false;
  DevicePagemap& pm = m_sys.pagemaps.add(m_spec.name + ".chunk" + std::to_string(m_chunks.size()), owner(), this,
                                         m_spec.chunk_pages);
  m_chunks.push_back(Chunk{&pm, false});
  ++s_chunks;
  // A chunk made for a huge request offers 2 MiB folios (512-aligned pfns);
  // otherwise every page goes to the 4 KiB list. Push in reverse so the
  // lowest pfn is handed out first.
  std::vector<Pfn> pages, folios;
  for (Pfn p = pm.base; p < pm.base + pm.npages;) {
    if (large && (p % kHugePages) == 0 && p + kHugePages <= pm.base + pm.npages) {
      folios.push_back(p);
      p += kHugePages;
    } else {
      pages.push_back(p++);
    }
  }
  m_free_pages.insert(m_free_pages.end(), pages.rbegin(), pages.rend());
  m_free_folios.insert(m_free_folios.end(), folios.rbegin(), folios.rend());
  return true;
}

Pfn DmirrorDevice::alloc_page(bool large, Dmirror* owner) {
  if (!has_memory()) return kNoPfn;
  // The backing system page (folio) first, as the driver does.
  const Pfn back = large ? m_sys.phys.alloc_huge() : m_sys.phys.alloc();
  if (back == kNoPfn) return kNoPfn;
  auto& list = large ? m_free_folios : m_free_pages;
  if (list.empty() && !add_chunk(large)) {
    for (uint64_t k = 0; k < (large ? kHugePages : 1); ++k) m_sys.phys.put(back + k);
    return kNoPfn;
  }
  if (list.empty()) {  // a new chunk may not fit a folio
    for (uint64_t k = 0; k < (large ? kHugePages : 1); ++k) m_sys.phys.put(back + k);
    return kNoPfn;
  }
  const Pfn head = list.back();
  list.pop_back();
  const uint64_t n = large ? kHugePages : 1;
  for (uint64_t k = 0; k < n; ++k) {
    m_sys.pagemaps.init_page(head + k);
    m_pages[head + k] = PageInfo{back + k, owner, head, static_cast<uint8_t>(large ? 9 : 0)};
  }
  if (large) m_folio_freed[head] = 0;
  ++s_allocs;
  return head;
}

Pfn DmirrorDevice::backing(Pfn dpfn) const {
  auto it = m_pages.find(dpfn);
  return it == m_pages.end() ? kNoPfn : it->second.backing;
}

unsigned DmirrorDevice::order(Pfn dpfn) const {
  auto it = m_pages.find(dpfn);
  return it == m_pages.end() ? 0 : it->second.order;
}

Dmirror* DmirrorDevice::page_owner(Pfn dpfn) const {
  auto it = m_pages.find(dpfn);
  return it == m_pages.end() ? nullptr : it->second.owner;
}

bool DmirrorDevice::owns(Pfn pfn) const {
  const DevicePagemap* pm = m_sys.pagemaps.find(pfn);
  return pm && pm->owner == owner();
}

uint64_t DmirrorDevice::pages_in_use() const { return m_pages.size(); }

bool DmirrorDevice::retired(Pfn pfn) const {
  for (const auto* list : {&m_chunks, &m_retired})
    for (const Chunk& c : *list)
      if (c.removed && pfn >= c.pgmap->base && pfn < c.pgmap->base + c.pgmap->npages) return true;
  return false;
}

void DmirrorDevice::page_free(Pfn pfn) {
  auto it = m_pages.find(pfn);
  assert(it != m_pages.end());
  const PageInfo info = it->second;
  for (Dmirror* m : m_open) m->drop_device_page(pfn);
  m_sys.phys.put(info.backing);  // the data goes with the page
  m_pages.erase(it);
  ++s_frees;
  if (retired(pfn)) return;
  if (info.order == 0) {
    m_free_pages.push_back(pfn);
    return;
  }
  // A folio returns to its list once all its subpages are free (it may have
  // been split and freed piecemeal).
  if (++m_folio_freed[info.head] == kHugePages) {
    m_folio_freed.erase(info.head);
    m_free_folios.push_back(info.head);
  }
}

Status DmirrorDevice::fault_alloc_and_copy(MigrateVma& a, Dmirror* owner) {
  PhysMem& phys = m_sys.phys;
  const uint64_t n = a.src.size();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t s = a.src[i];
    if (!(s & kMigratePfnValid) || !(s & kMigratePfnMigrate)) continue;
    const Pfn spage = migrate_pfn_to_pfn(s);
    if (!owns(spage)) continue;
    const bool large = s & kMigratePfnCompound;
    const uint64_t sub = large ? kHugePages : 1;
    const uint64_t write = s & kMigratePfnWrite;
    Pfn dpage = kNoPfn;
    if (owner && owner->take_fail_alloc()) {
      dpage = kNoPfn;
    } else {
      dpage = large ? phys.alloc_huge() : phys.alloc();
    }
    if (dpage == kNoPfn && !large) return Status::NoMem;
    if (dpage == kNoPfn) {
      // No 2 MiB system folio: 512 single pages, the device folio is split.
      std::vector<Pfn> got;
      for (uint64_t k = 0; k < sub; ++k) {
        const Pfn p = phys.alloc();
        if (p == kNoPfn) {
          for (Pfn q : got) phys.put(q);
          for (uint64_t j = 0; j < sub; ++j) a.dst[i + j] = 0;
          return Status::NoMem;
        }
        got.push_back(p);
      }
      for (uint64_t k = 0; k < sub; ++k) a.dst[i + k] = migrate_pfn(got[k]) | write;
    } else {
      a.dst[i] = migrate_pfn(dpage) | write | (large ? kMigratePfnCompound : 0);
    }
    for (uint64_t k = 0; k < sub; ++k) {
      const Pfn to = dpage == kNoPfn ? migrate_pfn_to_pfn(a.dst[i + k]) : dpage + k;
      const Pfn from = backing(spage + k);
      assert(from != kNoPfn && "collected a device page that was already freed");
      if (from == kNoPfn) return Status::Fault;
      phys.copy_page(to, from);
      Dmirror* who = page_owner(spage + k);
      if (who) who->erase(a.start + ((i + k) << kPageShift));
    }
    i += sub - 1;
  }
  return Status::Ok;
}

Status DmirrorDevice::migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) {
  ++s_migrate_to_ram;
  Dmirror* owner = page_owner(pfn);
  // A PMD-mapped device folio comes back whole; a PTE-mapped page alone.
  const bool huge = mm.pte(va).pmd && order(pfn) == 9;
  MigrateVma a;
  a.start = huge ? va & ~(kHugeSize - 1) : page_down(va);
  a.end = a.start + (huge ? kHugeSize : kPageSize);
  a.flags = kSelectDevicePrivate | (huge ? uint32_t(kSelectCompound) : 0u);
  a.pgmap_owner = this->owner();
  if (migrate_vma_setup(mm, a) != Status::Ok) return Status::Fault;  // SIGBUS
  if (a.cpages == 0) return Status::Ok;                             // raced: just retry the access
  if (fault_alloc_and_copy(a, owner) != Status::Ok) {
    migrate_vma_finalize(mm, a);
    return Status::NoMem;  // VM_FAULT_OOM
  }
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  return Status::Ok;
}

Status DmirrorDevice::evict_chunk(const Chunk& c) {
  MigrateDevice a;
  migrate_device_range(m_sys, a, c.pgmap->base, c.pgmap->npages);
  for (uint64_t i = 0; i < a.src.size(); ++i) {
    if (!(a.src[i] & kMigratePfnMigrate)) continue;
    const Pfn d = m_sys.phys.alloc();
    if (d == kNoPfn) continue;  // stays on the device; reported below
    m_sys.phys.copy_page(d, backing(migrate_pfn_to_pfn(a.src[i])));
    a.dst[i] = migrate_pfn(d) | (a.src[i] & kMigratePfnWrite);
  }
  migrate_device_pages(m_sys, a);
  uint64_t stuck = 0;
  for (uint64_t i = 0; i < a.src.size(); ++i) {
    if (a.src[i] & kMigratePfnMigrate)
      ++s_evicted;
    else if (a.src[i] & kMigratePfnValid)
      ++stuck;
  }
  migrate_device_finalize(m_sys, a);
  return stuck ? Status::NoMem : Status::Ok;
}

Status DmirrorDevice::evict_all(bool remove) {
  Status st = Status::Ok;
  for (Chunk& c : m_chunks) {
    if (c.removed) continue;
    if (remove) {
      c.removed = true;  // its pages never return to the free lists
      auto in_chunk = [&](Pfn p) { return p >= c.pgmap->base && p < c.pgmap->base + c.pgmap->npages; };
      m_free_pages.erase(std::remove_if(m_free_pages.begin(), m_free_pages.end(), in_chunk), m_free_pages.end());
      m_free_folios.erase(std::remove_if(m_free_folios.begin(), m_free_folios.end(), in_chunk),
                          m_free_folios.end());
    }
    if (evict_chunk(c) != Status::Ok) st = Status::NoMem;
  }
  if (remove) {
    for (const Chunk& c : m_chunks) m_retired.push_back(c);
    m_chunks.clear();  // the device has no memory until the next allocation
  }
  return st;
}

}  // namespace hmmsim::host
