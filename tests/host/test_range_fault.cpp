// hmm_range_fault: request flags (per page, default_flags, pfn_flags_mask),
// snapshot output words, errors, zero page, device-private entries and the
// notifier sequence (EBUSY) protocol.
#include <gtest/gtest.h>

#include <functional>
#include <vector>

#include "host/hmm/range_fault.h"

namespace {
// An anonymous entry with the given kind, permission, dirtiness and page.
hmmsim::host::Pte make_pte(hmmsim::host::PteKind k, bool write, bool dirty, hmmsim::host::Pfn pfn) {
  hmmsim::host::Pte p;
  p.kind = k;
  p.write = write;
  p.dirty = dirty;
  p.anon = true;
  p.pfn = pfn;
  return p;
}
}  // namespace

using namespace hmmsim::host;

namespace {

constexpr uint64_t kBase = 0x200000000;  // 8 GiB
constexpr uint64_t P = kPageSize;

struct Mirror : IMmuIntervalNotifierOps {
  std::vector<NotifierRange> calls;
  std::function<void(const NotifierRange&)> hook;
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t seq) override {
    calls.push_back(r);
    n.set_seq(seq);
    if (hook) hook(r);
    return true;
  }
};

// A device whose migrate_to_ram moves the page to a fresh system frame
// (raising MIGRATE first, as migrate_vma_setup would).
struct OtherDevice : IPagemapOps {
  int owner_tag = 0;
  std::vector<std::pair<uint64_t, Pfn>> to_ram;
  std::vector<Pfn> freed;
  Status fail = Status::Ok;
  Status migrate_to_ram(AddressSpace& mm, uint64_t va, Pfn pfn) override {
    to_ram.emplace_back(va, pfn);
    if (fail != Status::Ok) return fail;
    const Pte old = mm.pte(va);
    const Pfn np = mm.system().phys.alloc();
    if (np == kNoPfn) return Status::NoMem;
    mm.notifiers().invalidate({va, va + P, NotifyEvent::Migrate, &owner_tag});
    mm.set_pte(va, make_pte(PteKind::Present, old.write, true, np));
    mm.release_page(old);
    return Status::Ok;
  }
  void page_free(Pfn pfn) override { freed.push_back(pfn); }
};

class RangeFaultTest : public ::testing::Test {
 protected:
  RangeFaultTest() : sys(64), mm(sys), notifier(0, ~0ull, &mirror) { mm.notifiers().insert(&notifier); }
  ~RangeFaultTest() override { mm.notifiers().remove(&notifier); }

  HmmRange make(uint64_t start, uint64_t npages, uint64_t fill = 0) {
    HmmRange r;
    r.notifier = &notifier;
    r.notifier_seq = notifier.read_begin();
    r.start = start;
    r.end = start + npages * P;
    r.hmm_pfns.assign(npages, fill);
    return r;
  }
  Pfn write_page(uint64_t va, uint8_t v) {
    EXPECT_EQ(mm.cpu_write(va, &v, 1), Status::Ok);
    return mm.pte(va).pfn;
  }

  HostSystem sys;
  OtherDevice dev;  // must outlive mm: mm's teardown puts device pages
  AddressSpace mm;
  Mirror mirror;
  MmuIntervalNotifier notifier;
};

}  // namespace

TEST_F(RangeFaultTest, SnapshotWithoutRequestsReportsCpuState) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 6 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = write_page(kBase, 1);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase + P, &b, 1), Status::Ok);  // zero page
  const Pfn p3 = write_page(kBase + 3 * P, 3);
  Pte ro = mm.pte(kBase + 3 * P);
  ro.write = false;
  mm.set_pte(kBase + 3 * P, ro);
  const uint64_t faults = mm.s_cpu_faults;

  HmmRange r = make(kBase, 6);
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], p0 | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_EQ(r.hmm_pfns[1], sys.phys.zero_pfn() | kHmmPfnValid);
  EXPECT_EQ(r.hmm_pfns[2], 0u);
  EXPECT_EQ(r.hmm_pfns[3], p3 | kHmmPfnValid);
  EXPECT_EQ(r.hmm_pfns[4], 0u);
  EXPECT_EQ(r.hmm_pfns[5], 0u);
  EXPECT_EQ(hmm_pfn_to_pfn(r.hmm_pfns[0]), p0);
  EXPECT_EQ(mm.s_cpu_faults, faults);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::None);
}

TEST_F(RangeFaultTest, DefaultFlagsFaultEveryPageIgnoringMaskedInput) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  // Input words ask for writes, but the mask is 0: only default_flags count.
  HmmRange r = make(kBase, 4, kHmmPfnReqFault | kHmmPfnReqWrite);
  r.default_flags = kHmmPfnReqFault;
  r.pfn_flags_mask = 0;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(r.hmm_pfns[i], sys.phys.zero_pfn() | kHmmPfnValid) << i;
  EXPECT_EQ(mm.s_zero_page_maps, 4u);
  EXPECT_EQ(mm.s_cpu_faults, 4u);
  EXPECT_TRUE(mirror.calls.empty());
}

TEST_F(RangeFaultTest, DefaultWriteFaultAllocatesWritablePages) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 3 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const uint64_t free0 = sys.phys.free_frames();
  HmmRange r = make(kBase, 3);
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(sys.phys.free_frames(), free0 - 3);
  for (int i = 0; i < 3; ++i) {
    const Pte p = mm.pte(kBase + i * P);
    ASSERT_EQ(p.kind, PteKind::Present);
    EXPECT_TRUE(p.write);
    EXPECT_EQ(r.hmm_pfns[i], p.pfn | kHmmPfnValid | kHmmPfnWrite) << i;
    EXPECT_NE(p.pfn, sys.phys.zero_pfn());
  }
  EXPECT_NE(r.hmm_pfns[0], r.hmm_pfns[1]);
}

TEST_F(RangeFaultTest, PerPageRequestsThroughTheMask) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  HmmRange r = make(kBase, 4);
  r.pfn_flags_mask = kHmmPfnReqFault | kHmmPfnReqWrite;
  r.hmm_pfns = {kHmmPfnReqFault, kHmmPfnReqFault | kHmmPfnReqWrite, 0, kHmmPfnReqFault};
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], sys.phys.zero_pfn() | kHmmPfnValid);
  const Pte p1 = mm.pte(kBase + P);
  EXPECT_EQ(r.hmm_pfns[1], p1.pfn | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_NE(p1.pfn, sys.phys.zero_pfn());
  EXPECT_EQ(r.hmm_pfns[2], 0u);
  EXPECT_EQ(mm.pte(kBase + 2 * P).kind, PteKind::None);
  EXPECT_EQ(r.hmm_pfns[3], sys.phys.zero_pfn() | kHmmPfnValid);
  EXPECT_EQ(mm.s_cpu_faults, 3u);
}

TEST_F(RangeFaultTest, MaskCanStripTheWriteRequest) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  HmmRange r = make(kBase, 2, kHmmPfnReqFault | kHmmPfnReqWrite);
  r.pfn_flags_mask = kHmmPfnReqFault;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], sys.phys.zero_pfn() | kHmmPfnValid);
  EXPECT_EQ(r.hmm_pfns[1], sys.phys.zero_pfn() | kHmmPfnValid);
}

TEST_F(RangeFaultTest, PfnFieldOfInputDoesNotLeakIntoRequest) {
  // Only the request bits of an input word matter; a stale pfn there is ignored.
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  HmmRange r = make(kBase, 1, 0x1234 | kHmmPfnError);
  r.pfn_flags_mask = ~0ull;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], 0u);
  EXPECT_EQ(mm.s_cpu_faults, 0u);
}

TEST_F(RangeFaultTest, ErrorForMissingOrUnreadableVmaWithoutFault) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 3 * P, P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p0 = write_page(kBase, 7);
  HmmRange r = make(kBase, 5);
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], p0 | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_EQ(r.hmm_pfns[1], 0u);
  EXPECT_EQ(r.hmm_pfns[2], kHmmPfnError);  // gap
  EXPECT_EQ(r.hmm_pfns[3], kHmmPfnError);  // PROT_NONE
  EXPECT_EQ(r.hmm_pfns[4], kHmmPfnError);  // beyond
}

TEST_F(RangeFaultTest, FaultForMissingOrUnreadableVmaWithFault) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 2 * P, P, kProtNone, VmaKind::AnonPrivate), Status::Ok);
  {
    HmmRange r = make(kBase, 2);
    r.default_flags = kHmmPfnReqFault;
    EXPECT_EQ(hmm_range_fault(mm, r), Status::Fault);
  }
  {
    HmmRange r = make(kBase + 2 * P, 1);
    r.default_flags = kHmmPfnReqFault;
    EXPECT_EQ(hmm_range_fault(mm, r), Status::Fault);
  }
  {
    // Only the page in the gap asks for a fault.
    HmmRange r = make(kBase, 2);
    r.pfn_flags_mask = kHmmPfnReqFault;
    r.hmm_pfns = {0, kHmmPfnReqFault};
    EXPECT_EQ(hmm_range_fault(mm, r), Status::Fault);
    r = make(kBase, 2);
    r.pfn_flags_mask = kHmmPfnReqFault;
    r.hmm_pfns = {kHmmPfnReqFault, 0};
    EXPECT_EQ(hmm_range_fault(mm, r), Status::Ok);
    EXPECT_EQ(r.hmm_pfns[0], sys.phys.zero_pfn() | kHmmPfnValid);
    EXPECT_EQ(r.hmm_pfns[1], kHmmPfnError);
  }
}

TEST_F(RangeFaultTest, WriteRequestOnReadOnlyVmaIsPerm) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  HmmRange r = make(kBase, 2);
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Perm);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::None);
  // Reading it is fine and gives the read-only zero page.
  r = make(kBase, 2);
  r.default_flags = kHmmPfnReqFault;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], sys.phys.zero_pfn() | kHmmPfnValid);
  EXPECT_EQ(r.hmm_pfns[1], sys.phys.zero_pfn() | kHmmPfnValid);
}

TEST_F(RangeFaultTest, WriteRequestWithoutFaultRequestIsIgnoredAsInLinux) {
  // Linux hmm_pte_need_fault(): "if (!(pfn_req_flags & HMM_PFN_REQ_FAULT))
  // return 0" -- REQ_WRITE alone requests nothing, so a pure snapshot of a
  // read-only VMA must neither fail with EPERM nor fault pages in.
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + P, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase + P, &b, 1), Status::Ok);  // zero page
  HmmRange r = make(kBase, 2);
  r.default_flags = kHmmPfnReqWrite;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], 0u);
  EXPECT_EQ(r.hmm_pfns[1], sys.phys.zero_pfn() | kHmmPfnValid);
  EXPECT_EQ(mm.pte(kBase + P).pfn, sys.phys.zero_pfn());
  EXPECT_TRUE(mirror.calls.empty());
}

TEST_F(RangeFaultTest, ReadOnlySoleOwnerPageIsUpgradedForWrite) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  const Pfn p = write_page(kBase, 1);
  Pte e = mm.pte(kBase);
  e.write = false;
  mm.set_pte(kBase, e);
  HmmRange r = make(kBase, 1);
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);  // no copy, no notifier, no retry
  EXPECT_EQ(r.hmm_pfns[0], p | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_TRUE(mirror.calls.empty());
}

TEST_F(RangeFaultTest, CowDuringFaultIsBusyThenSucceedsOnRetry) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase + P, &b, 1), Status::Ok);  // page 1: zero page
  HmmRange r = make(kBase, 2);
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  // Page 1's COW raises CLEAR on our own interval: the snapshot is stale.
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);
  ASSERT_EQ(mirror.calls.size(), 1u);
  EXPECT_EQ(mirror.calls[0].event, NotifyEvent::Clear);
  EXPECT_EQ(mirror.calls[0].start, kBase + P);
  EXPECT_EQ(mirror.calls[0].end, kBase + 2 * P);
  EXPECT_TRUE(notifier.read_retry(r.notifier_seq));
  // Retry as the protocol says: a fresh read_begin.
  r.notifier_seq = notifier.read_begin();
  r.hmm_pfns.assign(2, 0);
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], mm.pte(kBase).pfn | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_EQ(r.hmm_pfns[1], mm.pte(kBase + P).pfn | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_NE(hmm_pfn_to_pfn(r.hmm_pfns[1]), sys.phys.zero_pfn());
  EXPECT_EQ(mirror.calls.size(), 1u);
}

TEST_F(RangeFaultTest, InvalidationAfterReadBeginIsBusy) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 8 * P, P, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  HmmRange r = make(kBase, 2);
  // Something else changes the CPU page table between read_begin and the call.
  ASSERT_EQ(mm.munmap(kBase + 8 * P, P), Status::Ok);
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);
  EXPECT_EQ(mm.s_cpu_faults, 0u);
  r.notifier_seq = notifier.read_begin();
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Ok);
}

TEST_F(RangeFaultTest, InvalidationOutsideANarrowIntervalIsNotBusy) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  ASSERT_EQ(mm.mmap_fixed(kBase + 8 * P, P, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  Mirror narrow_ops;
  MmuIntervalNotifier narrow(kBase, kBase + 2 * P, &narrow_ops);
  mm.notifiers().insert(&narrow);
  HmmRange r = make(kBase, 2);
  r.notifier = &narrow;
  r.notifier_seq = narrow.read_begin();
  ASSERT_EQ(mm.munmap(kBase + 8 * P, P), Status::Ok);
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Ok);
  ASSERT_EQ(mm.munmap(kBase + P, P), Status::Ok);
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);
  mm.notifiers().remove(&narrow);
}

TEST_F(RangeFaultTest, InvalidationInjectedFromACallbackMidWalkIsBusy) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 4 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase + 2 * P, &b, 1), Status::Ok);
  // A second mirror's callback, run by the COW of page 2, zaps page 0 (which
  // the walk has already reported) -- the result must not be trusted.
  Mirror zapper;
  MmuIntervalNotifier zn(kBase + 2 * P, kBase + 3 * P, &zapper);
  mm.notifiers().insert(&zn);
  bool fired = false;
  zapper.hook = [&](const NotifierRange&) {
    if (fired) return;
    fired = true;
    mm.notifiers().invalidate({kBase, kBase + P, NotifyEvent::Clear, nullptr});
  };
  Mirror narrow_ops;
  MmuIntervalNotifier narrow(kBase, kBase + 2 * P, &narrow_ops);  // excludes page 2
  mm.notifiers().insert(&narrow);
  HmmRange r = make(kBase, 4);
  r.notifier = &narrow;
  r.notifier_seq = narrow.read_begin();
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);
  EXPECT_TRUE(fired);
  EXPECT_EQ(narrow_ops.calls.size(), 1u);
  mm.notifiers().remove(&narrow);
  mm.notifiers().remove(&zn);
}

TEST_F(RangeFaultTest, WithoutNotifierThereIsNoRetryCheck) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  uint8_t b;
  ASSERT_EQ(mm.cpu_read(kBase, &b, 1), Status::Ok);
  HmmRange r = make(kBase, 1);
  r.notifier = nullptr;
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], mm.pte(kBase).pfn | kHmmPfnValid | kHmmPfnWrite);
}

TEST_F(RangeFaultTest, MigrationEntryIsBusy) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  write_page(kBase, 1);
  Pte p = mm.pte(kBase);
  p.kind = PteKind::Migration;
  mm.set_pte(kBase, p);
  HmmRange r = make(kBase, 1);
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Ok);  // snapshot: not present
  EXPECT_EQ(r.hmm_pfns[0], 0u);
  r.default_flags = kHmmPfnReqFault;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);  // a fault waits for the migration
  p.kind = PteKind::Present;
  mm.set_pte(kBase, p);
}

TEST_F(RangeFaultTest, OwnDevicePrivatePagesAreValidWithoutFaulting) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  DevicePagemap& pm = sys.pagemaps.add("dev", &dev.owner_tag, &dev, 4);
  sys.pagemaps.init_page(pm.base);
  sys.pagemaps.init_page(pm.base + 1);
  mm.set_pte(kBase, make_pte(PteKind::DevicePrivate, true, true, pm.base));
  mm.set_pte(kBase + P, make_pte(PteKind::DevicePrivate, false, false, pm.base + 1));

  HmmRange r = make(kBase, 2);
  r.dev_private_owner = &dev.owner_tag;
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;  // even for writes
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], pm.base | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_EQ(r.hmm_pfns[1], (pm.base + 1) | kHmmPfnValid);
  EXPECT_TRUE(dev.to_ram.empty());
  EXPECT_EQ(mm.s_migrate_to_ram, 0u);
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
}

TEST_F(RangeFaultTest, ForeignDevicePrivatePagesAreZeroOrMigratedBack) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  DevicePagemap& pm = sys.pagemaps.add("dev", &dev.owner_tag, &dev, 4);
  sys.pagemaps.init_page(pm.base);
  mm.set_pte(kBase, make_pte(PteKind::DevicePrivate, true, true, pm.base));
  int someone_else = 0;

  // Not the owner, no fault requested: reported as 0 (faultable).
  HmmRange r = make(kBase, 1);
  r.dev_private_owner = &someone_else;
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], 0u);
  // A null dev_private_owner never matches, not even a pagemap whose owner is null.
  DevicePagemap& pm0 = sys.pagemaps.add("ownerless", nullptr, &dev, 1);
  sys.pagemaps.init_page(pm0.base);
  mm.set_pte(kBase + P, make_pte(PteKind::DevicePrivate, true, true, pm0.base));
  r = make(kBase, 2);
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], 0u);
  EXPECT_EQ(r.hmm_pfns[1], 0u);
  EXPECT_TRUE(dev.to_ram.empty());

  // Fault requested: the CPU fault calls migrate_to_ram of the pagemap ops,
  // whose MIGRATE invalidation makes this attempt EBUSY.
  r = make(kBase, 1);
  r.dev_private_owner = &someone_else;
  r.default_flags = kHmmPfnReqFault;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Busy);
  ASSERT_EQ(dev.to_ram.size(), 1u);
  EXPECT_EQ(dev.to_ram[0].first, kBase);
  EXPECT_EQ(dev.to_ram[0].second, pm.base);
  EXPECT_EQ(mm.s_migrate_to_ram, 1u);
  ASSERT_EQ(dev.freed.size(), 1u);  // the device page's last reference went
  EXPECT_EQ(dev.freed[0], pm.base);
  r.notifier_seq = notifier.read_begin();
  ASSERT_EQ(hmm_range_fault(mm, r), Status::Ok);
  EXPECT_EQ(r.hmm_pfns[0], mm.pte(kBase).pfn | kHmmPfnValid | kHmmPfnWrite);
  EXPECT_FALSE(DevicePagemaps::is_device(hmm_pfn_to_pfn(r.hmm_pfns[0])));
  EXPECT_EQ(dev.to_ram.size(), 1u);
}

TEST_F(RangeFaultTest, MigrateToRamFailureIsReturned) {
  ASSERT_EQ(mm.mmap_fixed(kBase, P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  DevicePagemap& pm = sys.pagemaps.add("dev", &dev.owner_tag, &dev, 1);
  sys.pagemaps.init_page(pm.base);
  mm.set_pte(kBase, make_pte(PteKind::DevicePrivate, true, true, pm.base));
  dev.fail = Status::NoMem;
  HmmRange r = make(kBase, 1);
  r.default_flags = kHmmPfnReqFault;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Fault);  // mainline: VM_FAULT_ERROR -> -EFAULT
  EXPECT_EQ(mm.pte(kBase).kind, PteKind::DevicePrivate);
}

TEST_F(RangeFaultTest, OutOfMemoryIsNoMem) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 128 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate),
            Status::Ok);
  std::vector<Pfn> hog;
  for (Pfn p; (p = sys.phys.alloc()) != kNoPfn;) hog.push_back(p);
  HmmRange r = make(kBase, 2);
  r.default_flags = kHmmPfnReqFault | kHmmPfnReqWrite;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Fault);  // mainline: VM_FAULT_ERROR -> -EFAULT
  for (Pfn p : hog) sys.phys.put(p);
}

TEST_F(RangeFaultTest, BadRangesAreInval) {
  ASSERT_EQ(mm.mmap_fixed(kBase, 2 * P, kProtRead | kProtWrite, VmaKind::AnonPrivate), Status::Ok);
  HmmRange r = make(kBase, 2);
  r.start = kBase + 1;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Inval);
  r = make(kBase, 2);
  r.end = r.start;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Inval);
  r = make(kBase, 2);
  r.end = kBase + P + 5;
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Inval);
  r = make(kBase, 2);
  r.hmm_pfns.resize(3);
  EXPECT_EQ(hmm_range_fault(mm, r), Status::Inval);
}
