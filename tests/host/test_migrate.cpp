// migrate_vma setup / pages / finalize with a dummy device-private pagemap
// owner, and the CPU-fault path back (migrate_to_ram).
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <vector>

#include "host/hmm/migrate.h"
#include "test_device_memory.h"

using namespace hmmsim::host;

namespace {

constexpr uint64_t kBase = 0x7000000000;
constexpr uint64_t P = kPageSize;

// A device with its own page store, registered as device-private memory.
using DummyDevice = hmmsim::testing::TestDeviceMemory;

struct Recorder : IMmuIntervalNotifierOps {
  std::vector<NotifierRange> calls;
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t seq) override {
    calls.push_back(r);
    n.set_seq(seq);
    return true;
  }
};

std::vector<uint8_t> pattern(uint8_t seed) {
  std::vector<uint8_t> v(P);
  for (uint64_t i = 0; i < P; ++i) v[i] = static_cast<uint8_t>(seed * 31 + i * 7 + (i >> 9));
  return v;
}

class MigrateTest : public ::testing::Test {
 protected:
  MigrateTest() : sys(128), dev(sys, 16), mm(sys), n(0, ~0ull, &rec) { mm.notifiers().insert(&n); }
  ~MigrateTest() override { mm.notifiers().remove(&n); }

  uint64_t va(uint64_t page) const { return kBase + page * P; }
  Pfn fill(uint64_t page, uint8_t seed) {
    const auto d = pattern(seed);
    EXPECT_EQ(mm.cpu_write(va(page), d.data(), P), Status::Ok);
    return mm.pte(va(page)).pfn;
  }
  std::vector<uint8_t> cpu_page(uint64_t page) {
    std::vector<uint8_t> d(P, 0xEE);
    EXPECT_EQ(mm.cpu_read(va(page), d.data(), P), Status::Ok);
    return d;
  }
  // The driver's part: give every MIGRATE entry a device page (unless the
  // page index is in `skip`) and copy the data, zero-filling when no source.
  void populate_device(MigrateVma& a, const std::vector<uint64_t>& skip = {}) {
    for (uint64_t i = 0; i < a.src.size(); ++i) {
      if (!(a.src[i] & kMigratePfnMigrate)) continue;
      bool skipped = false;
      for (uint64_t s : skip) skipped |= s == i;
      if (skipped) continue;
      const Pfn d = dev.alloc();
      ASSERT_NE(d, kNoPfn);
      auto& dst = dev.mem[d];
      if (a.src[i] & kMigratePfnValid)
        sys.phys.read(migrate_pfn_to_pfn(a.src[i]), 0, dst.data(), P);
      else
        std::fill(dst.begin(), dst.end(), 0);
      a.dst[i] = migrate_pfn(d) | (a.src[i] & kMigratePfnWrite);
    }
  }
  MigrateVma args(uint64_t first, uint64_t npages, uint32_t flags = kSelectSystem) {
    MigrateVma a;
    a.start = va(first);
    a.end = va(first + npages);
    a.flags = flags;
    a.pgmap_owner = &dev;
    return a;
  }

  HostSystem sys;
  DummyDevice dev;  // outlives mm
  AddressSpace mm;
  Recorder rec;
  MmuIntervalNotifier n;
};

}  // namespace

TEST_F(MigrateTest, SetupCollectsAndIsolates) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 6 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = fill(0, 0);
  const Pfn p1 = fill(1, 1);
  Pte ro = mm.pte(va(1));
  ro.write = false;
  mm.set_pte(va(1), ro);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(va(2), &b, 1), Status::Ok);  // zero page
  // page 3: hole
  const Pfn p4 = fill(4, 4);
  sys.phys.get(p4);  // shared with another mapping (fork): must stay put
  rec.calls.clear();

  MigrateVma a = args(0, 6);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  ASSERT_EQ(rec.calls.size(), 1u);
  EXPECT_EQ(rec.calls[0].event, NotifyEvent::Migrate);
  EXPECT_EQ(rec.calls[0].start, va(0));
  EXPECT_EQ(rec.calls[0].end, va(6));
  EXPECT_EQ(rec.calls[0].owner, &dev);

  ASSERT_EQ(a.src.size(), 6u);
  ASSERT_EQ(a.dst.size(), 6u);
  EXPECT_EQ(a.src[0], migrate_pfn(p0) | kMigratePfnMigrate | kMigratePfnWrite);
  EXPECT_EQ(a.src[1], migrate_pfn(p1) | kMigratePfnMigrate);
  EXPECT_EQ(a.src[2], kMigratePfnMigrate);  // zero page: no source
  EXPECT_EQ(a.src[3], kMigratePfnMigrate);  // hole: no source
  EXPECT_EQ(a.src[4], 0u);                  // shared: skipped
  EXPECT_EQ(a.src[5], kMigratePfnMigrate);
  for (uint64_t d : a.dst) EXPECT_EQ(d, 0u);
  EXPECT_EQ(a.cpages, 5u);

  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::Migration);
  EXPECT_EQ(mm.pte(va(0)).pfn, p0);
  EXPECT_EQ(mm.pte(va(1)).kind, PteKind::Migration);
  EXPECT_EQ(mm.pte(va(2)).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(va(3)).kind, PteKind::None);
  EXPECT_EQ(mm.pte(va(4)).kind, PteKind::Present);
  // Isolated pages make CPU accesses wait.
  EXPECT_EQ(mm.cpu_read(va(0), &b, 1), Status::Again);
  EXPECT_EQ(mm.cpu_write(va(1), &b, 1), Status::Again);

  // Nothing populated: finalize puts everything back as it was.
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(va(0)).pfn, p0);
  EXPECT_TRUE(mm.pte(va(0)).write);
  EXPECT_EQ(mm.pte(va(1)).kind, PteKind::Present);
  EXPECT_FALSE(mm.pte(va(1)).write);
  EXPECT_EQ(mm.pte(va(3)).kind, PteKind::None);
  EXPECT_EQ(cpu_page(0), pattern(0));
  EXPECT_EQ(cpu_page(1), pattern(1));
  sys.phys.put(p4);
}

TEST_F(MigrateTest, FullMigrationToDeviceInstallsDevicePrivateEntries) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = fill(0, 10);
  const Pfn p1 = fill(1, 11);
  Pte ro = mm.pte(va(1));
  ro.write = false;
  mm.set_pte(va(1), ro);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(va(2), &b, 1), Status::Ok);  // zero page
  const uint64_t free_before = sys.phys.free_frames();

  MigrateVma a = args(0, 4);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  ASSERT_EQ(a.cpages, 4u);
  populate_device(a);
  migrate_vma_pages(mm, a);
  for (uint64_t i = 0; i < 4; ++i) EXPECT_TRUE(a.src[i] & kMigratePfnMigrate) << i;
  migrate_vma_finalize(mm, a);

  const bool want_write[4] = {true, false, true, true};  // holes take the VMA's
  for (uint64_t i = 0; i < 4; ++i) {
    const Pte p = mm.pte(va(i));
    EXPECT_EQ(p.kind, PteKind::DevicePrivate) << i;
    EXPECT_EQ(p.pfn, migrate_pfn_to_pfn(a.dst[i])) << i;
    EXPECT_TRUE(DevicePagemaps::is_device(p.pfn));
    EXPECT_EQ(p.write, want_write[i]) << i;
    EXPECT_EQ(sys.pagemaps.refcount(p.pfn), 1u) << i;
  }
  EXPECT_FALSE(sys.phys.valid(p0));
  EXPECT_FALSE(sys.phys.valid(p1));
  EXPECT_EQ(sys.phys.free_frames(), free_before + 2);
  EXPECT_EQ(dev.mem.at(mm.pte(va(0)).pfn), pattern(10));
  EXPECT_EQ(dev.mem.at(mm.pte(va(1)).pfn), pattern(11));
  EXPECT_EQ(dev.mem.at(mm.pte(va(2)).pfn), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(dev.mem.at(mm.pte(va(3)).pfn), std::vector<uint8_t>(P, 0));
  EXPECT_EQ(sys.phys.refcount(0), 1u);
  EXPECT_TRUE(dev.freed.empty());
  EXPECT_TRUE(dev.to_ram.empty());
}

TEST_F(MigrateTest, ReadOnlyVmaHolesBecomeReadOnlyDeviceEntries) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(va(1), &b, 1), Status::Ok);
  MigrateVma a = args(0, 2);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  EXPECT_EQ(a.cpages, 2u);
  populate_device(a);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  for (uint64_t i = 0; i < 2; ++i) {
    EXPECT_EQ(mm.pte(va(i)).kind, PteKind::DevicePrivate);
    EXPECT_FALSE(mm.pte(va(i)).write);
  }
}

TEST_F(MigrateTest, UnpopulatedDstRestoresOriginalPte) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = fill(0, 20);
  const Pfn p1 = fill(1, 21);
  MigrateVma a = args(0, 4);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  populate_device(a, /*skip=*/{0, 3});
  migrate_vma_pages(mm, a);
  EXPECT_FALSE(a.src[0] & kMigratePfnMigrate);
  EXPECT_TRUE(a.src[1] & kMigratePfnMigrate);
  EXPECT_TRUE(a.src[2] & kMigratePfnMigrate);
  EXPECT_FALSE(a.src[3] & kMigratePfnMigrate);
  migrate_vma_finalize(mm, a);

  const Pte e0 = mm.pte(va(0));
  EXPECT_EQ(e0.kind, PteKind::Present);
  EXPECT_EQ(e0.pfn, p0);
  EXPECT_TRUE(e0.write);
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  EXPECT_EQ(mm.pte(va(1)).kind, PteKind::DevicePrivate);
  EXPECT_FALSE(sys.phys.valid(p1));
  EXPECT_EQ(mm.pte(va(2)).kind, PteKind::DevicePrivate);
  EXPECT_EQ(mm.pte(va(3)).kind, PteKind::None);
  EXPECT_EQ(cpu_page(0), pattern(20));
  EXPECT_TRUE(dev.freed.empty());
}

TEST_F(MigrateTest, HoleFilledByCpuDuringMigrationKeepsCpuPage) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  MigrateVma a = args(0, 2);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  ASSERT_EQ(a.src[0], kMigratePfnMigrate);
  populate_device(a);
  const Pfn d0 = migrate_pfn_to_pfn(a.dst[0]);
  // The CPU races in and populates the hole before the commit.
  const Pfn cpu = fill(0, 30);
  migrate_vma_pages(mm, a);
  EXPECT_FALSE(a.src[0] & kMigratePfnMigrate);
  EXPECT_TRUE(a.src[1] & kMigratePfnMigrate);
  migrate_vma_finalize(mm, a);
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::Present);
  EXPECT_EQ(mm.pte(va(0)).pfn, cpu);
  EXPECT_EQ(cpu_page(0), pattern(30));
  // The unused device page went back to its owner.
  ASSERT_EQ(dev.freed.size(), 1u);
  EXPECT_EQ(dev.freed[0], d0);
  EXPECT_EQ(sys.pagemaps.refcount(d0), 0u);
  EXPECT_EQ(mm.pte(va(1)).kind, PteKind::DevicePrivate);
}

TEST_F(MigrateTest, UnusedSystemDstIsFreed) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  fill(0, 1);
  // Select nothing (flags 0), but hand a dst anyway: it must be released.
  MigrateVma a = args(0, 1, 0);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  EXPECT_EQ(a.cpages, 0u);
  EXPECT_EQ(a.src[0], 0u);
  const Pfn spare = sys.phys.alloc();
  a.dst[0] = migrate_pfn(spare);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  EXPECT_FALSE(sys.phys.valid(spare));
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::Present);
}

TEST_F(MigrateTest, SelectionFlagsAndOwnerFilter) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  fill(0, 1);
  // Put page 1 on the device.
  {
    MigrateVma a = args(1, 1);
    ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
    populate_device(a);
    migrate_vma_pages(mm, a);
    migrate_vma_finalize(mm, a);
    ASSERT_EQ(mm.pte(va(1)).kind, PteKind::DevicePrivate);
  }
  {
    MigrateVma a = args(0, 3, kSelectDevicePrivate);  // system pages not selected
    ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
    EXPECT_EQ(a.cpages, 2u);  // holes are collected whatever the flags (anonymous VMA)
    EXPECT_EQ(a.src[0], 0u);
    EXPECT_EQ(a.src[1],
              migrate_pfn(mm.pte(va(1)).pfn) | kMigratePfnMigrate | kMigratePfnWrite);
    EXPECT_EQ(a.src[2], kMigratePfnMigrate);
    EXPECT_EQ(mm.pte(va(1)).kind, PteKind::Migration);
    migrate_vma_pages(mm, a);
    migrate_vma_finalize(mm, a);
    EXPECT_EQ(mm.pte(va(1)).kind, PteKind::DevicePrivate);  // restored
  }
  {
    MigrateVma a = args(0, 3, kSelectDevicePrivate);
    int stranger = 0;
    a.pgmap_owner = &stranger;  // not the pagemap's owner
    ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
    EXPECT_EQ(a.cpages, 1u);  // only the hole
    EXPECT_EQ(a.src[1], 0u);
    EXPECT_EQ(mm.pte(va(1)).kind, PteKind::DevicePrivate);
  }
  {
    MigrateVma a = args(0, 3, kSelectSystem);  // device pages not selected
    ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
    EXPECT_EQ(a.cpages, 2u);
    EXPECT_EQ(a.src[1], 0u);
    migrate_vma_pages(mm, a);
    migrate_vma_finalize(mm, a);
  }
  EXPECT_TRUE(dev.freed.empty());
}

TEST_F(MigrateTest, ExplicitMigrationBackToSystem) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  fill(0, 40);
  fill(1, 41);
  MigrateVma a = args(0, 2);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  populate_device(a);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  const Pfn d0 = mm.pte(va(0)).pfn, d1 = mm.pte(va(1)).pfn;

  MigrateVma b = args(0, 2, kSelectDevicePrivate);
  ASSERT_EQ(migrate_vma_setup(mm, b), Status::Ok);
  ASSERT_EQ(b.cpages, 2u);
  EXPECT_EQ(b.src[0], migrate_pfn(d0) | kMigratePfnMigrate | kMigratePfnWrite);
  for (uint64_t i = 0; i < 2; ++i) {
    const Pfn s = sys.phys.alloc();
    sys.phys.write(s, 0, dev.mem.at(migrate_pfn_to_pfn(b.src[i])).data(), P);
    b.dst[i] = migrate_pfn(s);
  }
  migrate_vma_pages(mm, b);
  migrate_vma_finalize(mm, b);
  for (uint64_t i = 0; i < 2; ++i) {
    const Pte p = mm.pte(va(i));
    EXPECT_EQ(p.kind, PteKind::Present);
    EXPECT_EQ(p.pfn, migrate_pfn_to_pfn(b.dst[i]));
    EXPECT_TRUE(p.write);
    EXPECT_EQ(sys.phys.refcount(p.pfn), 1u);
  }
  ASSERT_EQ(dev.freed.size(), 2u);
  EXPECT_EQ(dev.freed[0], d0);
  EXPECT_EQ(dev.freed[1], d1);
  EXPECT_EQ(cpu_page(0), pattern(40));
  EXPECT_EQ(cpu_page(1), pattern(41));
  EXPECT_TRUE(dev.to_ram.empty());
}

TEST_F(MigrateTest, CpuReadOfDevicePageCallsMigrateToRam) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  fill(0, 50);
  fill(1, 51);
  MigrateVma a = args(0, 3);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  populate_device(a);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  const Pfn d1 = mm.pte(va(1)).pfn;

  std::vector<uint8_t> got(P);
  ASSERT_EQ(mm.cpu_read(va(1), got.data(), P), Status::Ok);
  EXPECT_EQ(got, pattern(51));
  ASSERT_EQ(dev.to_ram.size(), 1u);
  EXPECT_EQ(dev.to_ram[0].first, va(1));
  EXPECT_EQ(dev.to_ram[0].second, d1);
  EXPECT_EQ(mm.s_migrate_to_ram, 1u);
  const Pte p = mm.pte(va(1));
  EXPECT_EQ(p.kind, PteKind::Present);
  EXPECT_TRUE(p.write);
  ASSERT_EQ(dev.freed.size(), 1u);
  EXPECT_EQ(dev.freed[0], d1);
  // Neighbours stay on the device.
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::DevicePrivate);
  EXPECT_EQ(mm.pte(va(2)).kind, PteKind::DevicePrivate);
  // A second read is a plain memory access.
  ASSERT_EQ(mm.cpu_read(va(1), got.data(), P), Status::Ok);
  EXPECT_EQ(dev.to_ram.size(), 1u);

  // A write to a (zero-filled) device page migrates it back and lands.
  const uint8_t x = 0x77;
  ASSERT_EQ(mm.cpu_write(va(2) + 9, &x, 1), Status::Ok);
  EXPECT_EQ(dev.to_ram.size(), 2u);
  auto page2 = cpu_page(2);
  for (uint64_t i = 0; i < P; ++i) ASSERT_EQ(page2[i], i == 9 ? 0x77 : 0) << i;
}

TEST_F(MigrateTest, MigrateToRamFailureSurfacesToCpuAccess) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  fill(0, 1);
  MigrateVma a = args(0, 1);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  populate_device(a);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  dev.fail = Status::Fault;  // SIGBUS
  uint8_t b;
  EXPECT_EQ(mm.cpu_read(va(0), &b, 1), Status::Fault);
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::DevicePrivate);
  dev.fail = Status::Ok;
  EXPECT_EQ(mm.cpu_read(va(0), &b, 1), Status::Ok);
  EXPECT_EQ(b, pattern(1)[0]);
}

TEST_F(MigrateTest, MunmapFreesDevicePages) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  MigrateVma a = args(0, 3);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  populate_device(a);
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  const uint64_t dev_free = dev.free_list.size();
  ASSERT_EQ(mm.munmap(va(0), 2 * P), Status::Ok);
  EXPECT_EQ(dev.freed.size(), 2u);
  EXPECT_EQ(dev.free_list.size(), dev_free + 2);
  EXPECT_TRUE(dev.to_ram.empty());
  EXPECT_EQ(mm.pte(va(2)).kind, PteKind::DevicePrivate);
}

TEST_F(MigrateTest, SetupRejectsBadRanges) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 2 * P, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  rec.calls.clear();
  MigrateVma a = args(0, 2);
  a.start += 1;
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  a = args(0, 2);
  a.end = a.start;
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  a = args(1, 2);  // crosses into the next VMA
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  a = args(8, 1);  // no VMA
  EXPECT_EQ(migrate_vma_setup(mm, a), Status::Inval);
  EXPECT_TRUE(rec.calls.empty()) << "a rejected setup must not invalidate anything";
}

// A zap of the range while the device copies (MADV_DONTNEED from another
// CPU thread) must not free the source page under the copy: the collection
// holds its own reference until finalize (as folio_get in
// migrate_vma_collect does). The new page, mapped nowhere, goes back too.
TEST_F(MigrateTest, ZapDuringMigrationKeepsTheSourceUntilFinalize) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = fill(0, 21);
  const uint64_t free_before = sys.phys.free_frames();
  MigrateVma a = args(0, 1);
  ASSERT_EQ(migrate_vma_setup(mm, a), Status::Ok);
  ASSERT_EQ(mm.madvise(va(0), P, Advice::DontNeed), Status::Ok);
  // The source is still there, with its bytes, for the device to read.
  ASSERT_TRUE(sys.phys.valid(p0));
  EXPECT_EQ(sys.phys.refcount(p0), 1u);
  populate_device(a);
  const Pfn d = migrate_pfn_to_pfn(a.dst[0]);
  EXPECT_EQ(dev.mem.at(d), pattern(21));
  migrate_vma_pages(mm, a);
  migrate_vma_finalize(mm, a);
  // Nothing maps either page any more: both are free, nothing leaked.
  EXPECT_EQ(mm.pte(va(0)).kind, PteKind::None);
  EXPECT_FALSE(sys.phys.valid(p0));
  EXPECT_EQ(sys.phys.free_frames(), free_before + 1);
  EXPECT_EQ(dev.freed.size(), 1u);
}
