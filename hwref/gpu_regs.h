#pragma once
// BAR0 register map of the modelled GPU: the contract between the device
// model (hw/) and its driver (host/gpu_driver/), like a hardware reference
// manual. All registers are 32 bits wide.
#include <cstdint>

#include "hwref/access_counter_regs.h"

namespace hmmsim::hwref {

namespace bar0 {
constexpr uint64_t kId = 0x000;              // RO: kIdValue
constexpr uint64_t kFaultBufBaseLo = 0x010;  // host PA of the replayable fault buffer
constexpr uint64_t kFaultBufBaseHi = 0x014;
constexpr uint64_t kFaultBufEntries = 0x018;  // ring size in entries
constexpr uint64_t kFaultBufGet = 0x01C;      // driver: next entry it will consume
constexpr uint64_t kFaultBufPut = 0x020;      // RO: next entry the GMMU will write
constexpr uint64_t kFaultBufStatus = 0x024;   // W1C: bit0 overflow
constexpr uint64_t kPdbLo = 0x030;            // VRAM PA of the top page directory
constexpr uint64_t kPdbHi = 0x034;
constexpr uint64_t kTlbInvVaLo = 0x040;  // first VA to invalidate (4 KiB aligned)
constexpr uint64_t kTlbInvVaHi = 0x044;
constexpr uint64_t kTlbInvPages = 0x048;   // number of 4 KiB pages; 0 = everything
constexpr uint64_t kTlbInvTrigger = 0x04C;  // write: perform the invalidate
constexpr uint64_t kReplay = 0x050;         // write kReplayAll or kReplayTargeted
constexpr uint64_t kReplayClient = 0x054;   // uTLB of a targeted replay
constexpr uint64_t kTlbInvScope = 0x058;    // bit 0: page-directory caches too (a PDE changed)
constexpr uint64_t kTlbInvAck = 0x05C;      // RO: number of the last completed invalidate
constexpr uint64_t kTlbInvSemaLo = 0x080;   // host PA written with that number on completion; 0 = off
constexpr uint64_t kTlbInvSemaHi = 0x084;
constexpr uint64_t kMsiAddrLo = 0x060;      // where MSIs are written (host PA)
constexpr uint64_t kMsiAddrHi = 0x064;
constexpr uint64_t kIntrStatus = 0x070;  // W1C: kIntrFault, kIntrCopy
constexpr uint64_t kIntrEnable = 0x074;
constexpr uint64_t kCeSrcLo = 0x100;  // copy engine descriptor
constexpr uint64_t kCeSrcHi = 0x104;
constexpr uint64_t kCeDstLo = 0x108;
constexpr uint64_t kCeDstHi = 0x10C;
constexpr uint64_t kCeLen = 0x110;       // bytes
constexpr uint64_t kCeDir = 0x114;       // CeDir
constexpr uint64_t kCeDoorbell = 0x118;  // write a sequence number: start the copy
constexpr uint64_t kCeDoneSeq = 0x11C;   // RO: sequence of the last finished copy
// 0x100-0x11C is copy engine 0's block in its original place; every
// engine i < kCeCount also has a full block at kCeBlock + i * kCeStride.
constexpr uint64_t kCeCount = 0x2F0;     // RO: copy engines
constexpr uint64_t kCeBlock = 0x400;
constexpr uint64_t kCeStride = 0x40;
constexpr uint64_t kCeMaxEngines = 16;
// Offsets inside a block (the first eight match 0x100-0x11C).
constexpr uint64_t kCeOffSrcLo = 0x00, kCeOffSrcHi = 0x04, kCeOffDstLo = 0x08, kCeOffDstHi = 0x0C;
constexpr uint64_t kCeOffLen = 0x10, kCeOffDir = 0x14;
constexpr uint64_t kCeOffDoorbell = 0x18;  // write a sequence number: queue the descriptor
constexpr uint64_t kCeOffDoneSeq = 0x1C;   // RO: sequence of the last finished copy
constexpr uint64_t kCeOffSemaLo = 0x20;    // host PA written with the sequence on completion; 0 = off
constexpr uint64_t kCeOffSemaHi = 0x24;
constexpr uint64_t kCeOffFlags = 0x28;     // bit 0: interrupt on completion (reset value 1)
constexpr uint64_t kCeOffQueued = 0x2C;    // RO: descriptors queued or running
constexpr uint64_t kCancelVaLo = 0x130;   // fatal fault: fail accesses waiting on this page
constexpr uint64_t kCancelVaHi = 0x134;
constexpr uint64_t kCancelTrigger = 0x138;  // write: cancel
constexpr uint64_t kCancelClient = 0x13C;   // uTLB whose accesses are cancelled; kAllClients = every one
constexpr uint64_t kSize = 0x1000;
constexpr uint64_t ce_reg(unsigned engine, uint64_t off) { return kCeBlock + engine * kCeStride + off; }
}  // namespace bar0

constexpr uint32_t kIdValue = 0x484D4D31;  // "HMM1"
constexpr uint32_t kReplayAll = 1;
constexpr uint32_t kReplayTargeted = 2;
constexpr uint32_t kTlbInvDirectories = 1u << 0;
constexpr uint32_t kAllClients = 0xFFFFFFFF;
constexpr uint32_t kCeFlagIrq = 1u << 0;
constexpr uint32_t kIntrFault = 1u << 0;
constexpr uint32_t kIntrCopy = 1u << 1;  // kIntrAccessCounter = 1u << 2 (access_counter_regs.h)

// MSI vectors (the data word the device writes to the MSI address).
constexpr uint32_t kMsiVectorFault = 0;
constexpr uint32_t kMsiVectorCopy = 1;

// FillZero clears `len` bytes of VRAM at dst (src ignored).
enum class CeDir : uint32_t { HostToDevice = 0, DeviceToHost = 1, DeviceToDevice = 2, FillZero = 3 };

// Device-visible address map behind the PCIe endpoint (BAR1 exposes VRAM).
constexpr uint64_t kBar0Base = 0x0;
constexpr uint64_t kBar1Base = 1ull << 40;  // VRAM aperture: BAR1 + VRAM PA

}  // namespace hmmsim::hwref
