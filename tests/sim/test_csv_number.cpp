// append_number gives what snprintf gave for timeseries.csv ("%.3f" for the
// time, "%.12g" for the counters), byte for byte.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <vector>

#include "sim/csv_number.h"

using hmmsim::sim::append_number;

namespace {

std::string printf_of(const char* fmt, double v) {
  char buf[400];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

std::string chars_of(double v, std::chars_format f, int precision) {
  std::string s;
  append_number(s, v, f, precision);
  return s;
}

}  // namespace

TEST(CsvNumber, EqualsPrintf) {
  std::vector<double> v = {0.0, -0.0, 0.5, 0.0005, 0.0015, 0.0025, 1.0005, 2.5, 1e12, 123456789012.5,
                           1234567890123.0, 1e-5, 9.9999999999995e11, 4096.0, 65536.0, 1e300,
                           std::numeric_limits<double>::max(), std::numeric_limits<double>::denorm_min(),
                           -1.5, -12345.678};
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> times(0.0, 1e13), small(0.0, 1e4);
  for (int i = 0; i < 200000; ++i) {
    v.push_back(i % 2 ? times(rng) : small(rng));
    v.push_back(double(rng() % 100000000));             // counters and their deltas
    v.push_back(double(rng() % 2000000) / 1000.0 / 2);  // ends in half a thousandth
  }
  for (double x : v) {
    ASSERT_EQ(chars_of(x, std::chars_format::fixed, 3), printf_of("%.3f", x)) << x;
    ASSERT_EQ(chars_of(x, std::chars_format::general, 12), printf_of("%.12g", x)) << x;
  }
}
