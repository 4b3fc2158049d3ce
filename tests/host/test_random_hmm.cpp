// Randomized HMM stress: seeded sequences of CPU writes and reads, device
// writes and reads, migrations both ways, mprotect, munmap/mmap, madvise,
// fork/exit and device release across two test devices. After every step:
//  - every mapped page of every process holds what the oracle expects
//    (read through the page tables without disturbing them), and
//  - no device mapping survives an invalidation of its range: every mirror
//    entry names the page the CPU page table maps there right now.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>

#include "host/test_device/dmirror.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t P = kPageSize;
constexpr uint64_t kBase = 0x200000000ull;
constexpr uint64_t kPages = 640;  // one buffer: a THP-enabled 2 MiB block, then 512 KiB of 4 KiB pages

struct Proc {
  std::unique_ptr<AddressSpace> mm;
  std::map<uint64_t, std::vector<uint8_t>> expect;  // page va -> content (absent: zero)
  std::set<uint64_t> mapped;                         // page vas mapped
  std::set<uint64_t> readonly;                       // page vas mprotected read-only
};

class RandomHmm {
 public:
  explicit RandomHmm(uint64_t seed) : m_rng(seed), m_sys(16384) {
    DmirrorDeviceSpec s;
    s.chunk_pages = 1024;  // small device memory: allocation failures happen
    s.max_chunks = 1;
    s.name = "dmirror0";
    m_dev[0] = std::make_unique<DmirrorDevice>(m_sys, s);
    s.name = "dmirror1";
    m_dev[1] = std::make_unique<DmirrorDevice>(m_sys, s);
    Proc& main = m_procs["main"];
    main.mm = std::make_unique<AddressSpace>(m_sys);
    EXPECT_EQ(main.mm->mmap_fixed(kBase, kPages * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
    EXPECT_EQ(main.mm->madvise(kBase, kHugeSize, Advice::Hugepage), Status::Ok);
    for (uint64_t i = 0; i < kPages; ++i) main.mapped.insert(kBase + i * P);
    m_mirror[0] = m_dev[0]->open(*main.mm);
    m_mirror[1] = m_dev[1]->open(*main.mm);
  }
  ~RandomHmm() {
    m_mirror[0].reset();
    m_mirror[1].reset();
    m_procs.clear();
  }

  // Runs `steps` random operations; returns the first failure, or "".
  std::string run(int steps);

 private:
  uint64_t pick(uint64_t n) { return std::uniform_int_distribution<uint64_t>(0, n - 1)(m_rng); }
  // A random run of pages inside the buffer: [first, first + n).
  std::pair<uint64_t, uint64_t> range(uint64_t max_len = 40) {
    const uint64_t first = pick(kPages);
    const uint64_t n = 1 + pick(std::min(max_len, kPages - first));
    return {first, n};
  }
  bool all(const std::set<uint64_t>& s, uint64_t first, uint64_t n) const {
    for (uint64_t i = first; i < first + n; ++i)
      if (!s.count(kBase + i * P)) return false;
    return true;
  }
  bool none(const std::set<uint64_t>& s, uint64_t first, uint64_t n) const {
    for (uint64_t i = first; i < first + n; ++i)
      if (s.count(kBase + i * P)) return false;
    return true;
  }
  std::vector<uint8_t> page_data(uint32_t tag) const {
    std::vector<uint8_t> d(P);
    for (uint64_t w = 0; w < P; w += 4) {
      const uint32_t v = tag * 2654435761u + static_cast<uint32_t>(w);
      std::memcpy(&d[w], &v, 4);
    }
    return d;
  }
  Proc& random_proc() {
    auto it = m_procs.begin();
    std::advance(it, pick(m_procs.size()));
    return it->second;
  }
  std::string check();
  std::string refcounts();
  std::string peek_mismatch(const std::string& name, Proc& p);
  std::vector<uint8_t> peek(Proc& p, uint64_t va);  // page content through the page tables
  std::string mirror_mismatch(int d);

  std::mt19937_64 m_rng;
  HostSystem m_sys;
  std::unique_ptr<DmirrorDevice> m_dev[2];
  std::map<std::string, Proc> m_procs;
  std::unique_ptr<Dmirror> m_mirror[2];
  int m_children = 0;

 public:
  std::map<int, uint64_t> m_ops;  // how often each operation ran (the test checks all did)
  uint64_t thp_faults() { return m_procs["main"].mm->s_thp_faults; }
  uint64_t thp_splits() { return m_procs["main"].mm->s_thp_splits; }

 private:
  std::string m_last;
};

std::vector<uint8_t> RandomHmm::peek(Proc& p, uint64_t va) {
  std::vector<uint8_t> got(P, 0);
  const Pte e = p.mm->pte(va);
  Pfn data = kNoPfn;
  if (e.kind == PteKind::Present || e.kind == PteKind::Exclusive || e.kind == PteKind::Migration) data = e.pfn;
  if (e.kind == PteKind::DevicePrivate)
    for (auto& d : m_dev)
      if (d->owns(e.pfn)) data = d->backing(e.pfn);
  if (data != kNoPfn) m_sys.phys.read(data, 0, got.data(), P);
  return got;
}

std::string RandomHmm::peek_mismatch(const std::string& name, Proc& p) {
  static const std::vector<uint8_t> zero(P, 0);
  for (uint64_t va : p.mapped) {
    const Pte e = p.mm->pte(va);
    if (e.kind == PteKind::Migration) return name + ": migration entry left behind";
    if (e.kind == PteKind::DevicePrivate && !m_dev[0]->owns(e.pfn) && !m_dev[1]->owns(e.pfn))
      return name + ": device page without owner at " + std::to_string(va);
    const std::vector<uint8_t> got = peek(p, va);
    auto it = p.expect.find(va);
    const std::vector<uint8_t>& want = it == p.expect.end() ? zero : it->second;
    if (got != want) {
      std::ostringstream os;
      os << name << ": page 0x" << std::hex << va << " (" << to_string(e.kind) << ") holds wrong data";
      return os.str();
    }
  }
  return "";
}

std::string RandomHmm::mirror_mismatch(int d) {
  AddressSpace& mm = *m_procs["main"].mm;
  for (auto& [vpn, ent] : m_mirror[d]->page_table()) {
    const uint64_t va = vpn << kPageShift;
    const Pte e = mm.pte(va);
    Pfn cpu = kNoPfn;
    if (e.kind == PteKind::Present || e.kind == PteKind::Exclusive) cpu = e.pfn;
    if (e.kind == PteKind::DevicePrivate) cpu = m_dev[d]->owns(e.pfn) ? m_dev[d]->backing(e.pfn) : e.pfn;
    const Pfn dev = DevicePagemaps::is_device(ent.page) ? m_dev[d]->backing(ent.page) : ent.page;
    std::ostringstream os;
    os << "mirror " << d << ": entry at 0x" << std::hex << va << " survived a change of the CPU page table ("
       << to_string(e.kind) << ")";
    if (cpu != dev) return os.str();
    if (ent.tag == Dmirror::kTagWrite && !e.write) return os.str() + " [writable on device, read-only on CPU]";
  }
  return "";
}

// References: every mapped page is referenced exactly by its mappings (no
// pins here), and every allocated frame is either mapped or the backing page
// of a device page in use. Catches leaks and double puts.
std::string RandomHmm::refcounts() {
  std::set<Pfn> sys_pages, dev_pages;
  for (auto& [name, p] : m_procs)
    for (auto& [va, e] : p.mm->entries(0, 1ull << 47)) {
      if (e.pfn == m_sys.phys.zero_pfn()) continue;
      (DevicePagemaps::is_device(e.pfn) ? dev_pages : sys_pages).insert(e.pfn);
    }
  for (Pfn f : sys_pages)
    if (m_sys.phys.refcount(f) != m_sys.rmap.mapcount(f))
      return "frame " + std::to_string(f) + " has " + std::to_string(m_sys.phys.refcount(f)) + " references for " +
             std::to_string(m_sys.rmap.mapcount(f)) + " mappings";
  for (Pfn f : dev_pages)
    if (m_sys.pagemaps.refcount(f) != m_sys.rmap.mapcount(f))
      return "device page " + std::to_string(f) + " has " + std::to_string(m_sys.pagemaps.refcount(f)) +
             " references for " + std::to_string(m_sys.rmap.mapcount(f)) + " mappings";
  const uint64_t allocated = m_sys.phys.frames() - m_sys.phys.free_frames() - 1;  // minus the zero page
  const uint64_t accounted = sys_pages.size() + m_dev[0]->pages_in_use() + m_dev[1]->pages_in_use();
  if (dev_pages.size() != m_dev[0]->pages_in_use() + m_dev[1]->pages_in_use())
    return "device pages in use " + std::to_string(m_dev[0]->pages_in_use() + m_dev[1]->pages_in_use()) +
           ", mapped " + std::to_string(dev_pages.size());
  if (allocated != accounted)
    return "frames allocated " + std::to_string(allocated) + ", accounted for " + std::to_string(accounted);
  return "";
}

std::string RandomHmm::check() {
  if (std::string s = refcounts(); !s.empty()) return s;
  for (auto& [name, p] : m_procs)
    if (!p.mm->exited()) {
      std::string s = peek_mismatch(name, p);
      if (!s.empty()) return s;
    }
  for (int d = 0; d < 2; ++d) {
    std::string s = mirror_mismatch(d);
    if (!s.empty()) return s;
  }
  return "";
}

std::string RandomHmm::run(int steps) {
  for (int step = 0; step < steps; ++step) {
    const int op = static_cast<int>(pick(14));
    ++m_ops[op];
    Proc& main = m_procs["main"];
    std::ostringstream what;
    what << "step " << step << " op " << op;
    auto [first, n] = range();
    const uint64_t va = kBase + first * P;
    const int d = static_cast<int>(pick(2));
    std::vector<uint8_t> buf;
    switch (op) {
      case 0:
      case 1: {  // CPU write in some process
        Proc& p = random_proc();
        if (p.mm->exited() || !all(p.mapped, first, n) || !none(p.readonly, first, n)) break;
        const uint32_t tag = static_cast<uint32_t>(m_rng());
        std::vector<uint8_t> data;
        for (uint64_t i = 0; i < n; ++i) {
          auto pd = page_data(tag + static_cast<uint32_t>(i));
          data.insert(data.end(), pd.begin(), pd.end());
        }
        if (p.mm->cpu_write(va, data.data(), data.size()) != Status::Ok) return what.str() + ": cpu write failed";
        for (uint64_t i = 0; i < n; ++i)
          p.expect[va + i * P] = std::vector<uint8_t>(data.begin() + i * P, data.begin() + (i + 1) * P);
        break;
      }
      case 2: {  // CPU read (migrates device pages back) and compare
        Proc& p = random_proc();
        if (p.mm->exited()) break;
        std::vector<uint8_t> got(n * P);
        const Status s = p.mm->cpu_read(va, got.data(), got.size());
        if (!all(p.mapped, first, n)) {
          if (s != Status::Fault) return what.str() + ": cpu read of unmapped memory did not fault";
          break;
        }
        if (s != Status::Ok) return what.str() + ": cpu read failed: " + to_string(s);
        for (uint64_t i = 0; i < n; ++i) {
          auto it = p.expect.find(va + i * P);
          const bool ok = it == p.expect.end()
                              ? std::all_of(got.begin() + i * P, got.begin() + (i + 1) * P, [](uint8_t b) { return b == 0; })
                              : std::equal(it->second.begin(), it->second.end(), got.begin() + i * P);
          if (!ok) return what.str() + ": cpu read returned wrong data";
        }
        break;
      }
      case 3: {  // device write
        if (!all(main.mapped, first, n) || !none(main.readonly, first, n)) break;
        const uint32_t tag = static_cast<uint32_t>(m_rng());
        for (uint64_t i = 0; i < n; ++i) {
          auto pd = page_data(tag + static_cast<uint32_t>(i));
          buf.insert(buf.end(), pd.begin(), pd.end());
        }
        // Linux quirk kept by the model: the device's own private pages mapped
        // read-only (after fork or mprotect) make a device write fail with
        // EFAULT, after the pages before them were already written.
        bool own_ro = false;
        for (uint64_t i = 0; i < n; ++i) {
          const Pte e = main.mm->pte(va + i * P);
          own_ro |= e.kind == PteKind::DevicePrivate && !e.write && m_dev[d]->owns(e.pfn);
        }
        const std::vector<uint8_t> data = buf;
        const DmirrorResult r = m_mirror[d]->run(DmirrorCmd::Write, va, n, buf);
        if (r.status == Status::Fault && own_ro) {
          for (uint64_t i = 0; i < n; ++i) {  // each page holds the old or the new content
            const uint64_t a = va + i * P;
            const std::vector<uint8_t> now = peek(main, a);
            const std::vector<uint8_t> fresh(data.begin() + i * P, data.begin() + (i + 1) * P);
            auto it = main.expect.find(a);
            const bool old_ok = it == main.expect.end() ? now == std::vector<uint8_t>(P, 0) : now == it->second;
            if (now == fresh)
              main.expect[a] = fresh;
            else if (!old_ok)
              return what.str() + ": a failed device write left a page with neither old nor new data";
          }
          break;
        }
        if (r.status != Status::Ok) return what.str() + ": device write failed: " + to_string(r.status);
        for (uint64_t i = 0; i < n; ++i) main.expect[va + i * P] = std::vector<uint8_t>(data.begin() + i * P, data.begin() + (i + 1) * P);
        break;
      }
      case 4: {  // device read
        if (!all(main.mapped, first, n)) break;
        const DmirrorResult r = m_mirror[d]->run(DmirrorCmd::Read, va, n, buf);
        if (r.status != Status::Ok) return what.str() + ": device read failed: " + to_string(r.status);
        for (uint64_t i = 0; i < n; ++i) {
          auto it = main.expect.find(va + i * P);
          const bool ok = it == main.expect.end()
                              ? std::all_of(buf.begin() + i * P, buf.begin() + (i + 1) * P, [](uint8_t b) { return b == 0; })
                              : std::equal(it->second.begin(), it->second.end(), buf.begin() + i * P);
          if (!ok) return what.str() + ": device read returned wrong data";
        }
        break;
      }
      case 5:
      case 6: {  // migrate to the device (may run out of device memory: ENOENT is fine)
        if (!all(main.mapped, first, n)) break;
        const DmirrorResult r = m_mirror[d]->run(DmirrorCmd::MigrateToDev, va, n, buf);
        if (r.status != Status::Ok && r.status != Status::NoEnt)
          return what.str() + ": migrate_to_dev failed: " + to_string(r.status);
        break;
      }
      case 7: {  // migrate back
        if (!all(main.mapped, first, n)) break;
        const DmirrorResult r = m_mirror[d]->run(DmirrorCmd::MigrateToSys, va, n, buf);
        if (r.status != Status::Ok) return what.str() + ": migrate_to_sys failed: " + to_string(r.status);
        break;
      }
      case 8: {  // mprotect
        if (!all(main.mapped, first, n)) break;
        const bool ro = pick(2);
        if (main.mm->mprotect(va, n * P, ro ? kProtRead : (kProtRead | kProtWrite)) != Status::Ok)
          return what.str() + ": mprotect failed";
        for (uint64_t i = 0; i < n; ++i) ro ? (void)main.readonly.insert(va + i * P) : (void)main.readonly.erase(va + i * P);
        break;
      }
      case 9: {  // munmap a small piece, or map a hole back
        if (pick(2) && all(main.mapped, first, n)) {
          n = std::min<uint64_t>(n, 4);
          if (main.mm->munmap(va, n * P) != Status::Ok) return what.str() + ": munmap failed";
          for (uint64_t i = 0; i < n; ++i) {
            main.mapped.erase(va + i * P);
            main.expect.erase(va + i * P);
            main.readonly.erase(va + i * P);
          }
        } else if (none(main.mapped, first, 1)) {
          if (main.mm->mmap_fixed(va, P, kProtRead | kProtWrite, VmaKind::AnonPrivate) != Status::Ok)
            return what.str() + ": mmap failed";
          main.mapped.insert(va);
        }
        break;
      }
      case 10: {  // fork, or exit a child
        if (m_children < 2 && pick(2)) {
          const std::string name = "child" + std::to_string(m_children++) + "_" + std::to_string(step);
          Proc c;
          c.mm = main.mm->fork();
          c.expect = main.expect;
          c.mapped = main.mapped;
          c.readonly = main.readonly;
          m_procs[name] = std::move(c);
        } else {
          for (auto it = m_procs.begin(); it != m_procs.end(); ++it)
            if (it->first != "main") {
              it->second.mm->exit();
              m_procs.erase(it);
              --m_children;
              break;
            }
        }
        break;
      }
      case 11: {  // release a device's memory
        if (pick(4)) break;  // rarer than the rest
        const DmirrorResult r = m_mirror[d]->run(DmirrorCmd::Release, kBase, 1, buf);
        if (r.status != Status::Ok) return what.str() + ": release failed: " + to_string(r.status);
        break;
      }
      case 13: {  // map the THP block afresh and write into it: a new huge page
        if (main.mm->munmap(kBase, kHugeSize) != Status::Ok ||
            main.mm->mmap_fixed(kBase, kHugeSize, kProtRead | kProtWrite, VmaKind::AnonPrivate) != Status::Ok ||
            main.mm->madvise(kBase, kHugeSize, Advice::Hugepage) != Status::Ok)
          return what.str() + ": remapping the huge block failed";
        for (uint64_t i = 0; i < 512; ++i) {
          main.expect.erase(kBase + i * P);
          main.readonly.erase(kBase + i * P);
          main.mapped.insert(kBase + i * P);
        }
        const uint32_t tag = static_cast<uint32_t>(m_rng());
        const std::vector<uint8_t> d = page_data(tag);
        const uint64_t at = kBase + pick(512) * P;
        if (main.mm->cpu_write(at, d.data(), P) != Status::Ok) return what.str() + ": cpu write failed";
        main.expect[at] = d;
        break;
      }
      case 12: {  // discard without write-back
        if (!all(main.mapped, first, n)) break;
        if (main.mm->madvise(va, n * P, Advice::DontNeed) != Status::Ok) return what.str() + ": madvise failed";
        for (uint64_t i = 0; i < n; ++i) main.expect.erase(va + i * P);
        break;
      }
    }
    const std::string bad = check();
    if (!bad.empty()) return what.str() + ": " + bad;
  }
  return "";
}

class RandomHmmTest : public ::testing::TestWithParam<uint64_t> {};

// 10 seeds x 1000 steps = 10,000 checked steps per run.
TEST_P(RandomHmmTest, ThousandStepsKeepDataAndMirrorsConsistent) {
  RandomHmm r(GetParam());
  const std::string failure = r.run(1000);
  EXPECT_EQ(failure, "") << "seed " << GetParam();
  for (int op = 0; op < 14; ++op) EXPECT_GT(r.m_ops[op], 20u) << "operation " << op << " hardly ran";
  EXPECT_GT(r.thp_faults(), 0u) << "no transparent huge page was ever made";
  EXPECT_GT(r.thp_splits(), 0u) << "no huge mapping was ever split";
}

INSTANTIATE_TEST_SUITE_P(Seeds, RandomHmmTest, ::testing::Range<uint64_t>(1, 11));

}  // namespace
