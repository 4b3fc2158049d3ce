#pragma once
// Values with units in config files: parsing ("4KiB", "2 MiB", "45us",
// "0x1000", "yes") and printing them back in error messages.
#include <cstdint>
#include <string>

namespace hmmsim::sim::units {

// ambiguous: a decimal-looking byte unit (KB, MB, GB, ...), see parse_bytes.
enum class Parse { ok, bad, overflow, ambiguous };

Parse parse_unsigned(const std::string& s, uint64_t& out);  // decimal or 0x hex
Parse parse_signed(const std::string& s, int64_t& out);
bool parse_real(const std::string& s, double& out);
// Binary units: K = Ki = KiB = 1024, likewise M, G, T, P, E (case-insensitive;
// the single letters as in GNU coreutils and Linux's memparse). KB, MB, GB,
// TB, PB, EB are Parse::ambiguous: decimal by SI, binary by habit, refused.
Parse parse_bytes(const std::string& s, uint64_t& out);
// A bandwidth in GB/s (10^9 bytes per second). A plain number is GB/s;
// units (case matters: B is bytes, b bits): B/s, kB/s (or KB/s), MB/s, GB/s,
// TB/s (decimal), KiB/s, MiB/s, GiB/s, TiB/s (binary), kb/s, Mb/s, Gb/s,
// Tb/s (bits; also kbps, Mbps, Gbps, Tbps).
bool parse_bandwidth(const std::string& s, double& gbytes_per_s);
// A plain number is nanoseconds; ps, ns, us (or µs), ms, s.
bool parse_time(const std::string& s, double& ns);
bool parse_bool(const std::string& s, bool& out);  // true/false, yes/no, on/off
std::string trim(const std::string& s);          // without surrounding whitespace

std::string fmt_double(double v);  // shortest round-trip form
std::string fmt_bytes(uint64_t v);  // largest binary unit that divides exactly
std::string fmt_ns(double ns);

}  // namespace hmmsim::sim::units
