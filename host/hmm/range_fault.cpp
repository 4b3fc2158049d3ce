#include "host/hmm/range_fault.h"

namespace hmmsim::host {

Status hmm_range_fault(AddressSpace& mm, HmmRange& r) {
  if (!page_aligned(r.start) || !page_aligned(r.end) || r.end <= r.start) return Status::Inval;
  const uint64_t npages = (r.end - r.start) >> kPageShift;
  if (r.hmm_pfns.size() != npages) return Status::Inval;

  for (uint64_t i = 0; i < npages; ++i) {
    const uint64_t va = r.start + (i << kPageShift);
    const uint64_t req = ((r.hmm_pfns[i] & r.pfn_flags_mask) | r.default_flags) &
                         (kHmmPfnReqFault | kHmmPfnReqWrite);
    const bool want_fault = req & kHmmPfnReqFault;
    // As hmm_pte_need_fault(): without REQ_FAULT nothing is faulted, writes included.
    const bool want_write = want_fault && (req & kHmmPfnReqWrite);

    // A snapshot is only good if nothing invalidated the range meanwhile.
    if (r.notifier && r.notifier->read_retry(r.notifier_seq)) return Status::Busy;

    const Vma* vma = mm.find_vma(va);
    if (!vma || !(vma->prot & kProtRead)) {
      if (want_fault) return Status::Fault;
      r.hmm_pfns[i] = kHmmPfnError;
      continue;
    }
    if (want_write && !(vma->prot & kProtWrite)) return Status::Perm;

    for (int round = 0;; ++round) {
      if (round > 8) return Status::Busy;
      Pte p = mm.pte(va);
      bool need_fault = false;
      switch (p.kind) {
        case PteKind::None:
          if (!want_fault) {
            r.hmm_pfns[i] = 0;
            break;
          }
          need_fault = true;
          break;
        case PteKind::Migration:
          // Linux waits for the migration entry to go and retries.
          return Status::Busy;
        case PteKind::DevicePrivate: {
          const DevicePagemap* pm = mm.system().pagemaps.find(p.pfn);
          if (pm && pm->owner == r.dev_private_owner && r.dev_private_owner) {
            // The owner's own pages: valid without faulting, even for writes.
            r.hmm_pfns[i] = p.pfn | kHmmPfnValid | (p.write ? kHmmPfnWrite : 0);
            break;
          }
          if (!want_fault) {
            r.hmm_pfns[i] = 0;
            break;
          }
          need_fault = true;
          break;
        }
        case PteKind::Present:
          if (want_write && !p.write) {
            need_fault = true;
            break;
          }
          r.hmm_pfns[i] = p.pfn | kHmmPfnValid | (p.write ? kHmmPfnWrite : 0);
          break;
      }
      if (!need_fault) break;
      Status s = mm.handle_fault(va, want_write);
      if (s == Status::Again) return Status::Busy;
      if (s != Status::Ok) return s;
      if (r.notifier && r.notifier->read_retry(r.notifier_seq)) return Status::Busy;
    }
  }
  return Status::Ok;
}

}  // namespace hmmsim::host
