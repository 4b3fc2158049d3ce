#pragma once
// Named VRAM presets (gpu.vram.preset): a DramSpec per GPU memory system,
// plus the interface figures it was derived from. Sources and estimates are
// listed in dram_presets.cpp and docs/vram.md.
#include <cstdint>
#include <string>
#include <vector>

#include "hw/dram/dram_spec.h"

namespace hmmsim::hw {

struct DramPreset {
  std::string name;
  DramSpec spec;             // channel_gbps and burst_bytes already derived
  uint32_t bus_bits;         // one channel's data width
  double data_rate_gbps;     // per pin
  uint32_t burst_length;     // beats per column command
  double vendor_peak_gbps;   // the GPU's published peak, to check the model against
  std::string gpu;           // which product the numbers describe
};

// hbm2, hbm2e, hbm3, gddr6x.
const std::vector<DramPreset>& dram_presets();
// nullptr if unknown.
const DramPreset* dram_preset(const std::string& name);
// The no-preset machine (configs/default.yaml): 128-bit channels at 2 Gb/s,
// byte-granular transfers, no tRAS/tCCD/tRRD/tFAW/refresh.
const DramPreset& dram_default_preset();

}  // namespace hmmsim::hw
