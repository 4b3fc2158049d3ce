#include "tlm_bridge/pcie_spec.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace hmmsim::bridge {

namespace {

bool pow2_in(uint64_t v, uint64_t lo, uint64_t hi) { return v >= lo && v <= hi && (v & (v - 1)) == 0; }

// Flit Mode: 236 of every 256 flit bytes are TLP bytes (PCIe 6.0 §4.2.3.4).
constexpr double kFlitTlpShare = 236.0 / 256.0;
// Non-Flit default: Ack and UpdateFC DLLPs, an estimate (docs/pcie.md).
constexpr double kNonFlitDllp = 0.03;

}  // namespace

const char* to_string(PcieEncoding e) {
  switch (e) {
    case PcieEncoding::Auto: return "auto";
    case PcieEncoding::E8b10b: return "8b10b";
    case PcieEncoding::E128b130b: return "128b130b";
    case PcieEncoding::Flit: return "flit";
  }
  return "?";
}

std::optional<PcieEncoding> parse_pcie_encoding(const std::string& s) {
  for (PcieEncoding e : {PcieEncoding::Auto, PcieEncoding::E8b10b, PcieEncoding::E128b130b, PcieEncoding::Flit})
    if (s == to_string(e)) return e;
  return std::nullopt;
}

std::optional<common::SpecError> PcieSpec::validate() const {
  if (gen < 1 || gen > 6) return common::SpecError{"gen", "must be 1..6"};
  if (!pow2_in(lanes, 1, 32)) return common::SpecError{"lanes", "must be a power of two (1, 2, 4, 8, 16, 32)"};
  if (!pow2_in(mps, 128, 4096))
    return common::SpecError{"max_payload", "must be a power of two between 128 and 4096"};
  if (!pow2_in(mrrs, 128, 4096))
    return common::SpecError{"max_read_request", "must be a power of two between 128 and 4096"};
  if (rcb != 64 && rcb != 128) return common::SpecError{"read_completion_boundary", "must be 64 or 128"};
  // Table 4-1: the line code follows the data rate; 64 GT/s is Flit Mode only.
  if (encoding == PcieEncoding::E8b10b && gen > 2)
    return common::SpecError{"encoding", "8b10b is the line code of Gen1-2 (2.5, 5 GT/s) only"};
  if (encoding == PcieEncoding::E128b130b && (gen < 3 || gen > 5))
    return common::SpecError{"encoding", "128b130b is the line code of Gen3-5 (8-32 GT/s) only"};
  if (tlp_overhead_bytes && *tlp_overhead_bytes > 64)
    return common::SpecError{"tlp_overhead", "must be auto or 0..64 bytes"};
  if (dllp_overhead && !(*dllp_overhead >= 0 && *dllp_overhead <= 0.5))
    return common::SpecError{"dllp_overhead", "must be auto or a fraction in [0, 0.5]"};
  if (!(latency_ns >= 0 && std::isfinite(latency_ns))) return common::SpecError{"latency", "must be >= 0"};
  return std::nullopt;
}

PcieEncoding PcieSpec::resolved_encoding() const {
  if (encoding != PcieEncoding::Auto) return encoding;
  return gen <= 2 ? PcieEncoding::E8b10b : gen <= 5 ? PcieEncoding::E128b130b : PcieEncoding::Flit;
}

double PcieSpec::gtps() const {
  static const double rate[] = {0, 2.5, 5.0, 8.0, 16.0, 32.0, 64.0};
  if (gen < 1 || gen > 6) throw std::invalid_argument("PCIe generation must be 1..6");
  return rate[gen];
}

double PcieSpec::signal_gbps() const { return gtps() * lanes / 8.0; }

double PcieSpec::encoding_efficiency() const {
  // The line code is fixed by the rate; Flit Mode at 64 GT/s is 1b/1b PAM4.
  const double line = gen <= 2 ? 8.0 / 10 : gen <= 5 ? 128.0 / 130 : 1.0;
  return flit() ? line * kFlitTlpShare : line;
}

double PcieSpec::raw_gbps() const { return signal_gbps() * encoding_efficiency(); }

double PcieSpec::dllp_fraction() const { return dllp_overhead.value_or(flit() ? 0.0 : kNonFlitDllp); }

uint32_t PcieSpec::tlp_overhead(TlpKind k) const {
  if (tlp_overhead_bytes) return *tlp_overhead_bytes;
  // 64-bit address requests: 4 DW; completions: 3 DW (also in Flit Mode,
  // where DW-aligned successful completions need no OHC).
  const uint32_t header = k == TlpKind::Completion ? 12 : 16;
  return flit() ? header : header + 8;
}

uint32_t PcieSpec::completion_bytes() const {
  return completion_split == CompletionSplit::Rcb ? rcb : std::min(mps, mrrs);
}

uint64_t tlp_count(uint64_t addr, uint64_t len, uint32_t max) {
  if (len == 0) return 1;
  return (addr + len - 1) / max - addr / max + 1;
}

namespace {

PcieRate rate_of(const PcieSpec& s, uint64_t bytes, uint64_t tlps, uint32_t overhead) {
  const double tlp = bytes ? double(bytes) / double(bytes + tlps * overhead) : 0.0;
  return {s.signal_gbps(), s.encoding_efficiency(), tlp, 1.0 - s.dllp_fraction()};
}

}  // namespace

PcieRate dma_write_rate(const PcieSpec& s, uint64_t bytes) {
  return rate_of(s, bytes, tlp_count(0, bytes, s.mps), s.tlp_overhead(TlpKind::MemWrite));
}

PcieRate dma_read_rate(const PcieSpec& s, uint64_t bytes) {
  return rate_of(s, bytes, tlp_count(0, bytes, s.completion_bytes()), s.tlp_overhead(TlpKind::Completion));
}

}  // namespace hmmsim::bridge
