#pragma once
// Numbers for timeseries.csv, appended with std::to_chars: the standard
// defines its output with a precision as printf's ("%.3f", "%.12g"), and it
// skips printf's format parsing and locale (a long run writes 10^6 numbers;
// tests/sim/test_csv_number.cpp compares the two).
#include <charconv>
#include <string>

namespace hmmsim::sim {

// printf("%.{precision}f", v) or printf("%.{precision}g", v), appended to `out`.
inline void append_number(std::string& out, double v, std::chars_format fmt, int precision) {
  char buf[352];  // %.3f of the largest double: 309 digits, the point, 3 decimals, sign
  const auto r = std::to_chars(buf, buf + sizeof buf, v, fmt, precision);
  out.append(buf, r.ptr);
}

}  // namespace hmmsim::sim
