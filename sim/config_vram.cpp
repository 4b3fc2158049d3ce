// gpu.vram: device memory capacity and DRAM timing.
#include "sim/config_parts.h"

namespace hmmsim::sim {

void parse_vram(ConfigReader v, hw::VramSpec& s) {
  s.capacity_bytes = v.bytes("capacity", s.capacity_bytes, 1ull << 20, 64ull << 30);
  if (s.capacity_bytes % 4096) v.fail("capacity", "must be a multiple of 4 KiB");
  s.channels = static_cast<uint32_t>(v.u64("channels", s.channels, 1, 256));
  s.banks_per_channel = static_cast<uint32_t>(v.u64("banks_per_channel", s.banks_per_channel, 1, 1024));
  s.row_bytes = static_cast<uint32_t>(v.bytes("row_bytes", s.row_bytes, 64, 1 << 16));
  s.interleave_bytes = static_cast<uint32_t>(v.bytes("interleave_bytes", s.interleave_bytes, 32, 1 << 16));
  s.t_rcd_ns = v.time_ns("t_rcd", s.t_rcd_ns, 0, 1e4);
  s.t_cl_ns = v.time_ns("t_cl", s.t_cl_ns, 0, 1e4);
  s.t_rp_ns = v.time_ns("t_rp", s.t_rp_ns, 0, 1e4);
  s.channel_gbps = v.real("channel_bandwidth_gbps", s.channel_gbps, 0.1, 1e5);
  v.finish();
}

}  // namespace hmmsim::sim
