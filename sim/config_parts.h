#pragma once
// Parsers of the config's blocks, one file per block (sim/config_*.cpp).
#include "host/gpu_driver/driver_spec.h"
#include "hw/gpu.h"
#include "sim/config_reader.h"

namespace hmmsim::sim {

void parse_gpu(ConfigReader r, hw::GpuSpec& s);
void parse_vram(ConfigReader v, hw::VramSpec& s);
void parse_driver(ConfigReader r, host::DriverSpec& s, uint64_t seed);

}  // namespace hmmsim::sim
