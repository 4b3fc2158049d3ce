// fork() and exit(): address spaces coming and going.
#include "host/mm/address_space.h"

namespace hmmsim::host {

std::unique_ptr<AddressSpace> AddressSpace::fork() {
  auto child = std::make_unique<AddressSpace>(m_sys);
  if (m_exited) return child;
  // Private mappings become copy-on-write: mirrors of the parent must drop
  // their writable copies first (copy_page_range raises PROTECTION_PAGE).
  for (auto& [s, v] : m_vmas)
    if (!v.shared() && !entries(v.start, v.end).empty()) notify(v.start, v.end, NotifyEvent::ProtectionPage);
  child->m_vmas = m_vmas;  // files are shared through shared_ptr
  std::vector<std::pair<uint64_t, Pte>> all;  // a copy: the loop changes entries
  m_ptes.for_each(0, m_ptes.kEnd, [&](uint64_t vpn, const Pte& p) { all.emplace_back(vpn << kPageShift, p); });
  for (auto& [va, p0] : all) {
    const Vma* v = find_vma(va);
    Pte p = p0;
    if (p.kind == PteKind::Exclusive) {
      // The device loses its exclusive access; the page is copied as present.
      restore_exclusive(va, p);
      p = pte(va);
    }
    if (p.kind == PteKind::Migration) continue;  // cannot happen: migrations complete synchronously
    const bool cow = v && !v->shared();
    if (cow && p.write) {
      p.write = false;  // both sides lose write; the first writer copies (or migrates back first)
      set_pte(va, p);
    }
    if (DevicePagemaps::is_device(p.pfn))
      m_sys.pagemaps.get(p.pfn);
    else
      m_sys.phys.get(p.pfn);
    Pte c = p;
    c.lazyfree = false;
    child->set_pte(va, c);
  }
  return child;
}

void AddressSpace::exit() {
  if (m_exited) return;
  m_exited = true;
  m_notifiers.invalidate({0, ~0ull, NotifyEvent::Release, nullptr});
  zap(0, ~0ull);
  m_vmas.clear();
}

}  // namespace hmmsim::host
