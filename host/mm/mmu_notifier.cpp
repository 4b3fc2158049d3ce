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
  // Copy: a callback may unregister itself (release).
  auto list = m_list;
  for (auto* n : list)
    if (n->start() < r.end && r.start < n->end()) n->ops()->invalidate(*n, r, m_seq);
}

}  // namespace hmmsim::host
