#pragma once
// errno-like results: host code reports, it does not throw (style §3).
#include <cstdint>

namespace hmmsim::host {

enum class Status : int {
  Ok = 0,
  Inval,   // EINVAL: bad range, alignment, or unsupported VMA
  Fault,   // EFAULT: no VMA / no read permission where a fault was needed
  Perm,    // EPERM: write to a read-only VMA
  NoEnt,   // ENOENT: hole left after migration
  Busy,    // EBUSY: raced with an invalidation; retry
  Again,   // EAGAIN: page is under migration; retry later
  NoMem,   // ENOMEM: allocation failed
  NotSupp, // EOPNOTSUPP: operation not supported on this memory (e.g. exclusive on shmem)
};

const char* to_string(Status s);

constexpr uint64_t kPageShift = 12;
constexpr uint64_t kPageSize = 1ull << kPageShift;
constexpr uint64_t kPageMask = kPageSize - 1;

constexpr uint64_t page_down(uint64_t a) { return a & ~kPageMask; }
constexpr uint64_t page_up(uint64_t a) { return (a + kPageMask) & ~kPageMask; }
constexpr bool page_aligned(uint64_t a) { return (a & kPageMask) == 0; }

}  // namespace hmmsim::host
