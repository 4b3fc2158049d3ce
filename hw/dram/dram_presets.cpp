// Preset numbers. Sources (docs/vram.md has the table):
//   R2   Ramulator 2, CMU-SAFARI/ramulator2 python/ramulator/dram/{hbm2,hbm3,gddr6}.py
//   DS3  DRAMsim3, umd-memsys/DRAMsim3 configs/HBM2_8Gb_x128.ini
//   ACS  Accel-Sim, accel-sim/gpgpu-sim_distribution configs/tested-cfgs/{SM7_QV100,SM80_A100}/gpgpusim.config
//   peak vendor peak bandwidths (NVIDIA product figures as reproduced publicly)
// An HBM pseudo-channel is one channel here. "est." marks a value no source
// gives for that part; it is carried over from the nearest sourced device.
#include "hw/dram/dram_presets.h"


namespace hmmsim::hw {
namespace {

struct Cycles {
  double cl, rcd, rp, ras, ccd_s, ccd_l;
};
struct Ns {
  double rrd, faw, refi, rfc;
};

// `beats_per_ck`: data beats per pin in one tCK (HBM2 2, HBM3 4, GDDR6 8).
DramPreset make(const char* name, const char* gpu, uint32_t channels, uint32_t row_bytes, uint32_t bus_bits,
                double rate_gbps, uint32_t burst_length, double beats_per_ck, Cycles c, Ns n, double peak) {
  DramPreset p{name, DramSpec{}, bus_bits, rate_gbps, burst_length, peak, gpu};
  DramSpec& s = p.spec;
  s.channels = channels;
  s.bank_groups = 4;  // 4 groups x 4 banks: R2 hbm2/hbm3/gddr6 organisations
  s.banks_per_channel = 16;
  s.row_bytes = row_bytes;
  s.interleave_bytes = 256;
  s.mapping = DramMapping::RoBaCoChBg;  // bursts alternate bank groups: tCCD_S, not tCCD_L
  s.channel_gbps = bus_bits * rate_gbps / 8;
  s.burst_bytes = bus_bits * burst_length / 8;
  s.tck_ns = beats_per_ck / rate_gbps;
  s.t_cl_ns = c.cl * s.tck_ns;
  s.t_rcd_ns = c.rcd * s.tck_ns;
  s.t_rp_ns = c.rp * s.tck_ns;
  s.t_ras_ns = c.ras * s.tck_ns;
  s.t_ccd_s_ns = c.ccd_s * s.tck_ns;
  s.t_ccd_l_ns = c.ccd_l * s.tck_ns;
  s.t_rrd_ns = n.rrd;
  s.t_faw_ns = n.faw;
  s.t_refi_ns = n.refi;
  s.t_rfc_ns = n.rfc;
  s.latency_ns = s.t_rcd_ns + s.t_cl_ns;
  return p;
}

std::vector<DramPreset> build() {
  return {
      // V100: 4 stacks x 8 channels x 2 pseudo-channels of 64 bits = 4096 bits;
      // 1.7578 Gb/s makes the 900 GB/s peak (V100 HBM2 runs ~877 MHz DDR).
      // CL/tRCD/tRP 12, tRAS 28 ck: ACS SM7_QV100. tCCD_S/L 2/4 ck, tRRD 4 ns:
      // R2 hbm2.py. tFAW 30 ns, tREFI 3.9 us, tRFC 260 ns: DS3 HBM2_8Gb_x128.
      // Rows 1 KiB per pseudo-channel: R2 HBM2 org (32 columns x 32 B).
      make("hbm2", "V100 (HBM2, 4096-bit)", 64, 1024, 64, 900.0 * 8 / 4096, 4, 2, {12, 12, 12, 28, 2, 4},
           {4, 30, 3900, 260}, 900),
      // A100 80 GB: 5 stacks x 16 pseudo-channels of 64 bits = 5120 bits at
      // 3.186 Gb/s = 2039 GB/s. CL/tRCD/tRP 22, tRAS 50 ck: ACS SM80_A100.
      // tCCD, tRRD, tFAW: as HBM2 (est.). tRFC 350 ns: R2 hbm2.py for 8 Gb
      // per pseudo-channel (est. for HBM2e). 16 banks per pseudo-channel (est.).
      make("hbm2e", "A100 80GB SXM (HBM2e, 5120-bit)", 80, 1024, 64, 2039.0 * 8 / 5120, 4, 2,
           {22, 22, 22, 50, 2, 4}, {4, 30, 3900, 350}, 2039),
      // H100 SXM: 5 stacks x 16 channels x 2 pseudo-channels of 32 bits =
      // 5120 bits; 5.234 Gb/s makes 3.35 TB/s. HBM3 moves 4 beats per tCK
      // (R2 hbm3.py: 6400 Mbps at tCK 625 ps). CL/tRCD/tRP/tRAS: R2 hbm3.py's
      // 12.5/19.4/16.3/28.1 ns rounded up to whole cycles of this clock.
      // tCCD_S/L 2/4 ck, tRRD 5 ns, tFAW 15 ns, tREFI 3.9 us, tRFC 350 ns (4 Gb
      // per pseudo-channel): R2 hbm3.py. 16 banks per pseudo-channel (est.).
      make("hbm3", "H100 SXM 80GB (HBM3, 5120-bit)", 160, 1024, 32, 3350.0 * 8 / 5120, 8, 4,
           {17, 26, 22, 37, 2, 4}, {5, 15, 3900, 350}, 3350),
      // RTX 3090: 384 bits as 24 channels of 16 bits at 19.5 Gb/s = 936 GB/s;
      // 32 B per access (BL16 of GDDR6; GDDR6X PAM4 moves the same per access).
      // No public simulator models GDDR6X: timings are R2 gddr6.py's GDDR6
      // 14 Gb/s figures (CL 13.7, tRCD/tRP 15.4, tRAS 30.2 ns; nRFCab 315 ck =
      // 180 ns; tRRD 4 ns, tFAW 16 ns, tREFI 1.9 us) rounded up to cycles of
      // the 19.5 Gb/s clock (8 beats per tCK) -- all est. tCCD_L 3 ck (est.:
      // R2's GDDR6 tCCD_L/tCCD_S = 1.5). 2 KiB rows: GDDR6 x16 page.
      make("gddr6x", "RTX 3090 (GDDR6X, 384-bit)", 24, 2048, 16, 19.5, 16, 8, {34, 38, 38, 74, 2, 3},
           {4, 16, 1900, 180}, 936),
  };
}

}  // namespace

const std::vector<DramPreset>& dram_presets() {
  static const std::vector<DramPreset> presets = build();
  return presets;
}

const DramPreset* dram_preset(const std::string& name) {
  for (const auto& p : dram_presets())
    if (p.name == name) return &p;
  return nullptr;
}

const DramPreset& dram_default_preset() {
  static const DramPreset p{"", DramSpec{}, 128, 2.0, 0, 8 * 32.0, "default (HBM2-like, 8 x 128-bit channels)"};
  return p;
}

}  // namespace hmmsim::hw
