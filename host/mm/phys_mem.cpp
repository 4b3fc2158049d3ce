#include "host/mm/phys_mem.h"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <stdexcept>

namespace hmmsim::host {

PhysMem::PhysMem(uint64_t frames) : m_ref(frames, 0), m_data(frames) {
  if (frames < 2) throw std::invalid_argument("PhysMem needs at least 2 frames");
  m_ref[0] = 1;  // zero page: permanently referenced
  m_free.reserve(frames - 1);
  for (uint64_t f = frames - 1; f >= 1; --f) m_free.push_back(f);
}

Pfn PhysMem::alloc() {
  if (m_fail_next) {
    --m_fail_next;
    return kNoPfn;
  }
  if (m_free.empty()) return kNoPfn;
  Pfn pfn = m_free.back();
  m_free.pop_back();
  m_ref[pfn] = 1;
  m_data[pfn].reset();  // reads as zeros
  ++s_allocs;
  return pfn;
}

Pfn PhysMem::take_run(Pfn first, uint64_t n) {
  m_free.erase(std::remove_if(m_free.begin(), m_free.end(),
                              [&](Pfn p) { return p >= first && p < first + n; }),
               m_free.end());
  for (Pfn p = first; p < first + n; ++p) {
    m_ref[p] = 1;
    m_data[p].reset();
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
    if (run == n) return take_run(f + 1 - n, n);
  }
  return kNoPfn;
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
    m_data[pfn].reset();
    m_free.push_back(pfn);
    ++s_frees;
  }
}

PhysMem::Page& PhysMem::materialise(Pfn pfn) {
  auto& p = m_data[pfn];
  if (!p) {
    p = std::make_unique<Page>();
    p->fill(0);
  }
  return *p;
}

void PhysMem::read(Pfn pfn, uint64_t off, void* dst, uint64_t len) const {
  assert(pfn < m_ref.size() && off + len <= kPageSize);
  const auto& p = m_data[pfn];
  if (p)
    std::memcpy(dst, p->data() + off, len);
  else
    std::memset(dst, 0, len);
}

void PhysMem::write(Pfn pfn, uint64_t off, const void* src, uint64_t len) {
  assert(valid(pfn) && off + len <= kPageSize);
  assert(pfn != zero_pfn() && "write to the shared zero page");
  std::memcpy(materialise(pfn).data() + off, src, len);
}

void PhysMem::copy_page(Pfn dst, Pfn src) {
  if (!m_data[src]) {
    clear_page(dst);
    return;
  }
  materialise(dst) = *m_data[src];
}

void PhysMem::clear_page(Pfn pfn) { m_data[pfn].reset(); }

}  // namespace hmmsim::host
