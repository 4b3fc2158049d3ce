#pragma once
// What a PCIe link is (generation, width, payload sizes, line code) and the
// arithmetic of its bandwidth, without SystemC: PcieLink charges its
// directions with these figures, and the analytical rates below (the
// formula of docs/pcie.md) are what tests hold the simulated link to.
//
// Sources: PCI Express Base Specification 6.0 (PCI-SIG, 2022): Table 4-1
// (line code per data rate; Flit Mode at every rate), §4.2.3.4 (a 256-byte
// flit = 236 TLP bytes + 6 DLP + 8 CRC + 6 ECC; DLLP content rides in the
// DLP bytes), Table 2-5 (Flit Mode header base: 4 DW for 64-bit MRd/MWr,
// 3 DW for CplD), §2.2.9.2 (no OHC-A5 on successful DW-aligned
// completions); Non-Flit framing per TLP: STP + sequence number 4 B, LCRC
// 4 B (Neugebauer et al., SIGCOMM'18, model/pcie.py of pcie-bench/pcie-model).
#include <cstdint>
#include <optional>
#include <string>

#include "common/registry.h"

namespace hmmsim::bridge {

// Line code / data stream mode. Auto: 8b/10b at 2.5 and 5 GT/s, 128b/130b at
// 8-32 GT/s, Flit Mode (1b/1b PAM4) at 64 GT/s. Flit over 8b/10b or
// 128b/130b is what a PCIe 6.x port negotiates at the lower rates.
enum class PcieEncoding : uint8_t { Auto, E8b10b, E128b130b, Flit };
// How a completer splits read data: completions of up to min(mps, mrrs)
// bytes, or one completion per read completion boundary (RCB), as some root
// complexes do (pcie-bench/pcie-model, model/mem_bw.py: "observed on several
// older chipsets").
enum class CompletionSplit : uint8_t { MaxPayload, Rcb };
// TLP kinds whose headers differ (64-bit addresses, no ECRC, no prefixes).
enum class TlpKind : uint8_t { MemWrite, MemRead, Completion };

const char* to_string(PcieEncoding e);
std::optional<PcieEncoding> parse_pcie_encoding(const std::string& s);

struct PcieSpec {
  uint32_t gen = 4;     // 1..6
  uint32_t lanes = 16;  // 1, 2, 4, 8, 16, 32
  uint32_t mps = 256;   // max payload size, bytes (power of two, 128..4096)
  uint32_t mrrs = 512;  // max read request size, bytes (power of two, 128..4096)
  PcieEncoding encoding = PcieEncoding::Auto;
  CompletionSplit completion_split = CompletionSplit::MaxPayload;
  uint32_t rcb = 64;  // read completion boundary, bytes (64 or 128)
  // Bytes every TLP carries besides its payload; unset: header of its kind
  // plus the framing of the data stream mode (tlp_overhead()).
  std::optional<uint32_t> tlp_overhead_bytes;
  // Share of link time taken by DLLPs (Ack, UpdateFC); unset: 0.03 in
  // Non-Flit Mode (estimate), 0 in Flit Mode (they ride in the DLP bytes).
  std::optional<double> dllp_overhead;
  double latency_ns = 350;  // one-way flight + PHY/controller pipeline

  // The first invalid field, named by its config key.
  std::optional<common::SpecError> validate() const;

  // Encoding after Auto is resolved by generation.
  PcieEncoding resolved_encoding() const;
  bool flit() const { return resolved_encoding() == PcieEncoding::Flit; }
  // Transfer rate per lane, GT/s. Throws std::invalid_argument for gen
  // outside 1..6.
  double gtps() const;
  // Bytes/ns per direction on the wire before any coding: GT/s x lanes / 8.
  double signal_gbps() const;
  // Share of wire bytes that are TLP bytes: 8/10, 128/130, or the line code
  // x 236/256 in Flit Mode (1b/1b at 64 GT/s).
  double encoding_efficiency() const;
  // TLP bytes per ns per direction: signal_gbps() x encoding_efficiency().
  double raw_gbps() const;
  double dllp_fraction() const;
  // The rate TLP bytes (header, framing, payload) move at: raw x (1 - DLLP).
  double tlp_gbps() const { return raw_gbps() * (1.0 - dllp_fraction()); }
  // Per-TLP bytes besides payload. Non-Flit: header (MWr/MRd 16 B with a
  // 64-bit address, CplD 12 B) + 8 B of framing (128b/130b: STP token with
  // the sequence number 4, LCRC 4; 8b/10b: STP 1, sequence 2, LCRC 4,
  // END 1). Flit Mode: the header only.
  uint32_t tlp_overhead(TlpKind k) const;
  // Data bytes per completion: min(mps, mrrs), or rcb when split at RCB.
  uint32_t completion_bytes() const;
};

// TLPs covering [addr, addr + len) when each may not cross a `max`-aligned
// boundary (max a power of two); 1 for len 0.
uint64_t tlp_count(uint64_t addr, uint64_t len, uint32_t max);

// Effective DMA bandwidth of a transfer, as factors of the formula
//   signal x encoding x payload/(payload + TLP overhead) x (1 - DLLP).
struct PcieRate {
  double signal_gbps;  // GT/s x lanes / 8
  double encoding;     // encoding_efficiency()
  double tlp;          // payload share of the TLP bytes
  double dllp;         // 1 - dllp_fraction()
  double gbps() const { return signal_gbps * encoding * tlp * dllp; }
};
// Posted writes of `bytes` from an mps-aligned address: mps-sized MWr TLPs.
PcieRate dma_write_rate(const PcieSpec& s, uint64_t bytes);
// Reads of `bytes`, on the direction carrying the completions (the
// requests, mrrs each, go the other way and are not the bottleneck).
PcieRate dma_read_rate(const PcieSpec& s, uint64_t bytes);

}  // namespace hmmsim::bridge
