#pragma once
// hmm_range_fault(): snapshot (and optionally fault in) the CPU page table
// for a range, one flag word per page, as in Linux mm/hmm.c. Mechanism only:
// no device knowledge, no timing.
#include <cstdint>
#include <vector>

#include "host/common/status.h"
#include "host/mm/address_space.h"

namespace hmmsim::host {

// Output and request flag bits share the word, as in include/linux/hmm.h.
constexpr uint64_t kHmmPfnValid = 1ull << 63;
constexpr uint64_t kHmmPfnWrite = 1ull << 62;
constexpr uint64_t kHmmPfnError = 1ull << 61;
constexpr unsigned kHmmPfnOrderShift = 53;  // 5 bits: the CPU mapping order (0, 9 for PMD)
constexpr uint64_t kHmmPfnOrderMask = 0x1Full << kHmmPfnOrderShift;
constexpr uint64_t kHmmPfnFlags = ~((1ull << kHmmPfnOrderShift) - 1);
constexpr uint64_t kHmmPfnReqFault = kHmmPfnValid;  // page must become valid
constexpr uint64_t kHmmPfnReqWrite = kHmmPfnWrite;  // page must become writable (with REQ_FAULT)
inline Pfn hmm_pfn_to_pfn(uint64_t e) { return e & ~kHmmPfnFlags; }
inline unsigned hmm_pfn_to_map_order(uint64_t e) {
  return static_cast<unsigned>((e & kHmmPfnOrderMask) >> kHmmPfnOrderShift);
}

struct HmmRange {
  MmuIntervalNotifier* notifier = nullptr;
  uint64_t notifier_seq = 0;
  uint64_t start = 0, end = 0;     // [start, end), page aligned
  std::vector<uint64_t> hmm_pfns;  // in: request flags; out: pfn | flags | order
  uint64_t default_flags = 0;
  uint64_t pfn_flags_mask = 0;
  const void* dev_private_owner = nullptr;
};

// Returns Ok with every page filled; Busy if the notifier sequence moved
// (retry with a fresh read_begin) or a page is under migration; Fault for a
// missing VMA, no read permission or a failed fault where a fault was
// requested; Perm for a write request on a VMA without write permission.
// Without a fault request: ERROR for no VMA / no read permission, 0 for
// pages that are not present (other devices' private pages, exclusive and
// migration entries included; a PMD-level private page of another device
// gives ERROR, as in Linux). A device's own private pages are reported valid
// without faulting, even for write requests.
Status hmm_range_fault(AddressSpace& mm, HmmRange& range);

}  // namespace hmmsim::host
