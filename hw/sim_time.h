#pragma once
// Simulated time from ns on per-access paths. sc_time(ns, SC_NS) looks up
// the simulation context's resolution on every call (a few percent of a
// streaming run); at the kernel's default 1 ps resolution, which hmmsim
// never changes, its value is ns * 1000 + 0.5 rounded toward zero, and so
// is this one's (tests/hw/test_sim_time.cpp compares the two). ns_of is
// t.to_seconds() * 1e9 to the last bit, without the library call:
// to_seconds() is value * resolution in fs * 1e-15, in that order.
#include <cstdint>

#include <systemc>

namespace hmmsim::hw {

// (From one picosecond scaled: sc_time's operator*= is inline and rounds
// 1 * x + 0.5 toward zero, where from_value is a library call.)
inline sc_core::sc_time sc_time_of_ns(double ns) {
  static const sc_core::sc_time one_ps = sc_core::sc_time::from_value(1);
  return one_ps * (ns * 1000.0);
}

// std::llround (half away from zero), inline: x - trunc(x) is exact, so
// the comparison with one half decides as llround does. For finite x with
// |x| < 2^63 (beyond, the cast is undefined where llround's result is unspecified).
inline int64_t llround_exact(double x) {
  int64_t i = static_cast<int64_t>(x);
  const double frac = x - static_cast<double>(i);
  if (frac >= 0.5) ++i;
  if (frac <= -0.5) --i;
  return i;
}

// sc_time::from_value(ps) without the library call where the scaling is
// exact: below 2^52 ps (75 minutes of simulated time), where adding the
// operator's half stays exact.
inline sc_core::sc_time sc_time_of_ps(uint64_t ps) {
  static const sc_core::sc_time one_ps = sc_core::sc_time::from_value(1);
  return ps < (uint64_t(1) << 52) ? one_ps * static_cast<double>(ps) : sc_core::sc_time::from_value(ps);
}

inline double ns_of(const sc_core::sc_time& t) { return double(t.value()) * 1000.0 * 1e-15 * 1e9; }

}  // namespace hmmsim::hw
