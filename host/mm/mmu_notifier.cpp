#include "host/mm/mmu_notifier.h"

#include <algorithm>

namespace hmmsim::host {

const char* to_string(NotifyEvent e) {
  switch (e) {
    case NotifyEvent::Unmap: return "UNMAP";
    case NotifyEvent::Clear: return "CLEAR";
    case NotifyEvent::ProtectionVma: return "PROTECTION_VMA";
    case NotifyEvent::ProtectionPage: return "PROTECTION_PAGE";
    case NotifyEvent::SoftDirty: return "SOFT_DIRTY";
    case NotifyEvent::Migrate: return "MIGRATE";
    case NotifyEvent::Exclusive: return "EXCLUSIVE";
    case NotifyEvent::Release: return "RELEASE";
  }
  return "?";
}

void MmuNotifierList::remove(MmuIntervalNotifier* n) {
  m_list.erase(std::remove(m_list.begin(), m_list.end(), n), m_list.end());
}

void MmuNotifierList::invalidate(const NotifierRange& r) {
  m_seq += 2;
  ++s_invalidations;
  // Every overlapping notifier counts as invalidating from before the first
  // callback until after the last (invalidate_range_start ... _end). A
  // callback may unregister (and free) a notifier: check membership before
  // touching one again.
  std::vector<MmuIntervalNotifier*> hit;
  for (auto* n : m_list)
    if (n->start() < r.end && r.start < n->end()) hit.push_back(n);
  auto registered = [this](MmuIntervalNotifier* n) {
    return std::find(m_list.begin(), m_list.end(), n) != m_list.end();
  };
  for (auto* n : hit) ++n->m_active;
  for (auto* n : hit)
    if (registered(n)) n->ops()->invalidate(*n, r, m_seq);
  for (auto* n : hit)
    if (registered(n)) --n->m_active;
}

}  // namespace hmmsim::host
