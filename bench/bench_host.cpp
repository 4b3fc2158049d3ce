// Host-side hot paths, without the simulator: the HMM core (hmm_range_fault,
// migrate_vma) and one GPU-driver fault batch. These run once per GPU fault
// or migration in every simulation, so their host cost bounds how fast a
// fault-heavy workload can be simulated. items_per_second is pages per host
// second.
//
//   build/release/bench/hmm_bench --benchmark_filter='HmmRangeFault|MigrateVma|FaultBatch'
//
// Each benchmark checks after (or during) its loop that the work happened
// and reports an error otherwise, so a silent no-op cannot pass for speed.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstring>
#include <vector>

#include "host/common/lock.h"
#include "host/gpu_driver/device_bus.h"
#include "host/gpu_driver/gpu_driver.h"
#include "host/hmm/migrate.h"
#include "host/hmm/range_fault.h"
#include "host/mm/address_space.h"
#include "hwref/fault_entry.h"
#include "hwref/gpu_regs.h"

namespace {

using namespace hmmsim::host;
namespace hw = hmmsim::hwref;
namespace bar0 = hw::bar0;
using Clock = std::chrono::steady_clock;

constexpr uint64_t P = kPageSize;
constexpr uint64_t kBase = 0x100000000;  // 4 GiB, 2 MiB aligned
constexpr uint32_t kRW = kProtRead | kProtWrite;

double seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// A whole-space interval notifier that accepts every invalidation, as a
// mirroring driver does: range_fault checks its sequence on every page.
struct Mirror : IMmuIntervalNotifierOps {
  explicit Mirror(AddressSpace& m) : mm(m), n(0, ~0ull, this) { mm.notifiers().insert(&n); }
  ~Mirror() override { mm.notifiers().remove(&n); }
  bool invalidate(MmuIntervalNotifier& nn, const NotifierRange&, uint64_t seq) override {
    nn.set_seq(seq);
    return true;
  }
  AddressSpace& mm;
  MmuIntervalNotifier n;
};

bool all_valid_writable(const HmmRange& r) {
  return std::all_of(r.hmm_pfns.begin(), r.hmm_pfns.end(), [](uint64_t e) {
    return (e & kHmmPfnValid) && (e & kHmmPfnWrite) && !(e & kHmmPfnError);
  });
}

// ---- hmm_range_fault -------------------------------------------------------

// Snapshot of N present pages (no request flags): what a driver's mirror
// does on every fault to read the CPU page table before mapping pages.
// Measures the per-page walk (VMA lookup, PTE lookup, notifier check).
void BM_HmmRangeFaultPerPage(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  HostSystem sys(n + 64);
  AddressSpace mm(sys);
  Mirror mirror(mm);
  bool ok = mm.mmap_fixed(kBase, n * P, kRW, VmaKind::AnonPrivate) == Status::Ok;
  const uint8_t b = 1;  // one written byte makes a page present and writable
  for (uint64_t i = 0; ok && i < n; ++i) ok = mm.cpu_write(kBase + i * P, &b, 1) == Status::Ok;
  if (!ok) {
    state.SkipWithError("setup failed");
    return;
  }
  HmmRange r;
  r.notifier = &mirror.n;
  r.start = kBase;
  r.end = kBase + n * P;
  for (auto _ : state) {
    r.notifier_seq = mirror.n.read_begin();
    r.hmm_pfns.assign(n, 0);  // a driver refills its request words each call
    if (hmm_range_fault(mm, r) != Status::Ok) {
      state.SkipWithError("hmm_range_fault failed");
      break;
    }
    benchmark::DoNotOptimize(r.hmm_pfns.data());
  }
  if (!all_valid_writable(r)) state.SkipWithError("pages not reported valid and writable");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_HmmRangeFaultPerPage)->Arg(1)->Arg(64)->Arg(512);

// First touch: N untouched pages with REQ_FAULT | REQ_WRITE, so every page
// takes handle_fault and gets a fresh frame (a device writing a new buffer).
// Each iteration uses the next fresh range of a 16 MiB mapping; only when it
// is used up is the mapping torn down and remade, outside the timed region,
// so Pause/ResumeTiming's own cost stays off the 1-page figure.
void BM_HmmRangeFaultPerPage_FirstTouch(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  constexpr uint64_t kRegionPages = 4096;
  HostSystem sys(kRegionPages + 64);
  AddressSpace mm(sys);
  Mirror mirror(mm);
  if (mm.mmap_fixed(kBase, kRegionPages * P, kRW, VmaKind::AnonPrivate) != Status::Ok) {
    state.SkipWithError("mmap failed");
    return;
  }
  const uint64_t faults0 = mm.s_cpu_faults;
  HmmRange r;
  r.notifier = &mirror.n;
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  uint64_t next = 0;  // first unused page of the mapping
  for (auto _ : state) {
    if (next + n > kRegionPages) {
      state.PauseTiming();
      mm.munmap(kBase, kRegionPages * P);
      const Status s = mm.mmap_fixed(kBase, kRegionPages * P, kRW, VmaKind::AnonPrivate);
      next = 0;
      state.ResumeTiming();
      if (s != Status::Ok) {
        state.SkipWithError("mmap failed");
        break;
      }
    }
    r.start = kBase + next * P;
    r.end = r.start + n * P;
    r.notifier_seq = mirror.n.read_begin();
    r.hmm_pfns.assign(n, 0);
    if (hmm_range_fault(mm, r) != Status::Ok) {
      state.SkipWithError("hmm_range_fault failed");
      break;
    }
    next += n;
  }
  // Every page of every iteration must have been faulted in, not found.
  if (mm.s_cpu_faults - faults0 != state.iterations() * n || !all_valid_writable(r))
    state.SkipWithError("pages were not faulted in");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
BENCHMARK(BM_HmmRangeFaultPerPage_FirstTouch)->Arg(1)->Arg(64)->Arg(512);

// ---- migrate_vma -----------------------------------------------------------

// Device-private memory with a flat page store: the driver's part of a
// migration (allocate a device page, copy 4 KiB) stays as cheap as a memcpy,
// so the figures are mostly the migrate_vma phases themselves.
struct BenchDevice : IPagemapOps {
  BenchDevice(HostSystem& s, uint64_t n) : sys(s), store(n * P) {
    pm = &s.pagemaps.add("bench-dev", this, this, n);
    for (uint64_t i = n; i-- > 0;) free_list.push_back(pm->base + i);
  }
  Pfn alloc() {
    if (free_list.empty()) return kNoPfn;
    const Pfn p = free_list.back();
    free_list.pop_back();
    sys.pagemaps.init_page(p);
    return p;
  }
  uint8_t* data(Pfn p) { return store.data() + (p - pm->base) * P; }
  // The benchmark never lets the CPU touch a device page.
  Status migrate_to_ram(AddressSpace&, uint64_t, Pfn) override {
    ++cpu_faults;
    return Status::Fault;
  }
  void page_free(Pfn p) override { free_list.push_back(p); }

  HostSystem& sys;
  DevicePagemap* pm = nullptr;
  std::vector<uint8_t> store;
  std::vector<Pfn> free_list;
  uint64_t cpu_faults = 0;
};

// setup -> allocate + copy -> pages -> finalize, in one direction. Returns
// the pages that migrated (MIGRATE still set after migrate_vma_pages).
uint64_t migrate_range(AddressSpace& mm, BenchDevice& dev, MigrateVma& a, uint64_t start,
                       uint64_t end, bool to_device) {
  PhysMem& phys = mm.system().phys;
  a.start = start;
  a.end = end;
  a.flags = to_device ? kSelectSystem : kSelectDevicePrivate;
  a.pgmap_owner = &dev;
  if (migrate_vma_setup(mm, a) != Status::Ok) return 0;
  for (size_t i = 0; i < a.src.size(); ++i) {
    if (!(a.src[i] & kMigratePfnMigrate)) continue;
    const Pfn s = migrate_pfn_to_pfn(a.src[i]);
    const Pfn d = to_device ? dev.alloc() : phys.alloc();
    if (d == kNoPfn) continue;  // left behind: finalize restores it
    if (!to_device)
      phys.write(d, 0, dev.data(s), P);
    else if (a.src[i] & kMigratePfnValid)
      phys.read(s, 0, dev.data(d), P);
    else
      std::memset(dev.data(d), 0, P);  // a hole
    a.dst[i] = migrate_pfn(d) | (a.src[i] & kMigratePfnWrite);
  }
  migrate_vma_pages(mm, a);
  uint64_t moved = 0;
  for (uint64_t s : a.src) moved += (s & kMigratePfnMigrate) ? 1 : 0;
  migrate_vma_finalize(mm, a);
  return moved;
}

// N present, written system pages to device-private pages and back, each
// iteration one round trip; only the direction named is timed (manual time),
// the other one restores the starting state. This is the page-moving core
// under every GPU migration and every CPU touch of a device page.
void migrate_bench(benchmark::State& state, bool time_to_device) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  HostSystem sys(2 * n + 64);
  BenchDevice dev(sys, n);  // outlives mm: mm's teardown puts device pages
  AddressSpace mm(sys);
  Mirror mirror(mm);  // a mirror hears every MIGRATE event, as with a driver
  std::vector<uint8_t> page(P);
  for (uint64_t i = 0; i < P; ++i) page[i] = static_cast<uint8_t>(i * 7 + 3);
  bool ok = mm.mmap_fixed(kBase, n * P, kRW, VmaKind::AnonPrivate) == Status::Ok;
  for (uint64_t i = 0; ok && i < n; ++i) ok = mm.cpu_write(kBase + i * P, page.data(), P) == Status::Ok;
  if (!ok) {
    state.SkipWithError("setup failed");
    return;
  }
  const uint64_t end = kBase + n * P;
  MigrateVma a;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    const uint64_t in = migrate_range(mm, dev, a, kBase, end, true);
    const auto t1 = Clock::now();
    const uint64_t out = migrate_range(mm, dev, a, kBase, end, false);
    const auto t2 = Clock::now();
    state.SetIterationTime(time_to_device ? seconds(t0, t1) : seconds(t1, t2));
    if (in != n || out != n) {
      state.SkipWithError("pages not migrated");
      break;
    }
  }
  // Back where it started, data intact, no device page lost.
  std::vector<uint8_t> got(P, 0);
  if (mm.pte(kBase).kind != PteKind::Present || mm.cpu_read(end - P, got.data(), P) != Status::Ok ||
      got != page || dev.free_list.size() != n || dev.cpu_faults != 0)
    state.SkipWithError("round trip left the pages wrong");
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * n));
}
void BM_MigrateVmaPerPage_ToDevice(benchmark::State& state) { migrate_bench(state, true); }
void BM_MigrateVmaPerPage_ToRam(benchmark::State& state) { migrate_bench(state, false); }
BENCHMARK(BM_MigrateVmaPerPage_ToDevice)->Arg(1)->Arg(64)->Arg(512)->UseManualTime();
BENCHMARK(BM_MigrateVmaPerPage_ToRam)->Arg(1)->Arg(64)->Arg(512)->UseManualTime();

// ---- GPU driver fault batch ------------------------------------------------

// The device as the driver sees it, reduced to what a fault batch uses:
// a register file, VRAM bytes, a synchronous copy engine (engine 0's legacy
// block: kCeCount reads 0), TLB invalidates that complete at once, and the
// GMMU's side of the fault ring. Unlike tests/host/FakeDeviceBus it keeps
// no logs (they would grow every iteration) and needs no GoogleTest.
class BenchBus : public DeviceBus {
 public:
  BenchBus(PhysMem& phys, uint64_t vram_bytes) : m_phys(phys), m_vram(vram_bytes, 0) {
    reg(bar0::kId) = hw::kIdValue;
  }
  uint32_t mmio_read32(uint64_t off) override { return reg_ok(off) ? reg(off) : 0; }
  void mmio_write32(uint64_t off, uint32_t v) override {
    if (!reg_ok(off)) return;
    switch (off) {
      case bar0::kFaultBufEntries:  // (re)programming the ring resets both pointers
        reg(off) = v;
        reg(bar0::kFaultBufPut) = reg(bar0::kFaultBufGet) = 0;
        return;
      case bar0::kFaultBufStatus:
      case bar0::kIntrStatus: reg(off) &= ~v; return;  // write 1 to clear
      case bar0::kId:
      case bar0::kFaultBufPut:
      case bar0::kTlbInvAck:
      case bar0::kCeDoneSeq: return;  // read-only
      case bar0::kTlbInvTrigger: ++reg(bar0::kTlbInvAck); return;  // completes at once
      case bar0::kReplay: ++replays; return;
      case bar0::kCeDoorbell:
        run_copy();
        reg(bar0::kCeDoneSeq) = v;
        ++m_copy_irqs;
        return;
      default: reg(off) = v;
    }
  }
  void vram_write(uint64_t pa, const void* src, uint64_t len) override {
    if (vram_ok(pa, len)) std::memcpy(m_vram.data() + pa, src, len);
  }
  void vram_read(uint64_t pa, void* dst, uint64_t len) override {
    if (vram_ok(pa, len)) std::memcpy(dst, m_vram.data() + pa, len);
  }
  void wait_irq(uint32_t vector) override {
    if (vector == hw::kMsiVectorCopy && m_copy_irqs > 0)
      --m_copy_irqs;
    else
      ++errors;  // it would block forever
  }
  void cpu_work(double) override {}
  uint64_t now_ps() const override { return 0; }

  // The GMMU's part: one replayable fault entry at PUT.
  bool push_fault(uint64_t va, hw::AccessType access) {
    const uint32_t entries = reg(bar0::kFaultBufEntries), put = reg(bar0::kFaultBufPut);
    if (entries == 0 || (put + 1) % entries == reg(bar0::kFaultBufGet)) return false;
    hw::FaultEntry e;
    e.va = va;
    e.access = access;
    e.valid = 1;
    uint8_t raw[hw::kFaultEntryBytes];
    hw::encode(e, raw);
    const uint64_t pa = reg64(bar0::kFaultBufBaseLo) + uint64_t(put) * sizeof raw;
    m_phys.write(PhysMem::pfn_of(pa), pa & kPageMask, raw, sizeof raw);
    reg(bar0::kFaultBufPut) = (put + 1) % entries;
    return true;
  }

  uint64_t replays = 0;
  uint64_t errors = 0;  // accesses a real device would reject, waits that would hang

 private:
  uint32_t& reg(uint64_t off) { return m_regs[off / 4]; }
  uint64_t reg64(uint64_t lo) { return reg(lo) | (uint64_t(reg(lo + 4)) << 32); }
  bool count(bool ok) { errors += ok ? 0 : 1; return ok; }
  bool reg_ok(uint64_t off) { return count(off < bar0::kSize && !(off & 3)); }
  bool vram_ok(uint64_t pa, uint64_t len) { return count(pa <= m_vram.size() && len <= m_vram.size() - pa); }
  // One copy-engine descriptor, host side page by page.
  void run_copy() {
    uint64_t src = reg64(bar0::kCeSrcLo), dst = reg64(bar0::kCeDstLo), len = reg(bar0::kCeLen);
    const auto dir = static_cast<hw::CeDir>(reg(bar0::kCeDir));
    if (!vram_ok(dir == hw::CeDir::DeviceToHost ? src : dst, len)) return;
    if (dir == hw::CeDir::FillZero) {
      std::memset(m_vram.data() + dst, 0, len);
    } else if (dir == hw::CeDir::DeviceToDevice) {
      if (vram_ok(src, len)) std::memmove(m_vram.data() + dst, m_vram.data() + src, len);
    } else {
      const bool h2d = dir == hw::CeDir::HostToDevice;
      for (uint64_t n; len > 0; src += n, dst += n, len -= n) {
        const uint64_t host = h2d ? src : dst;
        n = std::min(len, P - (host & kPageMask));
        if (h2d)
          m_phys.read(PhysMem::pfn_of(src), src & kPageMask, m_vram.data() + dst, n);
        else
          m_phys.write(PhysMem::pfn_of(dst), dst & kPageMask, m_vram.data() + src, n);
      }
    }
  }

  PhysMem& m_phys;
  std::vector<uint8_t> m_vram;
  std::array<uint32_t, bar0::kSize / 4> m_regs{};
  uint32_t m_copy_irqs = 0;
};

// One bottom half servicing one batch of N read faults on N distinct,
// written system pages of one 2 MiB block: fetch, coalesce, range_fault,
// migrate to VRAM (H2D copies), device PTEs, TLB invalidate, replay. The
// driver's simulated CPU costs are not charged here: this is host time.
// Prefetching and thrashing detection are off so every serviced page is a
// faulted one and refaulting the same pages each iteration is not seen as
// thrashing. Only service_faults() is timed; remaking the mapping, writing
// the pages and pushing the faults (the GMMU's work) are not.
void BM_FaultBatch(benchmark::State& state) {
  const uint64_t n = static_cast<uint64_t>(state.range(0));
  constexpr uint64_t kVram = 16ull << 20;
  DriverSpec spec;
  spec.prefetch.impl = "none";
  spec.thrashing.impl = "none";
  HostSystem sys(4096);
  BenchBus bus(sys.phys, kVram);
  NoLock lock;
  AddressSpace mm(sys);
  GpuDriver drv(sys, bus, lock, spec, kVram);  // destroyed first: detaches from the live mm
  if (drv.init(0xFEE00000) != Status::Ok) {
    state.SkipWithError("driver init failed");
    return;
  }
  drv.attach(mm);
  std::vector<uint8_t> page(P, 0x5A);
  const uint64_t serviced0 = drv.stats().s_faults_serviced;
  const uint64_t to_vram0 = drv.stats().s_pages_to_vram;
  for (auto _ : state) {
    // Fresh system pages: unmapping drops last iteration's VRAM pages.
    bool ok = mm.munmap(kBase, n * P) == Status::Ok &&
              mm.mmap_fixed(kBase, n * P, kRW, VmaKind::AnonPrivate) == Status::Ok;
    for (uint64_t i = 0; ok && i < n; ++i) ok = mm.cpu_write(kBase + i * P, page.data(), P) == Status::Ok;
    for (uint64_t i = 0; ok && i < n; ++i) ok = bus.push_fault(kBase + i * P, hw::AccessType::Read);
    if (!ok) {
      state.SkipWithError("setup failed");
      break;
    }
    const auto t0 = Clock::now();
    drv.service_faults();
    state.SetIterationTime(seconds(t0, Clock::now()));
  }
  const DriverStats& s = drv.stats();
  const uint64_t want = state.iterations() * n;
  if (s.s_faults_serviced - serviced0 != want || s.s_pages_to_vram - to_vram0 != want || bus.errors ||
      s.s_faults_fatal || bus.replays < uint64_t(state.iterations()) ||
      (want && mm.pte(kBase).kind != PteKind::DevicePrivate))
    state.SkipWithError("faults were not serviced into VRAM");
  state.SetItemsProcessed(static_cast<int64_t>(want));
  mm.munmap(kBase, n * P);  // no device page may outlive the driver
}
BENCHMARK(BM_FaultBatch)->Arg(32)->Arg(256)->UseManualTime();

}  // namespace
