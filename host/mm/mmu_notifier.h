#pragma once
// Interval notifiers with sequence numbers, after Linux mmu_interval_notifier.
// Every CPU page-table change that can affect a mirror raises an event on the
// range *before* the change takes effect; a mirror's callback clears its
// device entries and bumps its sequence so racing range faults retry.
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hmmsim::host {

enum class NotifyEvent : uint8_t {
  Unmap,           // munmap / mremap: the range goes away
  Clear,           // page replaced (COW break, madvise, zap)
  ProtectionVma,   // mprotect
  ProtectionPage,  // one page's permission changes (fork write-protect)
  SoftDirty,
  Migrate,         // migrate_vma; `owner` lets the migrating driver skip its own
  Exclusive,       // make_device_exclusive; `owner` is the requester
  Release,         // address-space teardown
};
const char* to_string(NotifyEvent e);

struct NotifierRange {
  uint64_t start = 0, end = 0;  // [start, end)
  NotifyEvent event = NotifyEvent::Clear;
  const void* owner = nullptr;
};

class MmuIntervalNotifier;

struct IMmuIntervalNotifierOps {
  virtual ~IMmuIntervalNotifierOps() = default;
  // Called before CPU page-table entries in `range` (overlapping the
  // interval) change. Must call `n.set_seq(cur_seq)` under the driver lock
  // unless it ignores the event. Returns false only if it could not proceed.
  virtual bool invalidate(MmuIntervalNotifier& n, const NotifierRange& range, uint64_t cur_seq) = 0;
};

class MmuIntervalNotifier {
 public:
  MmuIntervalNotifier(uint64_t start, uint64_t end, IMmuIntervalNotifierOps* ops)
      : m_start(start), m_end(end), m_ops(ops) {}
  uint64_t start() const { return m_start; }
  uint64_t end() const { return m_end; }
  IMmuIntervalNotifierOps* ops() const { return m_ops; }

  // read_begin / read_retry: snapshot a sequence, later check nothing
  // invalidated the interval in between. While an invalidation is in
  // progress (callbacks may wait, the CPU page table has not changed yet) a
  // snapshot cannot be trusted: read_begin hands out a value read_retry
  // always rejects, where Linux's read_begin would sleep.
  static constexpr uint64_t kInvalidating = ~0ull;
  uint64_t read_begin() const { return m_active ? kInvalidating : m_seq; }
  bool read_retry(uint64_t seq) const { return seq == kInvalidating || m_active || m_seq != seq; }
  void set_seq(uint64_t seq) { m_seq = seq; }
  bool invalidating() const { return m_active != 0; }

 private:
  friend class MmuNotifierList;
  uint64_t m_start, m_end;
  IMmuIntervalNotifierOps* m_ops;
  uint64_t m_seq = 0;
  unsigned m_active = 0;  // invalidations in progress over this interval
};

// All interval notifiers of one address space.
class MmuNotifierList {
 public:
  void insert(MmuIntervalNotifier* n) { m_list.push_back(n); }
  void remove(MmuIntervalNotifier* n);
  // Calls every overlapping notifier in registration order (deterministic).
  void invalidate(const NotifierRange& r);
  size_t size() const { return m_list.size(); }
  uint64_t s_invalidations = 0;

 private:
  std::vector<MmuIntervalNotifier*> m_list;
  uint64_t m_seq = 1;  // odd values mark "an invalidation happened"
};

}  // namespace hmmsim::host
