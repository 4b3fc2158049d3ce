#include "common/event_trace.h"

#include <algorithm>

namespace hmmsim::common {

EventTrace::Track EventTrace::track(const std::string& process, const std::string& thread) {
  auto [it, fresh] = m_track_ids.emplace(std::make_pair(process, thread), Track(m_tracks.size()));
  if (fresh) m_tracks.push_back({process, thread});
  return it->second;
}

const char* EventTrace::intern(const std::string& s) {
  auto it = m_interned.find(s);
  if (it != m_interned.end()) return it->second;
  const char* p = m_strings.emplace_back(s).c_str();  // a deque never moves its elements
  m_interned.emplace(s, p);
  return p;
}

bool EventTrace::room(uint64_t end_ps) {
  if (kept() + m_reserved < m_max) return true;
  if (m_dropped++ == 0) m_cut_ps = end_ps;
  return false;
}

uint32_t EventTrace::slice(Track t, const char* name, uint64_t start_ps, uint64_t end_ps,
                           std::initializer_list<Arg> args) {
  if (!room(std::max(start_ps, end_ps))) return kNone;
  Slice s{start_ps, std::max(start_ps, end_ps), t, name, 0, {}};
  for (const Arg& a : args) {
    if (s.nargs == kMaxArgs) break;
    s.args[s.nargs++] = a;
  }
  m_slices.push_back(s);
  return uint32_t(m_slices.size() - 1);
}

uint32_t EventTrace::reserved_slice(Track t, const char* name, uint64_t start_ps, uint64_t end_ps) {
  if (m_reserved == 0) return slice(t, name, start_ps, end_ps);
  --m_reserved;
  m_slices.push_back({start_ps, std::max(start_ps, end_ps), t, name, 0, {}});
  return uint32_t(m_slices.size() - 1);
}

void EventTrace::add_flow(uint32_t slice, uint64_t id, bool out) {
  if (slice == kNone || slice >= m_slices.size()) return;
  if (!room(m_slices[slice].end_ps)) return;
  m_flows.push_back({id, slice, out});
}

void EventTrace::counter(Track t, const char* name, uint64_t ts_ps, double value) {
  if (!room(ts_ps)) return;
  m_counters.push_back({ts_ps, t, name, value});
}

EventTrace::Track EventTrace::context_track(const void* ctx, Track fallback) const {
  auto it = m_contexts.find(ctx);
  return it == m_contexts.end() ? fallback : it->second;
}

}  // namespace hmmsim::common
