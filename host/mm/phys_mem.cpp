#include "host/mm/phys_mem.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace hmmsim::host {

namespace {
uint64_t checked_frames(uint64_t frames) {
  if (frames < 2) throw std::invalid_argument("PhysMem needs at least 2 frames");
  return frames;
}
}  // namespace

PhysMem::PhysMem(uint64_t frames, common::DataMode mode)
    : m_ref(checked_frames(frames), 0), m_data(mode, frames) {
  m_ref[0] = 1;  // zero page: permanently referenced
  m_free.reserve(frames - 1);
  for (uint64_t f = frames - 1; f >= 1; --f) m_free.push_back(f);
}

Pfn PhysMem::alloc() {
  if (m_fail_next) {
    --m_fail_next;
    return kNoPfn;
  }
  if (m_free.empty()) return out_of_memory(1);
  Pfn pfn = m_free.back();
  m_free.pop_back();
  m_ref[pfn] = 1;
  m_data.clear(pfn);  // reads as zeros
  ++s_allocs;
  return pfn;
}

Pfn PhysMem::out_of_memory(uint64_t frames) {
  ++s_alloc_failures;
  if (m_oom) m_oom(frames);
  return kNoPfn;
}

Pfn PhysMem::take_run(Pfn first, uint64_t n) {
  m_free.erase(std::remove_if(m_free.begin(), m_free.end(),
                              [&](Pfn p) { return p >= first && p < first + n; }),
               m_free.end());
  for (Pfn p = first; p < first + n; ++p) {
    m_ref[p] = 1;
    m_data.clear(p);
    ++s_allocs;
  }
  return first;
}

Pfn PhysMem::alloc_contiguous(uint64_t n) {
  if (m_fail_next) {
    --m_fail_next;
    return kNoPfn;
  }
  uint64_t run = 0;
  for (Pfn f = 1; f < m_ref.size(); ++f) {
    run = m_ref[f] == 0 ? run + 1 : 0;
    if (run == n) {
      // Device rings: the driver reads back what the device wrote, so they
      // keep real bytes in every data mode.
      const Pfn first = take_run(f + 1 - n, n);
      for (Pfn p = first; p < first + n; ++p) m_data.keep_bytes(p);
      return first;
    }
  }
  return out_of_memory(n);
}

Pfn PhysMem::alloc_huge() {
  if (m_fail_next) {
    --m_fail_next;
    return kNoPfn;
  }
  constexpr uint64_t kN = 512;
  for (Pfn first = kN; first + kN <= m_ref.size(); first += kN) {
    bool free = true;
    for (Pfn p = first; p < first + kN && free; ++p) free = m_ref[p] == 0;
    if (free) return take_run(first, kN);
  }
  return kNoPfn;
}

void PhysMem::get(Pfn pfn) {
  assert(valid(pfn));
  if (pfn == zero_pfn()) return;  // permanently referenced, like put()
  ++m_ref[pfn];
}

void PhysMem::put(Pfn pfn) {
  assert(valid(pfn));
  if (pfn == zero_pfn()) return;
  if (--m_ref[pfn] == 0) {
    m_data.clear(pfn);
    m_free.push_back(pfn);
    ++s_frees;
  }
}

void PhysMem::read(Pfn pfn, uint64_t off, void* dst, uint64_t len) const {
  assert(pfn < m_ref.size() && off + len <= kPageSize);
  m_data.read(pfn, off, dst, len);
}

void PhysMem::write(Pfn pfn, uint64_t off, const void* src, uint64_t len) {
  assert(valid(pfn) && off + len <= kPageSize);
  assert(pfn != zero_pfn() && "write to the shared zero page");
  m_data.write(pfn, off, src, len);
}

void PhysMem::copy_page(Pfn dst, Pfn src) { m_data.copy(dst, src); }

void PhysMem::clear_page(Pfn pfn) { m_data.clear(pfn); }

}  // namespace hmmsim::host
