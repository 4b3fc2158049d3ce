// Tests for sim/stats: nested JSON from dotted paths, live counters, number
// formatting, derived values, the flat text dump and get().
#include "sim/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace hmmsim::sim {
namespace {

TEST(StatsTest, EmptyDumpsAsEmptyObject) {
  Stats s;
  EXPECT_TRUE(s.to_json().is_object());
  EXPECT_EQ(s.to_json().dump(), "{}");
  EXPECT_EQ(s.to_text(), "");
}

TEST(StatsTest, DottedPathsNestExactly) {
  uint64_t loads0 = 5, stores0 = 6, loads1 = 7, faults = 8, top = 9;
  double ratio = 0.25;
  Stats s;
  s.counter("gpu.sm0.loads", &loads0, "loads of SM 0");
  s.counter("gpu.sm1.loads", &loads1, "loads of SM 1");
  s.counter("host.driver.faults", &faults, "faults serviced");
  s.counter("gpu.sm0.stores", &stores0, "stores of SM 0");
  s.value("gpu.hit_ratio", &ratio, "TLB hit ratio");
  s.counter("top", &top, "a root-level stat");
  EXPECT_EQ(s.to_json().dump(),
            R"({"gpu":{"hit_ratio":0.25,"sm0":{"loads":5,"stores":6},"sm1":{"loads":7}},)"
            R"("host":{"driver":{"faults":8}},"top":9})");
  EXPECT_EQ(s.to_json(), nlohmann::json::parse(R"({
    "gpu": {"hit_ratio": 0.25, "sm0": {"loads": 5, "stores": 6}, "sm1": {"loads": 7}},
    "host": {"driver": {"faults": 8}},
    "top": 9
  })"));
}

TEST(StatsTest, CountersAndValuesAreReadAtDumpTime) {
  uint64_t n = 0;
  double busy = 0;
  Stats s;
  s.counter("a.n", &n, "count");
  s.value("a.busy_ns", &busy, "busy time");
  // Bumped after registration: the dump must see the new values.
  n += 41;
  ++n;
  busy = 12.5;
  EXPECT_EQ(s.to_json()["a"]["n"], 42);
  EXPECT_EQ(s.to_json()["a"]["busy_ns"], 12.5);
  EXPECT_DOUBLE_EQ(s.get("a.n"), 42.0);
  EXPECT_DOUBLE_EQ(s.get("a.busy_ns"), 12.5);
  n = 7;
  busy = 3;
  EXPECT_EQ(s.to_json().dump(), R"({"a":{"busy_ns":3,"n":7}})");
  EXPECT_EQ(s.to_text(), "a.busy_ns = 3  # busy time\na.n = 7  # count\n");
}

TEST(StatsTest, LargeCountersKeepEveryBit) {
  uint64_t big = std::numeric_limits<uint64_t>::max();
  Stats s;
  s.counter("big", &big, "max");
  EXPECT_EQ(s.to_json().dump(), R"({"big":18446744073709551615})");
  EXPECT_TRUE(s.to_json()["big"].is_number_unsigned());
}

TEST(StatsTest, IntegralDoublesPrintAsIntegers) {
  double three = 3.0, neg = -2.0, zero = 0.0;
  Stats s;
  s.value("three", &three, "");
  s.value("neg", &neg, "");
  s.value("zero", &zero, "");
  const nlohmann::json j = s.to_json();
  EXPECT_TRUE(j["three"].is_number_integer());
  EXPECT_FALSE(j["three"].is_number_float());
  EXPECT_TRUE(j["neg"].is_number_integer());
  EXPECT_EQ(j.dump(), R"({"neg":-2,"three":3,"zero":0})");
}

// Values are written sensibly rounded (issue 9): ns to the ps (three
// decimals) from 1 up, 9 significant digits below 1; never binary noise.
TEST(StatsTest, DoublesAreRoundedSensibly) {
  double x = 0.1234567891, y = 1.0 / 3.0, z = 2.5e-7, t = 62195.531999999905, big = 1234567.0004999, whole = 16896.0;
  Stats s;
  s.value("x", &x, "");
  s.value("y", &y, "");
  s.value("z", &z, "");
  s.value("t", &t, "");
  s.value("big", &big, "");
  s.value("whole", &whole, "");
  const nlohmann::json j = s.to_json();
  ASSERT_TRUE(j["x"].is_number_float());
  EXPECT_EQ(j["x"].dump(), "0.123456789");
  EXPECT_EQ(j["y"].dump(), "0.333333333");
  EXPECT_EQ(j["z"].get<double>(), 2.5e-7);
  EXPECT_EQ(j["t"].dump(), "62195.532");
  EXPECT_EQ(j["big"].dump(), "1234567");  // rounds to a whole number: written as an integer
  EXPECT_TRUE(j["whole"].is_number_integer());
  EXPECT_EQ(Stats::tidy(-3.14159), -3.142);
  EXPECT_EQ(Stats::tidy(0.0), 0.0);
  // The text dump says the same.
  EXPECT_NE(s.to_text().find("t = 62195.532  # \n"), std::string::npos) << s.to_text();
}

TEST(StatsTest, NonFiniteValuesAreNull) {
  double nan = std::nan(""), inf = std::numeric_limits<double>::infinity(), ninf = -inf;
  Stats s;
  s.value("nan", &nan, "not a number");
  s.value("inf", &inf, "");
  s.value("ninf", &ninf, "");
  s.derived("ratio", [] { return 0.0 / std::numeric_limits<double>::quiet_NaN(); }, "0/0");
  const nlohmann::json j = s.to_json();
  EXPECT_TRUE(j["nan"].is_null());
  EXPECT_TRUE(j["inf"].is_null());
  EXPECT_TRUE(j["ninf"].is_null());
  EXPECT_TRUE(j["ratio"].is_null());
  EXPECT_EQ(j.dump(), R"({"inf":null,"nan":null,"ninf":null,"ratio":null})");
  EXPECT_NE(s.to_text().find("nan = null  # not a number\n"), std::string::npos) << s.to_text();
  EXPECT_TRUE(std::isnan(s.get("nan")));  // get() returns the raw value
}

TEST(StatsTest, DerivedValuesAreComputedAtDumpTime) {
  uint64_t hits = 0, misses = 0;
  int calls = 0;
  Stats s;
  s.counter("tlb.hits", &hits, "hits");
  s.counter("tlb.misses", &misses, "misses");
  s.derived("tlb.total", [&] { ++calls; return double(hits + misses); }, "hits + misses");
  s.derived("tlb.hit_rate", [&] { return hits + misses ? double(hits) / double(hits + misses) : 0.0; },
            "hits / accesses");
  EXPECT_EQ(calls, 0);  // not evaluated at registration
  hits = 3;
  misses = 1;
  nlohmann::json j = s.to_json();
  EXPECT_EQ(j["tlb"]["total"], 4);
  EXPECT_TRUE(j["tlb"]["total"].is_number_integer());
  EXPECT_EQ(j["tlb"]["hit_rate"].get<double>(), 0.75);
  EXPECT_DOUBLE_EQ(s.get("tlb.total"), 4.0);
  hits = 7;
  misses = 2;
  EXPECT_EQ(s.to_json()["tlb"]["total"], 9);
  EXPECT_EQ(s.to_json()["tlb"]["hit_rate"].get<double>(), Stats::tidy(7.0 / 9.0));
  EXPECT_DOUBLE_EQ(s.get("tlb.hit_rate"), 7.0 / 9.0);
  EXPECT_GE(calls, 3);
}

TEST(StatsTest, TextIsSortedByPathWithDescriptions) {
  uint64_t bx = 1, ay = 2;
  double az = 0.5, nan = std::nan("");
  Stats s;
  s.counter("b.x", &bx, "the x of b");
  s.value("a.z", &az, "the z of a");
  s.counter("a.y", &ay, "the y of a");
  s.derived("a.d", [] { return 1.25; }, "derived");
  s.value("c", &nan, "undefined");
  EXPECT_EQ(s.to_text(),
            "a.d = 1.25  # derived\n"
            "a.y = 2  # the y of a\n"
            "a.z = 0.5  # the z of a\n"
            "b.x = 1  # the x of b\n"
            "c = null  # undefined\n");
}

TEST(StatsTest, GetReadsEveryKindAndThrowsOnUnknownPath) {
  uint64_t u = 12;
  double d = 0.125;
  Stats s;
  s.counter("x.u", &u, "");
  s.value("x.d", &d, "");
  s.derived("x.f", [] { return -1.5; }, "");
  EXPECT_DOUBLE_EQ(s.get("x.u"), 12.0);
  EXPECT_DOUBLE_EQ(s.get("x.d"), 0.125);
  EXPECT_DOUBLE_EQ(s.get("x.f"), -1.5);
  EXPECT_THROW(s.get("x.missing"), std::out_of_range);
  EXPECT_THROW(s.get("x"), std::out_of_range);  // an inner node is not a stat
  EXPECT_THROW(s.get("u"), std::out_of_range);  // no suffix matching
  EXPECT_THROW(s.get(""), std::out_of_range);
  try {
    s.get("nope.stat");
    ADD_FAILURE() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    EXPECT_NE(std::string(e.what()).find("nope.stat"), std::string::npos) << e.what();
  }
  EXPECT_THROW(Stats().get("x.u"), std::out_of_range);
}

TEST(StatsTest, UnitsFollowFromNames) {
  EXPECT_EQ(Stats::unit_of("gpu.gmmu.fault_latency_ns.p99"), "ns");
  EXPECT_EQ(Stats::unit_of("gpu.gmmu.fault_latency_ns.count"), "samples");
  EXPECT_EQ(Stats::unit_of("driver.batch.stage_ns.fetch"), "ns");
  EXPECT_EQ(Stats::unit_of("driver.batch.stage.fetch.p50"), "ns");
  EXPECT_EQ(Stats::unit_of("driver.batch.faults.mean"), "count");
  EXPECT_EQ(Stats::unit_of("driver.batch.faults.count"), "samples");
  EXPECT_EQ(Stats::unit_of("driver.migration_pages.p90"), "pages");
  EXPECT_EQ(Stats::unit_of("pcie.down.payload_bytes"), "bytes");
  EXPECT_EQ(Stats::unit_of("driver.pages_to_vram"), "pages");
  EXPECT_EQ(Stats::unit_of("pcie.up.utilisation"), "fraction");
  EXPECT_EQ(Stats::unit_of("kernels.k0.ipc"), "warp instructions per cycle");
  EXPECT_EQ(Stats::unit_of("gpu.cycles"), "cycles");
  EXPECT_EQ(Stats::unit_of("kernels.k0.finished"), "flag");
  EXPECT_EQ(Stats::unit_of("gpu.gmmu.faults"), "count");
  uint64_t n = 1;
  double t = 2;
  Stats s;
  s.counter("a.faults", &n, "faults");
  s.value("a.busy_ns", &t, "busy");
  EXPECT_EQ(s.units(), nlohmann::json::parse(R"({"a.faults": "count", "a.busy_ns": "ns"})"));
}

}  // namespace
}  // namespace hmmsim::sim
