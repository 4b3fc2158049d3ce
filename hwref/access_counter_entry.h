#pragma once
// Access counter notification entry: 32 bytes, little endian, written by the
// access counter unit into its own ring in host memory when a region of
// system memory has been accessed `threshold` times by the GPU. After the
// C365 notify buffer entry NVIDIA's UVM driver parses (open-gpu-kernel-modules
// uvm_volta_access_counter_buffer.c), simplified: a virtual region base, the
// count, the sub-region mask and a valid byte the driver clears.
#include <cstdint>
#include <cstring>

namespace hmmsim::hwref {

struct AccessCounterEntry {
  uint64_t va = 0;            // region base, aligned to the granularity
  uint64_t timestamp_ps = 0;  // simulated time of the access that crossed the threshold
  uint32_t count = 0;         // accesses counted since the region's last notification (>= threshold)
  uint32_t sub_mask = 0;      // bit i: 64 KiB sub-region i of the region was accessed
  uint8_t granularity_log2 = 21;  // region size then, so the mask decodes without registers
  uint8_t valid = 0;              // last byte: the driver polls and clears it
};

constexpr uint64_t kAccessCounterEntryBytes = 32;
constexpr unsigned kAccessCounterSubRegionLog2 = 16;  // mask bits are 64 KiB each

inline void encode(const AccessCounterEntry& e, uint8_t out[kAccessCounterEntryBytes]) {
  std::memset(out, 0, kAccessCounterEntryBytes);
  std::memcpy(out + 0, &e.va, 8);
  std::memcpy(out + 8, &e.timestamp_ps, 8);
  std::memcpy(out + 16, &e.count, 4);
  std::memcpy(out + 20, &e.sub_mask, 4);
  out[24] = e.granularity_log2;
  out[31] = e.valid;
}

inline AccessCounterEntry decode_access_counter(const uint8_t in[kAccessCounterEntryBytes]) {
  AccessCounterEntry e;
  std::memcpy(&e.va, in + 0, 8);
  std::memcpy(&e.timestamp_ps, in + 8, 8);
  std::memcpy(&e.count, in + 16, 4);
  std::memcpy(&e.sub_mask, in + 20, 4);
  e.granularity_log2 = in[24];
  e.valid = in[31];
  return e;
}

}  // namespace hmmsim::hwref
