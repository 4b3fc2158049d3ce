#include "host/gpu_driver/batch_stages.h"

namespace hmmsim::host {

const char* stage_name(Stage s) {
  static const char* const names[kStageCount] = {"fetch", "preprocess", "range_fault", "migrate", "allocate",
                                                 "copy",  "pte_write",  "invalidate",  "replay"};
  return names[static_cast<size_t>(s)];
}

void StageClock::begin(Stage s, uint64_t now_ps, const void* ctx) {
  m_ns.fill(0);
  m_ctx = ctx;
  m_cur = s;
  m_last = m_start = now_ps;
  m_active = true;
}

Stage StageClock::mark(Stage s, uint64_t now_ps, const void* ctx) {
  const Stage prev = m_cur;
  if (!m_active || ctx != m_ctx) return prev;
  m_ns[static_cast<size_t>(m_cur)] += double(now_ps - m_last) / 1000.0;
  if (m_trace && now_ps > m_last) m_trace->slice(m_track, stage_name(m_cur), m_last, now_ps);
  m_last = now_ps;
  m_cur = s;
  return prev;
}

void StageClock::end(uint64_t now_ps, BatchStageStats& out) {
  if (!m_active) return;
  mark(m_cur, now_ps, m_ctx);
  for (size_t i = 0; i < kStageCount; ++i) {
    out.total_ns[i] += m_ns[i];
    out.per_batch[i].add(m_ns[i]);
  }
  out.batch_ns.add(double(now_ps - m_start) / 1000.0);
  m_active = false;
}

}  // namespace hmmsim::host
