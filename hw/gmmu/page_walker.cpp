#include "hw/gmmu/page_walker.h"

#include <algorithm>
#include <stdexcept>

#include "hwref/page_table_format.h"

namespace hmmsim::hw {

namespace pt = hwref::pt;

std::optional<common::SpecError> WalkerSpec::validate() const {
  if (walkers == 0) return common::SpecError{"walkers", "must be at least 1"};
  if (auto e = pwc.validate()) return common::SpecError{"pwc." + e->key, e->message};
  return std::nullopt;
}

PageWalker::PageWalker(const WalkerSpec& spec, double cycle_ns, ITableMemory& mem)
    : m_spec(spec), m_cycle(cycle_ns), m_mem(mem), m_pwc(make_pwc(spec.pwc)), m_busy(spec.walkers, 0.0) {
  if (spec.walkers == 0) throw std::invalid_argument("page walker: walkers must be at least 1");
}

uint64_t PageWalker::read8(uint64_t pa, unsigned level, double& t) {
  t += m_spec.level_cycles * m_cycle;
  uint64_t v = 0;
  if (!m_mem.read(pa, &v, 8, t)) v = 0;  // a bus error reads as "not present"
  ++s_reads;
  ++s_reads_by_level[level];
  return v;
}

void PageWalker::set_trace(common::EventTrace* trace) {
  m_trace = trace;
  m_tracks.clear();
  if (!trace) return;
  for (size_t i = 0; i < m_busy.size(); ++i) m_tracks.push_back(trace->track("GPU", "walker " + std::to_string(i)));
}

WalkResult PageWalker::walk(uint64_t va, double& t) {
  ++s_walks;
  auto slot = std::min_element(m_busy.begin(), m_busy.end());
  const double start = std::max(t, *slot);
  s_queue_ns += start - t;
  t = start;
  const uint64_t reads0 = s_reads;
  WalkResult r;

  // The deepest cached directory entry decides where reading starts.
  PwcEntry cached;
  const int hit = m_pwc->probe(va, cached);
  if (m_spec.pwc.impl != "none") t += m_spec.pwc.hit_cycles * m_cycle;
  PwcEntry pd0;
  if (hit == int(pt::kPd0)) {
    pd0 = cached;
  } else {
    uint64_t table = hit < 0 ? m_root : pt::address(cached.word[0]);
    bool present = true;
    for (unsigned level = hit < 0 ? 0 : unsigned(hit) + 1; level < pt::kPd0; ++level) {
      const uint64_t e = read8(table + pt::entry_offset(level, va), level, t);
      if (!pt::pde_present(e)) {
        present = false;
        break;
      }
      m_pwc->fill(level, va, PwcEntry{{e, 0}});
      table = pt::address(e);
    }
    if (present) {
      t += m_spec.level_cycles * m_cycle;
      if (!m_mem.read(table + pt::pd0_offset(va), pd0.word, 16, t)) pd0 = PwcEntry{};
      ++s_reads;
      ++s_reads_by_level[pt::kPd0];
      // A 2 MiB PTE is a leaf: the TLBs cache it, not the walk cache.
      if (!pt::pd0_is_pte(pd0.word[0]) && (pt::pde_present(pd0.word[0]) || pt::pde_present(pd0.word[1])))
        m_pwc->fill(pt::kPd0, va, pd0);
    }
  }

  uint64_t pte = 0;
  unsigned shift = 0;
  if (pt::pd0_is_pte(pd0.word[0])) {
    pte = pd0.word[0];
    shift = pt::kHugeShift;
  } else if (!pt::pde_present(pd0.word[0]) && !pt::pde_present(pd0.word[1])) {
    r.fault = hwref::FaultType::InvalidPde;
  } else {
    // The 64 KiB table first: a valid big PTE hides the 4 KiB ones under it.
    if (pt::pde_present(pd0.word[0])) {
      pte = read8(pt::address(pd0.word[0]) + pt::big_pte_offset(va), 4, t);
      shift = pt::kBigShift;
    }
    if (!pt::pte_valid(pte) && pt::pde_present(pd0.word[1])) {
      pte = read8(pt::address(pd0.word[1]) + pt::entry_offset(pt::kLevels - 1, va), 5, t);
      shift = 12;
    }
    r.fault = hwref::FaultType::InvalidPte;
  }
  if (pt::pte_valid(pte)) {
    r.valid = true;
    r.t.pa = pt::address(pte) & ~((1ull << shift) - 1);
    r.t.aperture = static_cast<uint8_t>(pt::aperture(pte));
    r.t.shift = static_cast<uint8_t>(shift);
    r.t.writable = pt::pte_writable(pte);
    r.t.atomic = pt::pte_atomic(pte);
    ++s_walks_by_size[page_size_index(shift)];
  } else {
    ++s_faults;
  }
  r.reads = static_cast<unsigned>(s_reads - reads0);
  *slot = t;
  s_walk_ns += t - start;
  s_walk_latency_ns.add(t - start);
  if (m_trace) {
    using ET = common::EventTrace;
    m_trace->slice(m_tracks[size_t(slot - m_busy.begin())], r.valid ? "walk" : "walk (no PTE)", ET::ps_of_ns(start),
                   ET::ps_of_ns(t), {ET::hex("va", va), ET::num("reads", r.reads), ET::num("pwc_level", unsigned(hit + 1))});
  }
  return r;
}

}  // namespace hmmsim::hw
