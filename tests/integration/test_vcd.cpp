// signals.vcd (run.vcd): chosen stats.json counters as VCD signals. The
// file parses as VCD, each signal ends at its stats.json value, times only
// grow, the same run gives the same file, and a bad name is a config error.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <sstream>

#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

struct Vcd {
  std::string timescale;
  std::map<std::string, std::string> names;  // id -> dotted name (scopes below "SystemC")
  std::map<std::string, uint64_t> last;      // dotted name -> last value
  std::map<std::string, size_t> changes;     // dotted name -> value changes after time 0
  bool times_grow = true;
  uint64_t last_time = 0;
};

Vcd parse_vcd(const std::string& text) {
  Vcd v;
  std::istringstream in(text);
  std::string tok;
  std::vector<std::string> scope;
  uint64_t now = 0;
  while (in >> tok) {
    if (tok == "$date" || tok == "$version" || tok == "$comment") {
      while (in >> tok && tok != "$end") {
      }
    } else if (tok == "$timescale") {
      std::string a, b;
      in >> a;
      if (a != "$end") in >> b;
      v.timescale = a + b;
      if (b != "$end") in >> tok;
    } else if (tok == "$scope") {
      std::string kind, name, end;
      in >> kind >> name >> end;
      scope.push_back(name);
    } else if (tok == "$upscope") {
      in >> tok;
      if (!scope.empty()) scope.pop_back();
    } else if (tok == "$var") {
      std::string type, width, id, name, rest;
      in >> type >> width >> id >> name;
      while (in >> rest && rest != "$end") {
      }
      std::string full;
      for (size_t i = 1; i < scope.size(); ++i) full += scope[i] + ".";  // scope[0] is "SystemC"
      v.names[id] = full + name;
    } else if (tok[0] == '#') {
      const uint64_t t = std::stoull(tok.substr(1));
      if (t < now) v.times_grow = false;
      now = t;
      v.last_time = t;
    } else if (tok[0] == 'b') {
      std::string id;
      in >> id;
      const std::string name = v.names.count(id) ? v.names[id] : "?" + id;
      v.last[name] = std::stoull(tok.substr(1), nullptr, 2);
      if (now > 0) ++v.changes[name];
    }
  }
  return v;
}

const char* kSignals = "[gpu.gmmu.faults,driver.batches,pcie.down.payload_bytes,vram_used_bytes]";

}  // namespace

TEST(Vcd, SignalsEndAtTheirStatsValues) {
  const std::string dir = fresh_dir("vcd");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set run.vcd.signals=" + kSignals +
                                 " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("signals.vcd"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("Info:"), std::string::npos) << "SystemC's notes stay off stdout: " << r.out;
  const Vcd v = parse_vcd(read_file(dir + "/signals.vcd"));
  const nlohmann::json s = read_stats(dir);
  EXPECT_EQ(v.timescale, "1ps");
  EXPECT_TRUE(v.times_grow);
  EXPECT_EQ(v.names.size(), 4u);
  for (const char* name : {"gpu.gmmu.faults", "driver.batches", "pcie.down.payload_bytes"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(v.last.count(name));
    EXPECT_EQ(double(v.last.at(name)), stat_value(s, name));
    EXPECT_GT(v.changes.count(name) ? v.changes.at(name) : 0, 0u);
  }
  // VRAM in use: page tables and the migrated pages, at most all of VRAM.
  ASSERT_TRUE(v.last.count("vram_used_bytes"));
  EXPECT_GT(v.last.at("vram_used_bytes"), 0u);
  const auto cfg = nlohmann::json::parse(read_file(dir + "/config.json"));
  EXPECT_LE(v.last.at("vram_used_bytes"), cfg["gpu"]["vram"]["capacity"].get<uint64_t>());
  // Sampled every 10 ns: no change lies after the run's end.
  EXPECT_LE(double(v.last_time) / 1000.0, stat_value(s, "sim.time_ns") + 10.0);
}

TEST(Vcd, TheRunsEndIsInTheFileWhateverThePeriod) {
  // Sampled every 10 ms, longer than the run: the values at its end come
  // from closing the file, at the run's end time.
  const std::string dir = fresh_dir("vcd_slow");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " -q --set run.vcd.period=10ms" +
                                 " --set run.vcd.signals=" + kSignals + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Vcd v = parse_vcd(read_file(dir + "/signals.vcd"));
  const nlohmann::json s = read_stats(dir);
  EXPECT_TRUE(v.times_grow);
  for (const char* name : {"gpu.gmmu.faults", "driver.batches", "pcie.down.payload_bytes"}) {
    SCOPED_TRACE(name);
    ASSERT_TRUE(v.last.count(name));
    EXPECT_EQ(double(v.last.at(name)), stat_value(s, name));
  }
  EXPECT_NEAR(double(v.last_time) / 1000.0, stat_value(s, "sim.time_ns"), 1.0);
}

TEST(Vcd, SameRunSameFileAndOffByDefault) {
  const std::string a = fresh_dir("vcd_a"), b = fresh_dir("vcd_b"), none = fresh_dir("vcd_none");
  const std::string run = "run " + source("configs/default.yaml") + " -q --set run.vcd.signals=" + kSignals;
  ASSERT_EQ(run_hmmsim(run + " --out " + a).exit_code, 0);
  ASSERT_EQ(run_hmmsim(run + " --out " + b).exit_code, 0);
  EXPECT_EQ(read_file(a + "/signals.vcd"), read_file(b + "/signals.vcd"));
  // The host's clock is not in it.
  EXPECT_EQ(read_file(a + "/signals.vcd").rfind("$date\n     (not recorded: the same run gives the same file)\n$end", 0),
            0u);
  ASSERT_EQ(run_hmmsim("run " + source("configs/default.yaml") + " -q --out " + none).exit_code, 0);
  EXPECT_FALSE(std::filesystem::exists(none + "/signals.vcd"));
}

TEST(Vcd, BadSignalsAreConfigErrors) {
  const std::string cfg = write_config("vcd_bad", "include: " + source("configs/default.yaml") +
                                                      "\nrun:\n  vcd:\n    signals: [gpu.gmmu.faults, gpu.nothing]\n");
  RunOutput r = run_hmmsim("run " + cfg + " -q --out " + fresh_dir("vcd_bad_out"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find(cfg + ":4: run.vcd.signals: no counter gpu.nothing"), std::string::npos) << r.out;
  r = run_hmmsim("run " + source("configs/default.yaml") + " -q --set run.vcd.signals=7 --out " +
                 fresh_dir("vcd_bad_out2"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("run.vcd.signals: a list of stats.json counters"), std::string::npos) << r.out;
  r = run_hmmsim("run " + source("configs/default.yaml") + " -q --set run.vcd.period=0 --out " +
                 fresh_dir("vcd_bad_out3"));
  EXPECT_EQ(r.exit_code, 2) << r.out;
  EXPECT_NE(r.out.find("run.vcd.period"), std::string::npos) << r.out;
}
