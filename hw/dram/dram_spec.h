#pragma once
// What a DRAM timing model is built from: organisation, address mapping,
// data bus and timings. Plain C++ (no SystemC). One Spec serves every
// implementation of IDramTiming; each reads the fields it needs.
//
// A timing field of 0 means "not modelled" (tRAS, tCCD, tRRD, tFAW,
// refresh), and burst_bytes 0 means transfers are byte-granular: together
// they give the simple open-row model the default configuration has always
// used. The presets (dram_presets.h) set all of them.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/registry.h"

namespace hmmsim::hw {

// How a physical address picks channel, bank and row; names list the fields
// from the most to the least significant, in units of interleave_bytes
// chunks (docs/vram.md draws each one).
enum class DramMapping {
  RoBaCoCh,    // ro_ba_co_ch: chunks rotate over channels; a channel fills a row, then the next bank
  RoCoBaCh,    // ro_co_ba_ch: chunks rotate over channels, then over banks, then columns
  RoBaChCo,    // ro_ba_ch_co: a row's chunks stay in one channel, then the next channel
  RoBaCoChBg,  // ro_ba_co_ch_bg: as ro_ba_co_ch, but a chunk's bursts rotate over the bank groups
};
const std::vector<std::string>& dram_mapping_names();  // in enum order
std::optional<DramMapping> dram_mapping_of(const std::string& name);
const char* dram_mapping_name(DramMapping m);

struct DramSpec {
  // Organisation (per channel; an HBM pseudo-channel counts as a channel).
  uint32_t channels = 8;
  uint32_t bank_groups = 1;
  uint32_t banks_per_channel = 16;  // all bank groups together
  uint32_t row_bytes = 2048;        // row (page) size of one bank
  uint32_t interleave_bytes = 256;  // mapping granularity: consecutive chunks go to the next channel
  DramMapping mapping = DramMapping::RoBaCoCh;
  // Data bus: GB/s == bytes per ns. The config derives it from bus width x
  // data rate when those are given.
  double channel_gbps = 32;  // 128-bit channel at 2 Gb/s/pin
  uint32_t burst_bytes = 0;  // bytes one column command moves (bus width x burst length); 0: byte-granular
  // Timings in ns (the config also takes them in tCK cycles).
  double tck_ns = 1;
  double t_rcd_ns = 14, t_cl_ns = 14, t_rp_ns = 14;  // HBM2: tCK 1 ns, CL/tRCD/tRP 14
  double t_ras_ns = 0;                   // ACT to PRE, same bank
  double t_ccd_s_ns = 0, t_ccd_l_ns = 0;  // column to column: other / same bank group
  double t_rrd_ns = 0, t_faw_ns = 0;      // ACT to ACT in a channel; any four ACTs
  double t_refi_ns = 0, t_rfc_ns = 0;     // all-bank refresh interval and duration
  // `fixed` implementation: every access takes this, plus its transfer.
  double latency_ns = 28;
};

// Peak bandwidth of all channels, GB/s.
inline double dram_peak_gbps(const DramSpec& s) { return s.channels * s.channel_gbps; }
// One burst's time on the data bus, ns (0 when byte-granular).
inline double dram_burst_ns(const DramSpec& s) { return s.burst_bytes / s.channel_gbps; }

// The first impossible setting, named by its config key ("row_bytes"), or
// nothing. Timing implementations refuse a Spec that fails this.
std::optional<common::SpecError> check_dram_spec(const DramSpec& s);

}  // namespace hmmsim::hw
