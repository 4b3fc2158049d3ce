#pragma once
// BAR0 registers of the access counter unit (hw/access_counters.h), in the
// window 0x200-0x23C of the map in hwref/gpu_regs.h (which includes this). All registers are 32 bits wide. The ring
// works like the fault buffer's: the device writes at PUT, the driver
// consumes from GET and writes GET back; one slot stays empty.
#include <cstdint>

namespace hmmsim::hwref {

namespace bar0 {
constexpr uint64_t kAcBufBaseLo = 0x200;   // host PA of the notification ring
constexpr uint64_t kAcBufBaseHi = 0x204;
constexpr uint64_t kAcBufEntries = 0x208;  // ring size in entries; writing it resets PUT and GET
constexpr uint64_t kAcBufGet = 0x20C;      // driver: next entry it will consume
constexpr uint64_t kAcBufPut = 0x210;      // RO: next entry the device will write
constexpr uint64_t kAcStatus = 0x214;      // W1C: kAcStatusOverflow
constexpr uint64_t kAcGranularity = 0x218;  // log2 of the region size, 16 (64 KiB) .. 21 (2 MiB); clears all counters
constexpr uint64_t kAcThreshold = 0x21C;    // accesses per notification, 1 .. 65535
constexpr uint64_t kAcEnable = 0x220;       // bit0: count and notify
constexpr uint64_t kAcClearVaLo = 0x224;    // targeted clear: first VA
constexpr uint64_t kAcClearVaHi = 0x228;
constexpr uint64_t kAcClearLenLo = 0x22C;   // targeted clear: bytes
constexpr uint64_t kAcClearLenHi = 0x230;
constexpr uint64_t kAcClear = 0x234;        // write kAcClearTargeted or kAcClearAll
constexpr uint64_t kAcDropped = 0x238;      // RO: notifications dropped on a full ring (low 32 bits)
}  // namespace bar0

constexpr uint32_t kAcStatusOverflow = 1u << 0;
constexpr uint32_t kAcClearTargeted = 1;  // counters of every region overlapping [va, va + len)
constexpr uint32_t kAcClearAll = 2;

// The interrupt status/enable bit and the MSI vector (the data word written
// to the MSI address) of the unit.
constexpr uint32_t kIntrAccessCounter = 1u << 2;
constexpr uint32_t kMsiVectorAccessCounter = 2;

}  // namespace hmmsim::hwref
