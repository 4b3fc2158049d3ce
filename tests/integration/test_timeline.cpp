// timeline.json of whole runs: valid trace-event JSON (the checker in
// tests/common/trace_event_format.h), and its events are the run's events:
// their counts and sums equal the totals in stats.json.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>

#include "run_hmmsim.h"
#include "tests/common/trace_event_format.h"

using namespace hmmsim::testing;
using nlohmann::json;

namespace {

struct Timeline {
  json doc;
  std::map<std::pair<int, int>, std::string> rows;  // (pid, tid) -> row name
  // Row name without its " (2)" suffix: the component's track.
  std::string track(const json& e) const {
    const std::string& n = rows.at({e["pid"].get<int>(), e["tid"].get<int>()});
    const auto p = n.rfind(" (");
    const bool numbered = p != std::string::npos && n.back() == ')' &&
                          n.find_first_not_of("0123456789", p + 2) == n.size() - 1;
    return numbered ? n.substr(0, p) : n;
  }
  // Complete events whose track starts with `track_prefix` and name with `name_prefix`.
  std::vector<json> slices(const std::string& track_prefix, const std::string& name_prefix = "") const {
    std::vector<json> v;
    for (const auto& e : doc["traceEvents"])
      if (e["ph"] == "X" && track(e).rfind(track_prefix, 0) == 0 &&
          e["name"].get<std::string>().rfind(name_prefix, 0) == 0)
        v.push_back(e);
    return v;
  }
  size_t count(const std::string& ph) const {
    size_t n = 0;
    for (const auto& e : doc["traceEvents"]) n += e["ph"] == ph;
    return n;
  }
};

Timeline load(const std::string& dir) {
  Timeline t;
  t.doc = json::parse(read_file(dir + "/timeline.json"));
  for (const auto& e : t.doc["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") t.rows[{e["pid"], e["tid"]}] = e["args"]["name"];
  return t;
}

double sum_arg(const std::vector<json>& v, const char* key) {
  double s = 0;
  for (const auto& e : v) s += e["args"][key].get<double>();
  return s;
}

double sum_dur_ns(const std::vector<json>& v) {
  double s = 0;
  for (const auto& e : v) s += e["dur"].get<double>() * 1000.0;
  return s;
}

}  // namespace

TEST(Timeline, DefaultRunIsValidAndMatchesItsStats) {
  const std::string dir = fresh_dir("timeline_default");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_NE(r.out.find("timeline.json"), std::string::npos) << r.out;
  const json s = read_stats(dir);
  const Timeline t = load(dir);
  EXPECT_EQ(check_trace_events(t.doc), std::vector<std::string>{});
  EXPECT_EQ(t.doc["otherData"]["truncated"], false);

  const double faults = stat_value(s, "gpu.gmmu.faults");
  ASSERT_GT(faults, 0);
  EXPECT_EQ(t.slices("SM ", "fault").size(), faults);
  EXPECT_EQ(t.slices("GMMU replays").size(), stat_value(s, "gpu.gmmu.replays"));
  EXPECT_EQ(t.slices("GMMU TLB invalidates").size(), stat_value(s, "gpu.gmmu.tlb_invalidates"));
  EXPECT_EQ(t.slices("walker ").size(), stat_value(s, "gpu.gmmu.walks"));
  EXPECT_EQ(t.slices("copy engine ").size(), stat_value(s, "gpu.copy_engine.copies"));
  EXPECT_EQ(t.slices("driver (bottom half)", "batch").size(), stat_value(s, "driver.batches"));
  EXPECT_EQ(t.slices("CPU main thread", "migrate back").size(), stat_value(s, "host.migrate_to_ram"));
  // Every fault entry's flow ends at the replay that released it.
  EXPECT_EQ(t.count("s"), faults);
  EXPECT_EQ(t.count("f"), faults);
  // A viewer binds each arrow's start to its own fault and its end to a replay.
  const auto& ev = t.doc["traceEvents"];
  for (size_t i = 0; i < ev.size(); ++i) {
    if (ev[i]["ph"] != "s" && ev[i]["ph"] != "f") continue;
    const long b = flow_binding(t.doc, i);
    ASSERT_GE(b, 0) << ev[i];
    if (ev[i]["ph"] == "s")
      EXPECT_EQ(ev[size_t(b)]["args"]["fault"], ev[i]["id"]) << ev[i];
    else
      EXPECT_EQ(t.track(ev[size_t(b)]), "GMMU replays") << ev[i];
  }
  // PCIe slices carry the link's bytes.
  EXPECT_EQ(sum_arg(t.slices("down (host to device)"), "payload_bytes"), stat_value(s, "pcie.down.payload_bytes"));
  EXPECT_EQ(sum_arg(t.slices("up (device to host)"), "payload_bytes"), stat_value(s, "pcie.up.payload_bytes"));
  // The batches' stages add up to stats.json's stage totals (each slice is
  // rounded down to the ns: at most 1 ns off per slice).
  for (const char* stage : {"fetch", "preprocess", "range_fault", "migrate", "allocate", "copy", "pte_write",
                            "invalidate", "replay"}) {
    SCOPED_TRACE(stage);
    const auto v = t.slices("driver (bottom half)", stage);
    std::vector<json> exact;
    for (const auto& e : v)
      if (e["name"] == stage) exact.push_back(e);
    const double total = stat_value(s, std::string("driver.batch.stage_ns.") + stage);
    EXPECT_NEAR(sum_dur_ns(exact), total, double(exact.size()) + 1e-6);
  }
  // The kernel's slice is the kernel's time.
  const auto k = t.slices("kernels");
  ASSERT_EQ(k.size(), 1u);
  EXPECT_NEAR(k[0]["dur"].get<double>() * 1000.0, stat_value(s, "kernels.k0.time_ns"), 1.0);
}

TEST(Timeline, EvictionsAndCpuThreadsHaveTheirTracks) {
  // Ping-pong: a CPU thread writes pages the GPU uses, pulling them back.
  const std::string dir = fresh_dir("timeline_pingpong");
  const RunOutput r = run_hmmsim("run " + source("configs/experiments/pingpong.yaml") + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const json s = read_stats(dir);
  const Timeline t = load(dir);
  EXPECT_EQ(check_trace_events(t.doc), std::vector<std::string>{});
  const auto ops = t.slices("CPU thread 0", "CPU write");
  EXPECT_EQ(ops.size(), 40u);  // count: 40
  // Migrate-backs land on the thread that took the CPU fault, inside its operation.
  const auto backs = t.slices("CPU thread 0", "migrate back");
  EXPECT_GT(backs.size(), 0u);
  EXPECT_EQ(backs.size() + t.slices("CPU main thread", "migrate back").size(),
            stat_value(s, "host.migrate_to_ram"));

  const std::string dir2 = fresh_dir("timeline_evict");
  // Random access over 4 MiB in 3 MiB of VRAM: a few evictions, ~200k events.
  const RunOutput r2 = run_hmmsim("run " + source("configs/experiments/random.yaml") +
                                  " --set workload.buffers.0.bytes=4MiB --set workload.steps.1.kernel.accesses=2048"
                                  " --set gpu.vram.capacity=3MiB --set run.timeline_max_events=400000 -q --out " +
                                  dir2);
  ASSERT_EQ(r2.exit_code, 0) << r2.out;
  const json s2 = read_stats(dir2);
  const Timeline t2 = load(dir2);
  ASSERT_EQ(t2.doc["otherData"]["truncated"], false) << "raise the bound for this test";
  EXPECT_EQ(check_trace_events(t2.doc), std::vector<std::string>{});
  const auto ev = t2.slices("driver evictions", "evict");
  ASSERT_GT(stat_value(s2, "driver.evictions"), 0);
  EXPECT_EQ(ev.size(), stat_value(s2, "driver.evictions"));
  EXPECT_EQ(sum_arg(ev, "pages"), stat_value(s2, "driver.pages_evicted"));
}

TEST(Timeline, SizeIsBoundedAndTheCutIsNoted) {
  const std::string dir = fresh_dir("timeline_cut");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") +
                                 " --set run.timeline_max_events=300 -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const Timeline t = load(dir);
  EXPECT_EQ(check_trace_events(t.doc, true), std::vector<std::string>{});
  const auto& o = t.doc["otherData"];
  EXPECT_EQ(o["truncated"], true);
  EXPECT_EQ(o["events_kept"], 300);
  EXPECT_GT(o["events_dropped"].get<int>(), 0);
  EXPECT_NE(o["note"].get<std::string>().find("run.timeline_max_events"), std::string::npos);
  EXPECT_LE(t.count("X") + t.count("s") + t.count("f") + t.count("C"), 300u);
  EXPECT_EQ(t.count("i"), 1u);  // the mark where it was cut
  // The mark is where recording stopped: after every slice kept began.
  double mark = 0, last_start = 0;
  for (const auto& e : t.doc["traceEvents"]) {
    if (e["ph"] == "i") mark = e["ts"].get<double>();
    if (e["ph"] == "X" && t.track(e) != "kernels") last_start = std::max(last_start, e["ts"].get<double>());
  }
  EXPECT_GE(mark, last_start);
  EXPECT_NE(o["note"].get<std::string>().find(std::to_string(llround(mark * 1000)) + " ns"), std::string::npos);
  // The kernel, recorded when the run has ended, is kept.
  const auto k = t.slices("kernels");
  ASSERT_EQ(k.size(), 1u);
  EXPECT_NEAR(k[0]["dur"].get<double>() * 1000.0, stat_value(read_stats(dir), "kernels.k0.time_ns"), 1.0);
}

TEST(Timeline, OffWithZeroAndIdenticalOnReRun) {
  const std::string off = fresh_dir("timeline_off");
  RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set run.timeline_max_events=0 --out " + off);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  EXPECT_FALSE(std::filesystem::exists(off + "/timeline.json"));
  EXPECT_EQ(r.out.find("timeline.json"), std::string::npos) << r.out;

  const std::string a = fresh_dir("timeline_a"), b = fresh_dir("timeline_b");
  ASSERT_EQ(run_hmmsim("run " + source("configs/default.yaml") + " -q --out " + a).exit_code, 0);
  ASSERT_EQ(run_hmmsim("run " + source("configs/default.yaml") + " -q --out " + b).exit_code, 0);
  EXPECT_EQ(read_file(a + "/timeline.json"), read_file(b + "/timeline.json"));
}

TEST(Timeline, ARunStoppedEarlyStillGivesAValidTimeline) {
  // The watchdog stops the kernel mid-way: faults not yet replayed keep an
  // arrow with no end, and the kernel's slice says it did not finish.
  const std::string dir = fresh_dir("timeline_stopped");
  const RunOutput r = run_hmmsim("run " + source("configs/default.yaml") + " --set run.max_sim_time=10us -q --out " + dir);
  ASSERT_EQ(r.exit_code, 1) << r.out;
  const json s = read_stats(dir);
  const Timeline t = load(dir);
  EXPECT_EQ(check_trace_events(t.doc, true), std::vector<std::string>{});
  EXPECT_EQ(t.count("s"), stat_value(s, "gpu.gmmu.faults"));
  EXPECT_LT(t.count("f"), t.count("s"));
  const auto k = t.slices("kernels");
  ASSERT_EQ(k.size(), 1u);
  EXPECT_EQ(k[0]["name"], "k0: vector_update (not finished)");
}
