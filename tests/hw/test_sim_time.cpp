// hw/sim_time.h: sc_time_of_ns gives sc_time(ns, SC_NS) exactly, at the
// default resolution, over the values the models pass it (latencies from
// fractions of a ns to seconds, and values that end in half a ps).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "hw/sim_time.h"

using hmmsim::hw::llround_exact;
using hmmsim::hw::ns_of;
using hmmsim::hw::sc_time_of_ps;
using hmmsim::hw::sc_time_of_ns;
using sc_core::sc_time;

TEST(SimTime, EqualsTheSystemCConstructor) {
  std::vector<double> v = {0.0, 1e-4, 0.0004, 0.0005, 0.0015, 0.0025, 1.0, 1.2345, 2.4995, 2.5005,
                           70.0, 1000.0 / 1400.0, 123456.7895, 1e6, 3.6e12};
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> small(0.0, 100.0), large(0.0, 1e10);
  for (int i = 0; i < 200000; ++i) v.push_back(i % 2 ? small(rng) : large(rng));
  for (int i = 0; i < 20000; ++i) v.push_back(double(i) / 2000.0);  // every half ps up to 10 ns
  for (double ns : v) ASSERT_EQ(sc_time_of_ns(ns).value(), sc_time(ns, sc_core::SC_NS).value()) << ns;
}

TEST(SimTime, NsOfEqualsToSecondsTimesAThousandMillion) {
  std::mt19937_64 rng(11);
  std::vector<uint64_t> ps = {0, 1, 2, 999, 1000, 1001, 123456789, uint64_t(1) << 40, uint64_t(1e16)};
  for (int i = 0; i < 200000; ++i) ps.push_back(rng() >> (i % 40 + 10));  // from hours down to a few ps
  for (uint64_t v : ps) {
    const sc_time t = sc_time::from_value(v);
    ASSERT_EQ(ns_of(t), t.to_seconds() * 1e9) << v;
  }
}

TEST(SimTime, LlroundExactEqualsLlround) {
  std::vector<double> v = {0.0, 0.5, 1.5, 2.5, -0.5, -1.5, 0.49999999999999994, -0.49999999999999994,
                           4503599627370495.5, 4503599627370497.0, 1e15 + 0.5, -1e15 - 0.5};
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> wide(-1e12, 1e12), small(-3.0, 3.0);
  for (int i = 0; i < 200000; ++i) v.push_back(i % 2 ? wide(rng) : small(rng));
  for (int i = -4000; i <= 4000; ++i) v.push_back(double(i) / 8.0);  // every eighth: halves included
  for (double x : v) ASSERT_EQ(llround_exact(x), std::llround(x)) << x;
}

TEST(SimTime, ScTimeOfPsEqualsFromValue) {
  std::mt19937_64 rng(5);
  std::vector<uint64_t> ps = {0, 1, (uint64_t(1) << 52) - 1, uint64_t(1) << 52, (uint64_t(1) << 53) - 1,
                              uint64_t(1) << 53, (uint64_t(1) << 53) + 1, uint64_t(1e16) + 1};
  for (int i = 0; i < 200000; ++i) ps.push_back(rng() >> (i % 50 + 8));
  for (uint64_t v : ps) ASSERT_EQ(sc_time_of_ps(v).value(), sc_time::from_value(v).value()) << v;
}
