#include "host/test_device/dmirror.h"

#include <algorithm>
#include <cstring>
#include <functional>

namespace hmmsim::host {

namespace {
constexpr uint64_t kFaultChunk = 32;     // pages per hmm_range_fault call (dmirror_fault)
constexpr uint64_t kMigrateChunk = 512;  // pages per migrate_vma call
constexpr int kMaxRetries = 64;          // stands in for the driver's 1 s retry budget
}  // namespace

const char* to_string(DmirrorCmd c) {
  switch (c) {
    case DmirrorCmd::Read: return "read";
    case DmirrorCmd::Write: return "write";
    case DmirrorCmd::MigrateToDev: return "migrate_to_dev";
    case DmirrorCmd::MigrateToSys: return "migrate_to_sys";
    case DmirrorCmd::Snapshot: return "snapshot";
    case DmirrorCmd::Exclusive: return "exclusive";
    case DmirrorCmd::CheckExclusive: return "check_exclusive";
    case DmirrorCmd::Release: return "release";
    case DmirrorCmd::Flags: return "flags";
  }
  return "?";
}

Dmirror::Dmirror(DmirrorDevice& dev, AddressSpace& mm)
    : m_dev(dev), m_mm(mm), m_notifier(0, ~0ull & ~kPageMask, this) {
  m_mm.notifiers().insert(&m_notifier);
}

Dmirror::~Dmirror() {
  m_mm.notifiers().remove(&m_notifier);
  // Since the 2026 fix for CVE-2026-46280: closing any fd evicts every page
  // of the device, so no device page keeps pointing at this mirror.
  m_dev.evict_all(false);
  m_dev.forget(this);
}

bool Dmirror::take_fail_alloc() {
  if (!(m_flags & kDmirrorFailAlloc)) return false;
  m_flags &= ~kDmirrorFailAlloc;
  return true;
}

bool Dmirror::invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) {
  // The device's own migrations are handled by the driver itself.
  if (r.event == NotifyEvent::Migrate && r.owner == m_dev.owner()) return true;
  ++s_invalidations;
  n.set_seq(cur_seq);
  // test_hmm erases [start, end] with the end page included: one page more.
  const uint64_t last = (r.end >> kPageShift);
  std::vector<uint64_t> gone;
  for (auto it = m_pt.lower_bound(r.start >> kPageShift); it != m_pt.end() && it->first <= last; ++it)
    gone.push_back(it->first);
  for (uint64_t vpn : gone) erase(vpn << kPageShift);
  return true;
}

void Dmirror::store(uint64_t va, Pfn page, uint8_t tag) {
  erase(va);
  const uint64_t vpn = va >> kPageShift;
  m_pt[vpn] = Entry{page, tag};
  if (DevicePagemaps::is_device(page)) m_dev_entries[page].insert(vpn);
}

void Dmirror::erase(uint64_t va) {
  auto it = m_pt.find(va >> kPageShift);
  if (it == m_pt.end()) return;
  if (DevicePagemaps::is_device(it->second.page)) {
    auto d = m_dev_entries.find(it->second.page);
    if (d != m_dev_entries.end() && (d->second.erase(it->first), d->second.empty())) m_dev_entries.erase(d);
  }
  m_pt.erase(it);
}

void Dmirror::drop_device_page(Pfn pfn) {
  auto d = m_dev_entries.find(pfn);
  if (d == m_dev_entries.end()) return;
  for (uint64_t vpn : std::set<uint64_t>(d->second)) erase(vpn << kPageShift);
}

Pfn Dmirror::data_page(Pfn p) const {
  // The fault path can store one of our own device pages (an upstream
  // quirk); its data lives in the backing page.
  return DevicePagemaps::is_device(p) ? m_dev.backing(p) : p;
}

DmirrorResult Dmirror::run(DmirrorCmd cmd, uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf) {
  DmirrorResult r;
  // The checks every ioctl makes first.
  if (!page_aligned(addr) || npages == 0 || npages > (~0ull >> kPageShift) || addr + (npages << kPageShift) <= addr) {
    r.status = Status::Inval;
    return r;
  }
  // The bounce buffer (kvmalloc) of a command larger than memory fails.
  const bool carries_data = cmd == DmirrorCmd::Read || cmd == DmirrorCmd::Write || cmd == DmirrorCmd::MigrateToDev ||
                            cmd == DmirrorCmd::Exclusive || cmd == DmirrorCmd::Snapshot;
  if (carries_data && npages > m_dev.system().phys.frames()) {
    r.status = Status::NoMem;
    return r;
  }
  switch (cmd) {
    case DmirrorCmd::Read: r.status = read(addr, npages, buf, r); break;
    case DmirrorCmd::Write: r.status = write(addr, npages, buf, r); break;
    case DmirrorCmd::MigrateToDev:
      r.status = m_dev.has_memory() && !m_mm.exited() ? migrate_to_device(addr, npages, buf, r) : Status::Inval;
      break;
    case DmirrorCmd::MigrateToSys:
      r.status = m_dev.has_memory() && !m_mm.exited() ? migrate_to_system(addr, npages, r) : Status::Inval;
      break;
    case DmirrorCmd::Snapshot:
      r.status = m_mm.exited() ? Status::Inval : snapshot(addr, npages, buf, r);  // mmget_not_zero failed
      break;
    case DmirrorCmd::Exclusive: r.status = m_mm.exited() ? Status::Inval : exclusive(addr, npages, buf, r); break;
    case DmirrorCmd::CheckExclusive: r.status = check_exclusive(addr, npages); break;
    case DmirrorCmd::Release: r.status = m_dev.has_memory() ? m_dev.evict_all(true) : Status::Inval; break;
    case DmirrorCmd::Flags: m_flags = npages; break;
  }
  return r;
}

// ---- device faults -----------------------------------------------------------

Status Dmirror::fault(uint64_t start, uint64_t end, bool write) {
  ++s_fault_calls;
  if (m_mm.exited()) return Status::Fault;  // mmget_not_zero failed (-EFAULT in current trees)
  for (uint64_t a = start; a < end; a += kFaultChunk << kPageShift) {
    HmmRange r;
    r.notifier = &m_notifier;
    r.start = a;
    r.end = std::min(end, a + (kFaultChunk << kPageShift));
    r.default_flags = kHmmPfnReqFault | (write ? kHmmPfnReqWrite : 0);
    r.pfn_flags_mask = 0;
    r.dev_private_owner = m_dev.owner();
    int tries = 0;
    for (;; ++tries) {
      if (tries >= kMaxRetries) return Status::Busy;
      r.hmm_pfns.assign((r.end - r.start) >> kPageShift, 0);
      r.notifier_seq = m_notifier.read_begin();
      const Status s = hmm_range_fault(m_mm, r);
      if (s == Status::Busy) {
        ++s_range_fault_retries;
        continue;
      }
      if (s != Status::Ok) return s;
      if (m_inject_busy) {  // test hook: a CPU change races the snapshot
        --m_inject_busy;
        m_mm.notifiers().invalidate({r.start, r.end, NotifyEvent::Clear, nullptr});
      }
      if (m_notifier.read_retry(r.notifier_seq)) {  // under the mirror lock
        ++s_range_fault_retries;
        continue;
      }
      break;
    }
    for (size_t i = 0; i < r.hmm_pfns.size(); ++i) {
      const uint64_t e = r.hmm_pfns[i];
      if (write && !(e & kHmmPfnWrite)) return Status::Fault;  // WARN + -EFAULT upstream
      store(r.start + (i << kPageShift), hmm_pfn_to_pfn(e), (e & kHmmPfnWrite) ? kTagWrite : kTagRead);
    }
  }
  if (m_inject_refault) {  // test hook: the new entries are invalidated at once
    --m_inject_refault;
    m_mm.notifiers().invalidate({start, end, NotifyEvent::Clear, nullptr});
  }
  return Status::Ok;
}

Status Dmirror::do_read(uint64_t start, uint64_t end, uint64_t addr, std::vector<uint8_t>& bounce,
                        uint64_t& cpages) {
  PhysMem& phys = m_dev.system().phys;
  for (uint64_t va = start; va < end; va += kPageSize) {
    auto it = m_pt.find(va >> kPageShift);
    if (it == m_pt.end()) return Status::NoEnt;
    phys.read(data_page(it->second.page), 0, bounce.data() + (va - addr), kPageSize);
    ++cpages;
  }
  return Status::Ok;
}

Status Dmirror::do_write(uint64_t start, uint64_t end, uint64_t addr, const std::vector<uint8_t>& data,
                         uint64_t& cpages) {
  PhysMem& phys = m_dev.system().phys;
  for (uint64_t va = start; va < end; va += kPageSize) {
    auto it = m_pt.find(va >> kPageShift);
    if (it == m_pt.end() || it->second.tag != kTagWrite) return Status::NoEnt;
    phys.write(data_page(it->second.page), 0, data.data() + (va - addr), kPageSize);
    m_mm.mark_dirty(va, va + kPageSize);  // the device dirtied it: the CPU side must know
    ++cpages;
  }
  return Status::Ok;
}

Status Dmirror::copy_with_faults(uint64_t addr, uint64_t end, bool write, DmirrorResult& r,
                                 const std::function<Status(uint64_t from)>& copy) {
  // Copy what is mirrored; at the first missing page fault the rest of the
  // range in (one fault round) and go on from there.
  for (;;) {
    Status s = copy(addr + (r.cpages << kPageShift));
    if (s != Status::NoEnt) return s;
    s = fault(addr + (r.cpages << kPageShift), end, write);
    if (s != Status::Ok) return s;
    ++r.faults;
  }
}

Status Dmirror::read(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r) {
  const uint64_t end = addr + (npages << kPageShift);
  std::vector<uint8_t> bounce(npages << kPageShift);
  const Status s = copy_with_faults(addr, end, false, r, [&](uint64_t from) {
    return do_read(from, end, addr, bounce, r.cpages);
  });
  if (s == Status::Ok) buf = std::move(bounce);  // copied to the user only on success
  return s;
}

Status Dmirror::write(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r) {
  const uint64_t end = addr + (npages << kPageShift);
  buf.resize(npages << kPageShift, 0);
  return copy_with_faults(addr, end, true, r, [&](uint64_t from) {
    return do_write(from, end, addr, buf, r.cpages);  // writes as it goes, like the driver
  });
}

// ---- migration -------------------------------------------------------------

void Dmirror::alloc_and_copy(MigrateVma& a) {
  PhysMem& phys = m_dev.system().phys;
  const uint64_t n = a.src.size();
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t s = a.src[i];
    if (!(s & kMigratePfnMigrate)) continue;
    const bool has_src = s & kMigratePfnValid;
    const Pfn spage = migrate_pfn_to_pfn(s);
    if (has_src && DevicePagemaps::is_device(spage)) continue;  // already device memory
    const bool large = s & kMigratePfnCompound;
    const uint64_t write = s & kMigratePfnWrite;  // holes never have it
    Pfn dpage = take_fail_alloc() ? kNoPfn : m_dev.alloc_page(large, this);
    if (dpage == kNoPfn) {
      if (!large) continue;  // stays in system memory
      // No device folio: 512 single device pages instead.
      for (uint64_t k = 0; k < kHugePages && i + k < n; ++k) {
        const Pfn dp = m_dev.alloc_page(false, this);
        if (dp == kNoPfn) break;
        a.dst[i + k] = migrate_pfn(dp) | write;
        if (has_src)
          phys.copy_page(m_dev.backing(dp), spage + k);
        else
          phys.clear_page(m_dev.backing(dp));
      }
      i += kHugePages - 1;
      continue;
    }
    a.dst[i] = migrate_pfn(dpage) | write | (large ? kMigratePfnCompound : 0);
    const uint64_t sub = large ? kHugePages : 1;
    for (uint64_t k = 0; k < sub; ++k) {
      if (has_src)
        phys.copy_page(m_dev.backing(dpage + k), spage + k);
      else
        phys.clear_page(m_dev.backing(dpage + k));
    }
    i += sub - 1;
  }
}

void Dmirror::finalize_and_map(MigrateVma& a) {
  // Map the migrated pages on the device right away (their backing pages).
  for (uint64_t i = 0; i < a.src.size(); ++i) {
    if (!(a.src[i] & kMigratePfnMigrate) || !(a.dst[i] & kMigratePfnValid)) continue;
    const Pfn d = migrate_pfn_to_pfn(a.dst[i]);
    const uint64_t sub = (a.dst[i] & kMigratePfnCompound) ? kHugePages : 1;
    const uint8_t tag = (a.dst[i] & kMigratePfnWrite) ? kTagWrite : kTagRead;
    for (uint64_t k = 0; k < sub; ++k) store(a.start + ((i + k) << kPageShift), m_dev.backing(d + k), tag);
  }
}

Status Dmirror::for_each_chunk(uint64_t addr, uint64_t end, uint32_t flags,
                               const std::function<Status(MigrateVma&)>& move) {
  // Per VMA, at most 512 pages per migrate_vma call, as the driver does.
  for (uint64_t a = addr, next; a < end; a = next) {
    const Vma* vma = m_mm.find_vma(a);
    if (!vma || !(vma->prot & kProtRead)) return Status::Inval;
    next = std::min({end, a + (kMigrateChunk << kPageShift), vma->end});
    MigrateVma m;
    m.start = a;
    m.end = next;
    m.flags = flags;
    m.pgmap_owner = m_dev.owner();
    if (migrate_vma_setup(m_mm, m) != Status::Ok) return Status::Inval;
    if (const Status s = move(m); s != Status::Ok) return s;
  }
  return Status::Ok;
}

Status Dmirror::migrate_to_device(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r) {
  const uint64_t end = addr + (npages << kPageShift);
  const Status s = for_each_chunk(addr, end, kSelectSystem | kSelectCompound, [this](MigrateVma& m) {
    alloc_and_copy(m);
    migrate_vma_pages(m_mm, m);
    finalize_and_map(m);
    migrate_vma_finalize(m_mm, m);
    return Status::Ok;
  });
  if (s != Status::Ok) return s;
  // Everything in the range must now be mirrored.
  std::vector<uint8_t> bounce(npages << kPageShift);
  uint64_t cpages = 0;
  if (do_read(addr, end, addr, bounce, cpages) != Status::Ok) return Status::NoEnt;
  buf = std::move(bounce);
  r.cpages = npages;
  return Status::Ok;
}

Status Dmirror::migrate_to_system(uint64_t addr, uint64_t npages, DmirrorResult& r) {
  const uint64_t end = addr + (npages << kPageShift);
  return for_each_chunk(addr, end, kSelectDevicePrivate | kSelectCompound, [this, &r](MigrateVma& m) {
    if (m_dev.fault_alloc_and_copy(m, this) != Status::Ok) {
      migrate_vma_finalize(m_mm, m);
      return Status::NoMem;
    }
    migrate_vma_pages(m_mm, m);
    for (uint64_t s : m.src)
      if ((s & kMigratePfnValid) && (s & kMigratePfnMigrate)) ++r.cpages;
    migrate_vma_finalize(m_mm, m);
    return Status::Ok;
  });
}

// ---- snapshot and exclusive access -------------------------------------------

uint8_t Dmirror::snapshot_byte(uint64_t e) const {
  if (e & kHmmPfnError) return snap::kError;
  if (!(e & kHmmPfnValid)) return snap::kNone;
  const Pfn pfn = hmm_pfn_to_pfn(e);
  const unsigned order = hmm_pfn_to_map_order(e);
  uint8_t b = 0;
  if (DevicePagemaps::is_device(pfn))
    b = m_dev.owns(pfn) ? snap::kDevPrivateLocal : snap::kDevPrivateRemote;
  else if (pfn == m_dev.system().phys.zero_pfn() && order == 0)
    b = snap::kZero;  // the huge zero page is not is_zero_pfn()
  b |= (e & kHmmPfnWrite) ? snap::kWrite : snap::kRead;
  if (order == 9) b |= snap::kPmd;
  if (order == 18) b |= snap::kPud;
  return b;
}

Status Dmirror::snapshot(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r) {
  buf.assign(npages, 0);
  for (uint64_t i = 0; i < npages; i += kFaultChunk) {
    HmmRange h;
    h.start = addr + (i << kPageShift);
    h.end = h.start + (std::min(kFaultChunk, npages - i) << kPageShift);
    h.hmm_pfns.assign((h.end - h.start) >> kPageShift, 0);
    h.dev_private_owner = m_dev.owner();
    const Status s = hmm_range_fault(m_mm, h);  // no request flags: never faults
    if (s != Status::Ok) return s;
    for (size_t k = 0; k < h.hmm_pfns.size(); ++k) buf[i + k] = snapshot_byte(h.hmm_pfns[k]);
    r.cpages += h.hmm_pfns.size();
  }
  return Status::Ok;
}

Status Dmirror::exclusive(uint64_t addr, uint64_t npages, std::vector<uint8_t>& buf, DmirrorResult& r) {
  const uint64_t end = addr + (npages << kPageShift);
  for (uint64_t va = addr; va < end; va += kPageSize) {
    Pfn pfn = kNoPfn;
    // dmirror passes no owner, so its own notifier drops the entry too.
    const Status s = m_mm.make_device_exclusive(va, nullptr, &pfn);
    if (s != Status::Ok) return s;
    store(va, pfn, kTagAtomic);
  }
  std::vector<uint8_t> bounce(npages << kPageShift);
  uint64_t cpages = 0;
  if (do_read(addr, end, addr, bounce, cpages) != Status::Ok) return Status::NoEnt;
  buf = std::move(bounce);
  r.cpages = npages;
  return Status::Ok;
}

Status Dmirror::check_exclusive(uint64_t addr, uint64_t npages) {
  for (auto it = m_pt.lower_bound(addr >> kPageShift); it != m_pt.end() && it->first < (addr >> kPageShift) + npages;
       ++it)
    if (it->second.tag == kTagAtomic) return Status::Perm;
  return Status::Ok;
}

}  // namespace hmmsim::host
