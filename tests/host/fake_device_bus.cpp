#include "fake_device_bus.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>

#include "hwref/page_table_format.h"

namespace hmmsim::test {

namespace bar0 = hwref::bar0;
namespace pt = hwref::pt;
using hmmsim::host::kPageMask;
using hmmsim::host::kPageSize;
using hmmsim::host::PhysMem;

FakeDeviceBus::FakeDeviceBus(PhysMem& phys, uint64_t vram_bytes)
    : m_phys(phys), m_vram(vram_bytes, kVramPoison) {}

uint32_t FakeDeviceBus::reg(uint64_t offset) const {
  if (offset == bar0::kId) return m_id;
  auto it = m_regs.find(offset);
  return it == m_regs.end() ? 0 : it->second;
}

uint32_t FakeDeviceBus::pending_irqs(uint32_t vector) const {
  auto it = m_pending_irq.find(vector);
  return it == m_pending_irq.end() ? 0 : it->second;
}

bool FakeDeviceBus::take_irq(uint32_t vector) {
  auto it = m_pending_irq.find(vector);
  if (it == m_pending_irq.end() || it->second == 0) return false;
  --it->second;
  return true;
}

uint32_t FakeDeviceBus::mmio_read32(uint64_t offset) {
  if (offset >= bar0::kSize || (offset & 3)) {
    ADD_FAILURE() << "BAR0 read outside the register file / unaligned: 0x" << std::hex << offset;
    return 0;
  }
  mmio_read_log.push_back({offset, mmio_write_log.size()});
  if (offset == bar0::kId) ++id_reads;
  if (offset == bar0::kTlbInvAck) {
    if (m_ack_lag_left > 0)
      --m_ack_lag_left;  // still running: the old number
    else
      m_regs[offset] = m_inv_issued;
  }
  return reg(offset);
}

void FakeDeviceBus::mmio_write32(uint64_t offset, uint32_t value) {
  if (offset >= bar0::kSize || (offset & 3)) {
    ADD_FAILURE() << "BAR0 write outside the register file / unaligned: 0x" << std::hex << offset;
    return;
  }
  mmio_write_log.emplace_back(offset, value);
  switch (offset) {
    case bar0::kId:
    case bar0::kCeDoneSeq:
      return;  // read-only
    case bar0::kFaultBufPut:
      ADD_FAILURE() << "driver wrote the read-only fault buffer PUT register";
      return;
    case bar0::kFaultBufStatus:
      m_regs[offset] &= ~value;  // write 1 to clear
      return;
    case bar0::kIntrStatus:
      m_regs[offset] &= ~value;  // write 1 to clear
      if (value & hwref::kIntrFault) ack_fault_irq();
      return;
    case bar0::kIntrEnable:
      m_regs[offset] = value;
      m_fault_irq_enabled = (value & hwref::kIntrFault) != 0;
      if (m_fault_irq_enabled) ack_fault_irq();
      return;
    case bar0::kFaultBufEntries:
      m_regs[offset] = value;  // (re)programming the ring resets both pointers
      m_regs[bar0::kFaultBufPut] = 0;
      m_regs[bar0::kFaultBufGet] = 0;
      return;
    case bar0::kTlbInvTrigger:
      tlb_log.push_back({reg64(bar0::kTlbInvVaLo), reg(bar0::kTlbInvPages),
                         (reg(bar0::kTlbInvScope) & hwref::kTlbInvDirectories) != 0});
      ++m_inv_issued;
      m_ack_lag_left = tlb_ack_lag_reads;
      if (m_ack_lag_left == 0) m_regs[bar0::kTlbInvAck] = m_inv_issued;  // completes at once
      return;
    case bar0::kTlbInvAck:
      ADD_FAILURE() << "driver wrote the read-only invalidate acknowledgement";
      return;
    case bar0::kReplay:
      ++replays;
      return;
    case bar0::kCancelTrigger:
      cancel_log.push_back(reg64(bar0::kCancelVaLo));
      return;
    case bar0::kCeDoorbell:
      m_regs[offset] = value;
      run_copy();
      m_regs[bar0::kCeDoneSeq] = value;
      m_regs[bar0::kIntrStatus] |= hwref::kIntrCopy;
      ++m_pending_irq[hwref::kMsiVectorCopy];
      return;
    default:
      m_regs[offset] = value;
      return;
  }
}

bool FakeDeviceBus::vram_range_ok(uint64_t pa, uint64_t len) const {
  return pa <= m_vram.size() && len <= m_vram.size() - pa;
}

void FakeDeviceBus::vram_write(uint64_t vram_pa, const void* src, uint64_t len) {
  if (!vram_range_ok(vram_pa, len)) {
    ADD_FAILURE() << "VRAM write out of range: pa=0x" << std::hex << vram_pa << " len=0x" << len;
    return;
  }
  std::memcpy(m_vram.data() + vram_pa, src, len);
}

void FakeDeviceBus::vram_read(uint64_t vram_pa, void* dst, uint64_t len) {
  if (!vram_range_ok(vram_pa, len)) {
    ADD_FAILURE() << "VRAM read out of range: pa=0x" << std::hex << vram_pa << " len=0x" << len;
    std::memset(dst, 0, len);
    return;
  }
  std::memcpy(dst, m_vram.data() + vram_pa, len);
}

uint64_t FakeDeviceBus::vram_u64(uint64_t pa) const {
  if (!vram_range_ok(pa, 8)) {
    ADD_FAILURE() << "VRAM u64 read out of range: pa=0x" << std::hex << pa;
    return 0;
  }
  uint64_t v;
  std::memcpy(&v, m_vram.data() + pa, 8);
  return v;
}

void FakeDeviceBus::wait_irq(uint32_t vector) {
  auto it = m_pending_irq.find(vector);
  if (it == m_pending_irq.end() || it->second == 0) {
    ADD_FAILURE() << "wait_irq(" << vector << ") with no pending interrupt: would block forever";
    return;
  }
  --it->second;
}

void FakeDeviceBus::host_read(uint64_t pa, uint8_t* dst, uint64_t len) {
  while (len > 0) {
    const uint64_t off = pa & kPageMask;
    const uint64_t n = std::min(len, kPageSize - off);
    const auto pfn = PhysMem::pfn_of(pa);
    if (!m_phys.valid(pfn)) {
      ADD_FAILURE() << "copy engine read from a free/invalid host frame " << pfn;
      std::memset(dst, 0, n);
    } else {
      m_phys.read(pfn, off, dst, n);
    }
    pa += n;
    dst += n;
    len -= n;
  }
}

void FakeDeviceBus::host_write(uint64_t pa, const uint8_t* src, uint64_t len) {
  while (len > 0) {
    const uint64_t off = pa & kPageMask;
    const uint64_t n = std::min(len, kPageSize - off);
    const auto pfn = PhysMem::pfn_of(pa);
    if (!m_phys.valid(pfn) || pfn == m_phys.zero_pfn()) {
      ADD_FAILURE() << "copy engine write to a free/invalid/zero host frame " << pfn;
    } else {
      m_phys.write(pfn, off, src, n);
    }
    pa += n;
    src += n;
    len -= n;
  }
}

void FakeDeviceBus::run_copy() {
  const uint64_t src = reg64(bar0::kCeSrcLo);
  const uint64_t dst = reg64(bar0::kCeDstLo);
  const uint32_t len = reg(bar0::kCeLen);
  const auto dir = static_cast<hwref::CeDir>(reg(bar0::kCeDir));
  ce_log.push_back({dir, src, dst, len, reg(bar0::kCeDoorbell)});
  switch (dir) {
    case hwref::CeDir::HostToDevice:
      if (!vram_range_ok(dst, len)) break;
      host_read(src, m_vram.data() + dst, len);
      return;
    case hwref::CeDir::DeviceToHost:
      if (!vram_range_ok(src, len)) break;
      host_write(dst, m_vram.data() + src, len);
      return;
    case hwref::CeDir::DeviceToDevice:
      if (!vram_range_ok(src, len) || !vram_range_ok(dst, len)) break;
      std::memmove(m_vram.data() + dst, m_vram.data() + src, len);
      return;
    case hwref::CeDir::FillZero:
      if (!vram_range_ok(dst, len)) break;
      std::memset(m_vram.data() + dst, 0, len);
      return;
  }
  ADD_FAILURE() << "bad copy-engine command: dir=" << static_cast<uint32_t>(dir) << " src=0x"
                << std::hex << src << " dst=0x" << dst << " len=0x" << len;
}

bool FakeDeviceBus::push_fault(uint64_t va, hwref::AccessType access, uint16_t sm) {
  const uint32_t entries = reg(bar0::kFaultBufEntries);
  if (entries == 0) {
    ADD_FAILURE() << "push_fault before the driver programmed the fault buffer";
    return false;
  }
  const uint32_t put = reg(bar0::kFaultBufPut);
  const uint32_t get = reg(bar0::kFaultBufGet);
  if ((put + 1) % entries == get) {
    m_regs[bar0::kFaultBufStatus] |= 1;  // overflow: the fault is dropped
    raise_fault_irq();
    return false;
  }
  hwref::FaultEntry e;
  e.va = va & ~kPageMask;
  e.timestamp_ps = now_ps();
  e.client = sm;
  e.sm = sm;
  e.access = access;
  e.type = hwref::FaultType::InvalidPte;
  e.replayable = 1;
  e.valid = 1;
  uint8_t raw[hwref::kFaultEntryBytes];
  hwref::encode(e, raw);
  host_write(reg64(bar0::kFaultBufBaseLo) + uint64_t(put) * hwref::kFaultEntryBytes, raw,
             sizeof raw);
  m_regs[bar0::kFaultBufPut] = (put + 1) % entries;
  raise_fault_irq();
  return true;
}

void FakeDeviceBus::raise_fault_irq() {
  m_regs[bar0::kIntrStatus] |= hwref::kIntrFault;
  if (!m_fault_irq_enabled || !m_fault_irq_armed) return;
  m_fault_irq_armed = false;
  ++m_pending_irq[hwref::kMsiVectorFault];
}

void FakeDeviceBus::ack_fault_irq() {
  m_fault_irq_armed = true;
  const bool pending = reg(bar0::kFaultBufPut) != reg(bar0::kFaultBufGet) ||
                       (reg(bar0::kFaultBufStatus) & 1);
  if (pending) raise_fault_irq();
}

FakeDeviceBus::WalkInfo FakeDeviceBus::walk_info(uint64_t va) const {
  WalkInfo w;
  if (va >> pt::kVaBits) {
    ADD_FAILURE() << "walk of a VA beyond the 49-bit space";
    return w;
  }
  auto table_ok = [&](uint64_t table, uint64_t bytes, const char* what) {
    if (vram_range_ok(table, bytes)) return true;
    ADD_FAILURE() << what << " at 0x" << std::hex << table << " is outside VRAM";
    return false;
  };
  auto dir_ok = [&](uint64_t pde, const char* what) {
    if (pt::aperture(pde) == pt::Aperture::Vram) return true;
    ADD_FAILURE() << what << " points outside VRAM: 0x" << std::hex << pde;
    return false;
  };
  uint64_t table = reg64(bar0::kPdbLo);
  for (unsigned level = 0; level < pt::kPd0; ++level) {
    if (!table_ok(table, pt::table_bytes(level), "directory table")) return w;
    const uint64_t pde = vram_u64(table + pt::entry_offset(level, va));
    ++w.reads;
    if (!pt::pde_present(pde)) return w;
    if (!dir_ok(pde, "PDE above PD0")) return w;
    table = pt::address(pde);
  }
  if (!table_ok(table, pt::table_bytes(pt::kPd0), "PD0 table")) return w;
  const uint64_t word0 = vram_u64(table + pt::pd0_offset(va));
  const uint64_t word1 = vram_u64(table + pt::pd0_offset(va) + 8);
  ++w.reads;  // the dual entry: one 16-byte read
  uint64_t pte = 0;
  unsigned shift = 0;
  if (pt::pd0_is_pte(word0)) {
    pte = word0;
    shift = pt::kHugeShift;
  } else {
    if (pt::pde_present(word0)) {
      if (!dir_ok(word0, "PD0 word 0") || !table_ok(pt::address(word0), pt::kBigTableBytes, "64 KiB table"))
        return w;
      pte = vram_u64(pt::address(word0) + pt::big_pte_offset(va));
      ++w.reads;
      shift = pt::kBigShift;
    }
    if (!pt::pte_valid(pte) && pt::pde_present(word1)) {
      if (!dir_ok(word1, "PD0 word 1") ||
          !table_ok(pt::address(word1), pt::table_bytes(pt::kLevels - 1), "4 KiB page table"))
        return w;
      pte = vram_u64(pt::address(word1) + pt::entry_offset(pt::kLevels - 1, va));
      ++w.reads;
      shift = 12;
    }
  }
  if (!pt::pte_valid(pte)) return w;
  const uint64_t size = 1ull << shift;
  w.leaf = pte;
  w.shift = shift;
  w.pa = (pt::address(pte) & ~(size - 1)) + (va & (size - 1) & ~kPageMask);
  return w;
}

uint64_t FakeDeviceBus::walk(uint64_t va) const {
  const WalkInfo w = walk_info(va);
  if (!w.valid()) return 0;
  return (w.leaf & ~pt::kAddrMask) | w.pa;
}

}  // namespace hmmsim::test
