// gpu.vram: device memory capacity and DRAM timing. A `preset` seeds every
// DRAM field; each key written next to it overrides that field. Timings
// take a time ("14ns") or tCK cycles ("14ck").
#include <cstdlib>

#include "hw/dram/dram_presets.h"
#include "sim/config_parts.h"

namespace hmmsim::sim {
namespace {

// A timing key: "<n>ck" is n cycles of tck, anything else a time.
double timing(ConfigReader& v, const std::string& key, double def, double tck_ns) {
  if (!v.has(key)) return v.time_ns(key, def, 0, 1e6);  // marks it asked
  const std::string raw = v.str(key, "");
  if (raw.size() > 2 && raw.compare(raw.size() - 2, 2, "ck") == 0) {
    char* end = nullptr;
    const std::string n = raw.substr(0, raw.size() - 2);
    const double cycles = std::strtod(n.c_str(), &end);
    if (end != n.c_str() + n.size() || !(cycles >= 0) || cycles > 1e6)
      v.fail(key, "expected a cycle count such as 14ck, got '" + raw + "'");
    return cycles * tck_ns;
  }
  return v.time_ns(key, def, 0, 1e6);
}

}  // namespace

void parse_vram(ConfigReader v, hw::VramSpec& s) {
  s.capacity_bytes = v.bytes("capacity", s.capacity_bytes, 1ull << 20, 64ull << 30);
  if (s.capacity_bytes % 4096) v.fail("capacity", "must be a multiple of 4 KiB");

  std::vector<std::string> presets = {"none"};
  for (const auto& p : hw::dram_presets()) presets.push_back(p.name);
  const std::string preset_name = v.choice("preset", "none", presets);
  const hw::DramPreset& preset =
      preset_name == "none" ? hw::dram_default_preset() : *hw::dram_preset(preset_name);
  if (preset_name != "none") static_cast<hw::DramSpec&>(s) = preset.spec;

  s.impl = v.impl("impl", s.impl, hw::dram_timing_registry().names());

  s.channels = static_cast<uint32_t>(v.u64("channels", s.channels, 1, 4096));
  s.bank_groups = static_cast<uint32_t>(v.u64("bank_groups", s.bank_groups, 1, 64));
  s.banks_per_channel = static_cast<uint32_t>(v.u64("banks_per_channel", s.banks_per_channel, 1, 1024));
  s.row_bytes = static_cast<uint32_t>(v.bytes("row_bytes", s.row_bytes, 64, 1 << 16));
  s.interleave_bytes = static_cast<uint32_t>(v.bytes("interleave_bytes", s.interleave_bytes, 32, 1 << 16));
  const std::string mapping = v.choice("mapping", hw::dram_mapping_name(s.mapping), hw::dram_mapping_names());
  s.mapping = *hw::dram_mapping_of(mapping);

  // Bandwidth: given per channel, or from bus width x data rate.
  const bool by_bus = v.has("bus_bits") || v.has("data_rate_gbps");
  const uint32_t bus_bits = static_cast<uint32_t>(v.u64("bus_bits", preset.bus_bits, 8, 8192));
  const double rate = v.real("data_rate_gbps", preset.data_rate_gbps, 0.01, 1000);
  if (by_bus && v.has("channel_bandwidth_gbps"))
    v.fail("channel_bandwidth_gbps", "give either channel_bandwidth_gbps or bus_bits/data_rate_gbps, not both");
  if (by_bus) s.channel_gbps = bus_bits * rate / 8;
  s.channel_gbps = v.bandwidth("channel_bandwidth_gbps", s.channel_gbps, 0.1, 1e5);
  const uint32_t burst_length = static_cast<uint32_t>(v.u64("burst_length", preset.burst_length, 0, 64));
  if (v.has("burst_length") || v.has("bus_bits")) s.burst_bytes = bus_bits * burst_length / 8;
  if ((bus_bits * burst_length) % 8) v.fail("burst_length", "bus_bits x burst_length must be whole bytes");
  // Whether these are given decides how bandwidth and burst are derived.
  for (const char* k : {"bus_bits", "data_rate_gbps", "channel_bandwidth_gbps", "burst_length"}) v.keep_as_written(k);

  s.tck_ns = v.time_ns("tck", s.tck_ns, 1e-3, 100);
  s.t_cl_ns = timing(v, "t_cl", s.t_cl_ns, s.tck_ns);
  s.t_rcd_ns = timing(v, "t_rcd", s.t_rcd_ns, s.tck_ns);
  s.t_rp_ns = timing(v, "t_rp", s.t_rp_ns, s.tck_ns);
  s.t_ras_ns = timing(v, "t_ras", s.t_ras_ns, s.tck_ns);
  s.t_ccd_s_ns = timing(v, "t_ccd_s", s.t_ccd_s_ns, s.tck_ns);
  s.t_ccd_l_ns = timing(v, "t_ccd_l", s.t_ccd_l_ns, s.tck_ns);
  s.t_rrd_ns = timing(v, "t_rrd", s.t_rrd_ns, s.tck_ns);
  s.t_faw_ns = timing(v, "t_faw", s.t_faw_ns, s.tck_ns);
  s.t_refi_ns = timing(v, "t_refi", s.t_refi_ns, s.tck_ns);
  s.t_rfc_ns = timing(v, "t_rfc", s.t_rfc_ns, s.tck_ns);
  // Only the fixed model has a flat latency; it defaults to a row miss.
  if (s.impl == "fixed") s.latency_ns = v.time_ns("latency", s.t_rcd_ns + s.t_cl_ns, 0, 1e6);

  v.check(hw::check_dram_spec(s));
  v.finish();
}

}  // namespace hmmsim::sim
