// BAR0 register decode of the Gpu (hwref/gpu_regs.h): reads return state
// of the units, writes are their commands.
#include <cstring>

#include "hw/gpu.h"

namespace hmmsim::hw {

using sc_core::sc_time;
namespace bar0 = hwref::bar0;

// Which engine's block, and where in it, an offset falls; false if none.
// 0x100-0x11C is engine 0's block in its original place.
static bool ce_decode(uint64_t off, unsigned engines, unsigned& e, uint64_t& in) {
  if (off >= bar0::kCeSrcLo && off <= bar0::kCeDoneSeq) {
    e = 0;
    in = off - bar0::kCeSrcLo;
    return true;
  }
  if (off < bar0::kCeBlock || off >= bar0::kCeBlock + bar0::kCeMaxEngines * bar0::kCeStride) return false;
  e = static_cast<unsigned>((off - bar0::kCeBlock) / bar0::kCeStride);
  in = (off - bar0::kCeBlock) % bar0::kCeStride;
  return e < engines;
}

uint32_t Gpu::ce_read(unsigned e, uint64_t off) {
  CopyEngine& ce = *m_ces[e];
  switch (off) {
    case bar0::kCeOffDoneSeq: return ce.done_seq();
    case bar0::kCeOffQueued: return ce.queued();
    default: return m_ce_regs[e][off / 4];
  }
}

void Gpu::ce_write(unsigned e, uint64_t off, uint32_t v, const sc_time& delay) {
  if (off == bar0::kCeOffDoneSeq || off == bar0::kCeOffQueued) return;  // read-only
  uint32_t* r = m_ce_regs[e];
  r[off / 4] = v;
  auto r64 = [&](uint64_t lo) { return uint64_t(r[lo / 4]) | (uint64_t(r[lo / 4 + 1]) << 32); };
  CopyEngine& ce = *m_ces[e];
  switch (off) {
    case bar0::kCeOffSemaLo:
    case bar0::kCeOffSemaHi: ce.set_semaphore(r64(bar0::kCeOffSemaLo)); break;
    case bar0::kCeOffFlags: ce.set_irq_on_completion(v & hwref::kCeFlagIrq); break;
    case bar0::kCeOffDoorbell: {
      CopyEngine::Descriptor d;
      d.src = r64(bar0::kCeOffSrcLo);
      d.dst = r64(bar0::kCeOffDstLo);
      d.len = r[bar0::kCeOffLen / 4];
      d.dir = static_cast<hwref::CeDir>(r[bar0::kCeOffDir / 4]);
      d.seq = v;
      ce.submit(d, delay);
      break;
    }
    default: break;
  }
}

uint32_t Gpu::reg_read(uint64_t off, const sc_time& delay) {
  unsigned e;
  uint64_t in;
  if (ce_decode(off, copy_engines(), e, in)) return ce_read(e, in);
  switch (off) {
    case bar0::kTlbInvAck: return m_gmmu.inv_ack(delay);
    case bar0::kFaultBufPut: return m_gmmu.put();
    case bar0::kFaultBufStatus: return m_gmmu.status();
    case bar0::kIntrStatus:
    {
      bool copy = false;
      for (auto& ce : m_ces) copy |= ce->irq_latched();
      return (m_gmmu.irq_latched() ? hwref::kIntrFault : 0) | (copy ? hwref::kIntrCopy : 0) |
             (m_ac.irq_latched() ? hwref::kIntrAccessCounter : 0);
    }
    case bar0::kCeCount: return copy_engines();
    case bar0::kAcBufPut: return m_ac.put();
    case bar0::kAcStatus: return m_ac.status();
    case bar0::kAcDropped: return static_cast<uint32_t>(m_ac.s_dropped);
    default: return m_regs[off / 4];
  }
}

void Gpu::reg_write(uint64_t off, uint32_t v, const sc_time& delay) {
  unsigned e;
  uint64_t in;
  if (ce_decode(off, copy_engines(), e, in)) return ce_write(e, in, v, delay);
  auto r64 = [&](uint64_t lo) { return uint64_t(m_regs[lo / 4]) | (uint64_t(m_regs[lo / 4 + 1]) << 32); };
  switch (off) {
    case bar0::kId:
    case bar0::kCeCount:
    case bar0::kTlbInvAck:
    case bar0::kAcBufPut:
    case bar0::kAcDropped:
    case bar0::kFaultBufPut:
      return;  // read-only
    case bar0::kFaultBufStatus:
      if (v & 1) m_gmmu.clear_status();
      return;
    case bar0::kAcStatus:
      if (v & hwref::kAcStatusOverflow) m_ac.clear_status();
      return;
    case bar0::kIntrStatus:  // write 1 to clear; clearing the fault bit re-arms it
      if (v & hwref::kIntrFault) m_gmmu.ack_irq(delay);
      if (v & hwref::kIntrCopy)
        for (auto& ce : m_ces) ce->clear_irq();
      if (v & hwref::kIntrAccessCounter) m_ac.ack_irq(delay);
      return;
    default:
      break;
  }
  m_regs[off / 4] = v;
  switch (off) {
    case bar0::kFaultBufEntries: m_gmmu.set_ring(r64(bar0::kFaultBufBaseLo), v); break;
    case bar0::kFaultBufGet: m_gmmu.set_get(v); break;
    case bar0::kPdbLo:
    case bar0::kPdbHi: m_gmmu.set_pdb(r64(bar0::kPdbLo)); break;
    case bar0::kMsiAddrLo:
    case bar0::kMsiAddrHi:
      m_gmmu.set_msi(r64(bar0::kMsiAddrLo));
      for (auto& ce : m_ces) ce->set_msi(r64(bar0::kMsiAddrLo));
      m_ac.set_msi(r64(bar0::kMsiAddrLo));
      break;
    case bar0::kIntrEnable:
      for (auto& ce : m_ces) ce->enable_irq(v & hwref::kIntrCopy);
      m_gmmu.enable_irq(v & hwref::kIntrFault, delay);
      m_ac.enable_irq(v & hwref::kIntrAccessCounter, delay);
      break;
    case bar0::kAcBufEntries: m_ac.set_ring(r64(bar0::kAcBufBaseLo), v); break;
    case bar0::kAcBufGet: m_ac.set_get(v); break;
    case bar0::kAcGranularity: m_ac.set_granularity_log2(v); break;  // out of range: ignored
    case bar0::kAcThreshold: m_ac.set_threshold(v); break;
    case bar0::kAcEnable: m_ac.enable(v & 1); break;
    case bar0::kAcClear:
      if (v == hwref::kAcClearAll) m_ac.clear_all();
      if (v == hwref::kAcClearTargeted) m_ac.clear(r64(bar0::kAcClearVaLo), r64(bar0::kAcClearLenLo));
      break;
    case bar0::kTlbInvTrigger:
      m_gmmu.invalidate(r64(bar0::kTlbInvVaLo), m_regs[bar0::kTlbInvPages / 4],
                        m_regs[bar0::kTlbInvScope / 4] & hwref::kTlbInvDirectories, delay);
      break;
    case bar0::kTlbInvSemaLo:
    case bar0::kTlbInvSemaHi: m_gmmu.set_inv_semaphore(r64(bar0::kTlbInvSemaLo)); break;
    case bar0::kReplay:
      if (v == hwref::kReplayTargeted) {
        const uint32_t u = m_regs[bar0::kReplayClient / 4];
        if (u < m_gmmu.utlbs()) m_gmmu.replay(u, delay);
      } else if (v == hwref::kReplayAll) {
        m_gmmu.replay(Gmmu::kAllUtlbs, delay);
      }
      break;
    case bar0::kCancelTrigger:
      m_gmmu.cancel(r64(bar0::kCancelVaLo), m_regs[bar0::kCancelClient / 4], delay);
      break;
    default: break;
  }
}

}  // namespace hmmsim::hw
