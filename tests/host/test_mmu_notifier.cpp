// MmuNotifierList / MmuIntervalNotifier: half-open overlap, the sequence
// read_begin / read_retry protocol, registration order, removal.
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "host/mm/mmu_notifier.h"

using namespace hmmsim::host;

namespace {

struct Call {
  int id;
  NotifierRange range;
  uint64_t seq;
};

struct Recorder : IMmuIntervalNotifierOps {
  Recorder(std::vector<Call>& l, int i, bool s = true) : log(l), id(i), set(s) {}
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t cur_seq) override {
    log.push_back({id, r, cur_seq});
    if (set) n.set_seq(cur_seq);
    return true;
  }
  std::vector<Call>& log;
  int id;
  bool set;
};

}  // namespace

TEST(MmuNotifier, OverlapIsHalfOpen) {
  std::vector<Call> log;
  Recorder ops(log, 1);
  MmuIntervalNotifier n(0x10000, 0x30000, &ops);
  MmuNotifierList list;
  list.insert(&n);

  struct Case {
    uint64_t s, e;
    bool hit;
  } cases[] = {
      {0x0, 0x10000, false},       // ends exactly at start
      {0x30000, 0x40000, false},   // starts exactly at end
      {0x0, 0x10001, true},        // one byte of overlap at the start
      {0x2FFFF, 0x30000, true},    // last byte
      {0x18000, 0x19000, true},    // inside
      {0x0, ~0ull, true},          // covers it
      {0x40000, 0x50000, false},   // beyond
  };
  for (const auto& c : cases) {
    log.clear();
    list.invalidate({c.s, c.e, NotifyEvent::Clear, nullptr});
    EXPECT_EQ(log.size(), c.hit ? 1u : 0u) << std::hex << c.s << "-" << c.e;
  }
  EXPECT_EQ(list.s_invalidations, 7u);  // counted whether or not anyone overlapped
}

TEST(MmuNotifier, RangeEventAndOwnerArePassedThrough) {
  std::vector<Call> log;
  Recorder ops(log, 1);
  MmuIntervalNotifier n(0, 1ull << 40, &ops);
  MmuNotifierList list;
  list.insert(&n);
  int owner_tag = 0;
  list.invalidate({0x5000, 0x9000, NotifyEvent::Migrate, &owner_tag});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].range.start, 0x5000u);
  EXPECT_EQ(log[0].range.end, 0x9000u);
  EXPECT_EQ(log[0].range.event, NotifyEvent::Migrate);
  EXPECT_EQ(log[0].range.owner, &owner_tag);
}

TEST(MmuNotifier, SequenceProtocol) {
  std::vector<Call> log;
  Recorder ops(log, 1);
  MmuIntervalNotifier n(0x1000, 0x2000, &ops);
  MmuNotifierList list;
  list.insert(&n);

  const uint64_t s0 = n.read_begin();
  EXPECT_FALSE(n.read_retry(s0));
  // An invalidation elsewhere does not disturb the interval.
  list.invalidate({0x8000, 0x9000, NotifyEvent::Unmap, nullptr});
  EXPECT_FALSE(n.read_retry(s0));
  EXPECT_TRUE(log.empty());

  list.invalidate({0x1000, 0x2000, NotifyEvent::Clear, nullptr});
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(n.read_retry(s0));
  const uint64_t s1 = n.read_begin();
  EXPECT_EQ(s1, log[0].seq);
  EXPECT_EQ(s1 % 2, 1u) << "invalidation sequence numbers are odd";
  EXPECT_FALSE(n.read_retry(s1));

  list.invalidate({0x1800, 0x1900, NotifyEvent::Clear, nullptr});
  ASSERT_EQ(log.size(), 2u);
  EXPECT_GT(log[1].seq, log[0].seq);
  EXPECT_EQ(log[1].seq % 2, 1u);
  EXPECT_TRUE(n.read_retry(s1));
  EXPECT_EQ(n.read_begin(), log[1].seq);
}

TEST(MmuNotifier, CallbackThatIgnoresTheEventLeavesSequence) {
  std::vector<Call> log;
  Recorder ops(log, 1, /*set=*/false);
  MmuIntervalNotifier n(0, 0x10000, &ops);
  MmuNotifierList list;
  list.insert(&n);
  const uint64_t s = n.read_begin();
  list.invalidate({0, 0x1000, NotifyEvent::Migrate, &ops});
  EXPECT_EQ(log.size(), 1u);
  EXPECT_FALSE(n.read_retry(s));
  EXPECT_EQ(n.read_begin(), s);
}

TEST(MmuNotifier, RegistrationOrderAndRemoval) {
  std::vector<Call> log;
  Recorder ra(log, 1), rb(log, 2), rc(log, 3);
  MmuIntervalNotifier a(0, 0x10000, &ra), b(0, 0x10000, &rb), c(0x8000, 0x10000, &rc);
  MmuNotifierList list;
  list.insert(&b);
  list.insert(&c);
  list.insert(&a);
  EXPECT_EQ(list.size(), 3u);
  list.invalidate({0x8000, 0x9000, NotifyEvent::Clear, nullptr});
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].id, 2);
  EXPECT_EQ(log[1].id, 3);
  EXPECT_EQ(log[2].id, 1);
  // Every callee of one invalidation sees the same sequence number.
  EXPECT_EQ(log[0].seq, log[1].seq);
  EXPECT_EQ(log[1].seq, log[2].seq);

  log.clear();
  list.invalidate({0x0, 0x1000, NotifyEvent::Clear, nullptr});  // c does not overlap
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].id, 2);
  EXPECT_EQ(log[1].id, 1);

  list.remove(&b);
  EXPECT_EQ(list.size(), 2u);
  log.clear();
  list.invalidate({0x8000, 0x9000, NotifyEvent::Clear, nullptr});
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].id, 3);
  EXPECT_EQ(log[1].id, 1);
  list.remove(&b);  // removing twice is harmless
  EXPECT_EQ(list.size(), 2u);
}

namespace {
// Unregisters itself from inside its callback (as a release handler would).
struct SelfRemover : IMmuIntervalNotifierOps {
  MmuNotifierList* list = nullptr;
  int calls = 0;
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange&, uint64_t seq) override {
    ++calls;
    n.set_seq(seq);
    list->remove(&n);
    return true;
  }
};
}  // namespace

TEST(MmuNotifier, CallbackMayRemoveItselfDuringInvalidation) {
  std::vector<Call> log;
  SelfRemover sr;
  Recorder later(log, 9);
  MmuNotifierList list;
  sr.list = &list;
  MmuIntervalNotifier a(0, 0x1000, &sr), b(0, 0x1000, &later);
  list.insert(&a);
  list.insert(&b);
  list.invalidate({0, ~0ull, NotifyEvent::Release, nullptr});
  EXPECT_EQ(sr.calls, 1);
  EXPECT_EQ(log.size(), 1u);  // the later notifier is still called
  EXPECT_EQ(list.size(), 1u);
  list.invalidate({0, ~0ull, NotifyEvent::Release, nullptr});
  EXPECT_EQ(sr.calls, 1);
  EXPECT_EQ(log.size(), 2u);
}

TEST(MmuNotifier, EventNames) {
  EXPECT_STREQ(to_string(NotifyEvent::Unmap), "UNMAP");
  EXPECT_STREQ(to_string(NotifyEvent::Clear), "CLEAR");
  EXPECT_STREQ(to_string(NotifyEvent::Migrate), "MIGRATE");
  EXPECT_STREQ(to_string(NotifyEvent::Release), "RELEASE");
  EXPECT_STREQ(to_string(NotifyEvent::ProtectionVma), "PROTECTION_VMA");
}
