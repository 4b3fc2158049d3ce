#include "host/hmm/range_fault.h"

namespace hmmsim::host {

Status hmm_range_fault(AddressSpace& mm, HmmRange& r) {
  if (!page_aligned(r.start) || !page_aligned(r.end) || r.end <= r.start) return Status::Inval;
  const uint64_t npages = (r.end - r.start) >> kPageShift;
  if (r.hmm_pfns.size() != npages) return Status::Inval;

  // Like hmm_vma_fault(), every page that needs it is faulted in one walk;
  // only then does an invalidation the faults raised make the call Busy.
  bool faulted = false;
  for (uint64_t i = 0; i < npages; ++i) {
    const uint64_t va = r.start + (i << kPageShift);
    const uint64_t req = ((r.hmm_pfns[i] & r.pfn_flags_mask) | r.default_flags) &
                         (kHmmPfnReqFault | kHmmPfnReqWrite);
    const bool want_fault = req & kHmmPfnReqFault;
    // As hmm_pte_need_fault(): without REQ_FAULT nothing is faulted, writes included.
    const bool want_write = want_fault && (req & kHmmPfnReqWrite);

    // A snapshot is only good if nothing invalidated the range meanwhile.
    if (!faulted && r.notifier && r.notifier->read_retry(r.notifier_seq)) return Status::Busy;

    const Vma* vma = mm.find_vma(va);
    if (!vma || !(vma->prot & kProtRead)) {
      if (want_fault) return Status::Fault;
      r.hmm_pfns[i] = kHmmPfnError;
      continue;
    }
    for (int round = 0;; ++round) {
      if (round > 8) return Status::Busy;
      const Pte p = mm.pte(va);
      const uint64_t order = uint64_t(p.pmd ? 9 : 0) << kHmmPfnOrderShift;
      const uint64_t valid = p.pfn | kHmmPfnValid | (p.write ? kHmmPfnWrite : 0) | order;
      bool need_fault = false;
      switch (p.kind) {
        case PteKind::None:
          need_fault = want_fault;
          if (!need_fault) r.hmm_pfns[i] = 0;
          break;
        case PteKind::Migration:
          if (want_fault) return Status::Busy;  // Linux waits for the migration, then re-walks
          r.hmm_pfns[i] = 0;
          break;
        case PteKind::Exclusive:
          need_fault = want_fault;  // the fault restores the CPU mapping
          if (!need_fault) r.hmm_pfns[i] = 0;
          break;
        case PteKind::DevicePrivate: {
          const DevicePagemap* pm = mm.system().pagemaps.find(p.pfn);
          if (pm && r.dev_private_owner && pm->owner == r.dev_private_owner) {
            r.hmm_pfns[i] = valid;
            break;
          }
          need_fault = want_fault;
          if (!need_fault) r.hmm_pfns[i] = p.pmd ? kHmmPfnError : 0;
          break;
        }
        case PteKind::Present:
          need_fault = want_write && !p.write;
          if (!need_fault) r.hmm_pfns[i] = valid;
          break;
      }
      if (!need_fault) break;
      // Only a fault that must write needs write permission: a device's own
      // read-only private page is reported as it is, even for a write request.
      if (want_write && !(vma->prot & kProtWrite)) return Status::Perm;
      const Status s = mm.handle_fault(va, want_write);
      if (s == Status::Again) return Status::Busy;
      if (s == Status::Perm) return Status::Perm;
      if (s != Status::Ok) return Status::Fault;  // mainline maps VM_FAULT_ERROR to -EFAULT
      faulted = true;
    }
  }
  if (faulted && r.notifier && r.notifier->read_retry(r.notifier_seq)) return Status::Busy;
  return Status::Ok;
}

}  // namespace hmmsim::host
