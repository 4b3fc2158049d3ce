#pragma once
// Replayable fault buffer entry: 32 bytes, little endian, written by the
// GMMU into a ring in host memory (after NVIDIA's clc369 layout, simplified).
#include <cstdint>
#include <cstring>

namespace hmmsim::hwref {

enum class AccessType : uint8_t { Prefetch = 0, Read = 1, Write = 2, AtomicWeak = 3, AtomicStrong = 4 };
enum class FaultType : uint8_t { InvalidPde = 0, InvalidPte = 1, Write = 2, Atomic = 3, Fatal = 8 };

struct FaultEntry {
  uint64_t va = 0;            // 4 KiB aligned faulting address
  uint64_t timestamp_ps = 0;  // simulated time of the fault
  uint32_t client = 0;        // uTLB id (one per SM here)
  uint16_t sm = 0;
  AccessType access = AccessType::Read;
  FaultType type = FaultType::InvalidPte;
  uint8_t replayable = 1;
  uint8_t valid = 0;  // last byte: the driver polls and clears it
};

constexpr uint64_t kFaultEntryBytes = 32;

inline void encode(const FaultEntry& e, uint8_t out[kFaultEntryBytes]) {
  std::memset(out, 0, kFaultEntryBytes);
  std::memcpy(out + 0, &e.va, 8);
  std::memcpy(out + 8, &e.timestamp_ps, 8);
  std::memcpy(out + 16, &e.client, 4);
  std::memcpy(out + 20, &e.sm, 2);
  out[22] = static_cast<uint8_t>(e.access);
  out[23] = static_cast<uint8_t>(e.type);
  out[24] = e.replayable;
  out[31] = e.valid;
}

inline FaultEntry decode(const uint8_t in[kFaultEntryBytes]) {
  FaultEntry e;
  std::memcpy(&e.va, in + 0, 8);
  std::memcpy(&e.timestamp_ps, in + 8, 8);
  std::memcpy(&e.client, in + 16, 4);
  std::memcpy(&e.sm, in + 20, 2);
  e.access = static_cast<AccessType>(in[22]);
  e.type = static_cast<FaultType>(in[23]);
  e.replayable = in[24];
  e.valid = in[31];
  return e;
}

}  // namespace hmmsim::hwref
