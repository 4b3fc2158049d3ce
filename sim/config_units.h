#pragma once
// Values with units in config files: parsing ("4KiB", "2 MiB", "45us",
// "0x1000", "yes") and printing them back in error messages.
#include <cstdint>
#include <string>

namespace hmmsim::sim::units {

enum class Parse { ok, bad, overflow };

Parse parse_unsigned(const std::string& s, uint64_t& out);  // decimal or 0x hex
Parse parse_signed(const std::string& s, int64_t& out);
bool parse_real(const std::string& s, double& out);
// Every unit is binary: K = Ki = KB = KiB = 1024, likewise M, G, T, P, E.
Parse parse_bytes(const std::string& s, uint64_t& out);
// A plain number is nanoseconds; ps, ns, us (or µs), ms, s.
bool parse_time(const std::string& s, double& ns);
bool parse_bool(const std::string& s, bool& out);  // true/false, yes/no, on/off
std::string trim(const std::string& s);          // without surrounding whitespace

std::string fmt_double(double v);  // shortest round-trip form
std::string fmt_bytes(uint64_t v);  // largest binary unit that divides exactly
std::string fmt_ns(double ns);

}  // namespace hmmsim::sim::units
