#include "hw/dram/dram_spec.h"

#include <cmath>
#include <cstdio>

namespace hmmsim::hw {

const std::vector<std::string>& dram_mapping_names() {
  static const std::vector<std::string> names = {"ro_ba_co_ch", "ro_co_ba_ch", "ro_ba_ch_co", "ro_ba_co_ch_bg"};
  return names;
}

std::optional<DramMapping> dram_mapping_of(const std::string& name) {
  const auto& n = dram_mapping_names();
  for (size_t i = 0; i < n.size(); ++i)
    if (n[i] == name) return static_cast<DramMapping>(i);
  return std::nullopt;
}

const char* dram_mapping_name(DramMapping m) { return dram_mapping_names().at(size_t(m)).c_str(); }

namespace {

std::string num(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.4g", v);
  return b;
}

std::optional<common::SpecError> bad(const char* key, std::string msg) {
  return common::SpecError{key, std::move(msg)};
}

}  // namespace

std::optional<common::SpecError> check_dram_spec(const DramSpec& s) {
  if (s.channels == 0) return bad("channels", "must be at least 1");
  if (s.bank_groups == 0) return bad("bank_groups", "must be at least 1");
  if (s.banks_per_channel == 0 || s.banks_per_channel % s.bank_groups)
    return bad("banks_per_channel", "must be a non-zero multiple of bank_groups (" + std::to_string(s.bank_groups) + ")");
  if (s.interleave_bytes == 0) return bad("interleave_bytes", "must be at least 1");
  // A chunk must sit inside one row, or one access would need two rows.
  if (s.row_bytes == 0 || s.row_bytes % s.interleave_bytes)
    return bad("row_bytes", "must be a multiple of interleave_bytes (" + std::to_string(s.interleave_bytes) + ")");
  if (!(s.channel_gbps > 0) || !std::isfinite(s.channel_gbps))
    return bad("channel_bandwidth_gbps", "must be a positive number");
  if (s.burst_bytes) {
    if (s.row_bytes % s.burst_bytes)
      return bad("row_bytes", "must be a multiple of the burst (" + std::to_string(s.burst_bytes) + " B)");
    if (s.interleave_bytes % s.burst_bytes)
      return bad("interleave_bytes", "must be a multiple of the burst (" + std::to_string(s.burst_bytes) + " B)");
  }
  if (s.mapping == DramMapping::RoBaCoChBg) {
    if (!s.burst_bytes) return bad("mapping", "ro_ba_co_ch_bg rotates bursts: it needs burst_length");
    if (s.interleave_bytes % (s.burst_bytes * s.bank_groups))
      return bad("interleave_bytes", "ro_ba_co_ch_bg needs one burst per bank group in a chunk: a multiple of " +
                                         std::to_string(s.burst_bytes * s.bank_groups) + " B");
  }
  const struct {
    const char* key;
    double v;
  } times[] = {{"tck", s.tck_ns},       {"t_rcd", s.t_rcd_ns},     {"t_cl", s.t_cl_ns},     {"t_rp", s.t_rp_ns},
               {"t_ras", s.t_ras_ns},   {"t_ccd_s", s.t_ccd_s_ns}, {"t_ccd_l", s.t_ccd_l_ns}, {"t_rrd", s.t_rrd_ns},
               {"t_faw", s.t_faw_ns},   {"t_refi", s.t_refi_ns},   {"t_rfc", s.t_rfc_ns},   {"latency", s.latency_ns}};
  for (const auto& t : times)
    if (!(t.v >= 0) || !std::isfinite(t.v)) return bad(t.key, "must be a non-negative time");
  if (!(s.tck_ns > 0)) return bad("tck", "must be positive");
  if (s.t_ras_ns > 0 && s.t_ras_ns < s.t_rcd_ns)
    return bad("t_ras", "(" + num(s.t_ras_ns) + " ns) is shorter than t_rcd (" + num(s.t_rcd_ns) +
                            " ns): a row would close before it could be read");
  if (s.t_ccd_l_ns < s.t_ccd_s_ns) return bad("t_ccd_l", "must not be shorter than t_ccd_s");
  // Column commands faster than the bus can carry their bursts mean the
  // clock, data rate and burst length disagree.
  const double burst = dram_burst_ns(s);
  if (s.burst_bytes && s.t_ccd_s_ns > 0 && s.t_ccd_s_ns < burst * (1 - 1e-9))
    return bad("t_ccd_s", "(" + num(s.t_ccd_s_ns) + " ns) is shorter than one burst on the data bus (" + num(burst) +
                              " ns = burst / channel bandwidth): check tck, data_rate_gbps and burst_length");
  if ((s.t_refi_ns > 0) != (s.t_rfc_ns > 0)) return bad("t_rfc", "give both t_refi and t_rfc, or neither");
  if (s.t_refi_ns > 0 && s.t_rfc_ns >= s.t_refi_ns)
    return bad("t_rfc", "(" + num(s.t_rfc_ns) + " ns) must be shorter than t_refi (" + num(s.t_refi_ns) +
                            " ns): refresh would leave no time for data");
  return std::nullopt;
}

}  // namespace hmmsim::hw
