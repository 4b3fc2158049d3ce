// The driver's policy families end to end (docs/policies.md): every
// registered implementation runs by name, oversubscribed runs lose nothing,
// and the qualitative effects the issue names hold with margins.
#include <gtest/gtest.h>

#include <tuple>

#include "host/gpu_driver/eviction_policy.h"
#include "host/gpu_driver/placement_policy.h"
#include "host/gpu_driver/prefetch_policy.h"
#include "host/gpu_driver/replay_policy.h"
#include "host/gpu_driver/thrashing_policy.h"
#include "run_hmmsim.h"

using namespace hmmsim::testing;

namespace {

struct ExpRun {
  nlohmann::json s;
  double kernel_ns = 0;
};

// Runs a config of configs/experiments with overrides; asserts a clean run.
ExpRun run_exp(const std::string& name, const std::string& workload, const std::string& sets) {
  const std::string dir = fresh_dir("pol_" + name);
  const RunOutput r = run_hmmsim("run " + source("configs/experiments/" + workload + ".yaml") + " " + sets +
                                 " -q --out " + dir);
  EXPECT_EQ(r.exit_code, 0) << name << ": " << r.out;
  ExpRun out;
  if (r.exit_code != 0) return out;
  out.s = read_stats(dir);
  out.kernel_ns = out.s["sim"]["kernel_time_ns"].get<double>();
  EXPECT_EQ(stat(out.s, "oracle.mismatches"), 0) << name;
  EXPECT_GT(stat(out.s, "oracle.checks"), 0) << name;
  EXPECT_EQ(stat(out.s, "driver.faults_fatal"), 0) << name;
  return out;
}

// VRAM for a footprint of 8 MiB at an oversubscription (footprint / VRAM - 1),
// rounded down to 4 KiB; at 0 % there is room for the page tables too.
std::string vram_at(int percent) {
  if (percent == 0) return "--set gpu.vram.capacity=10MiB";
  const uint64_t kib = 8ull * 1024 * 100 / (100 + percent) / 4 * 4;
  return "--set gpu.vram.capacity=" + std::to_string(kib) + "KiB";
}

// ---- every policy by name --------------------------------------------------

TEST(Policies, EveryRegisteredImplementationRunsByName) {
  const std::pair<const char*, std::vector<std::string>> families[] = {
      {"placement", hmmsim::host::placement_registry().names()},
      {"prefetch", hmmsim::host::prefetch_registry().names()},
      {"eviction", hmmsim::host::eviction_registry().names()},
      {"thrashing", hmmsim::host::thrashing_registry().names()},
      {"replay", hmmsim::host::replay_registry().names()}};
  for (const auto& [family, names] : families)
    for (const std::string& impl : names) {
      // 50 % oversubscribed streaming, so that eviction runs too.
      const ExpRun r = run_exp(std::string(family) + "_" + impl, "streaming",
                            vram_at(50) + " --set driver." + family + ".impl=" + impl);
      if (r.s.is_null() || impl == "remote_map") continue;  // remote_map never fills VRAM
      EXPECT_GT(stat(r.s, "driver.evictions"), 0) << family << " " << impl;
    }
}

// ---- oversubscription loses nothing -----------------------------------------

class Oversubscribed : public ::testing::TestWithParam<std::tuple<const char*, int>> {};

TEST_P(Oversubscribed, CompletesWithTheOracleClean) {
  const auto [workload, percent] = GetParam();
  const ExpRun r = run_exp(std::string(workload) + std::to_string(percent), workload, vram_at(percent));
  if (r.s.is_null()) return;
  // The whole footprint went through VRAM; beyond its size it had to evict.
  EXPECT_GT(stat(r.s, "driver.pages_to_vram"), 0);
  if (percent > 0)
    EXPECT_GT(stat(r.s, "driver.evictions"), 0);
  else
    EXPECT_EQ(stat(r.s, "driver.evictions"), 0);
  EXPECT_EQ(stat(r.s, "driver.evict_no_host_memory"), 0);
}

INSTANTIATE_TEST_SUITE_P(Workloads, Oversubscribed,
                         ::testing::Combine(::testing::Values("streaming", "random", "stencil"),
                                            ::testing::Values(0, 25, 50, 100, 200)),
                         [](const auto& info) {
                           return std::string(std::get<0>(info.param)) + "_" +
                                  std::to_string(std::get<1>(info.param)) + "pct";
                         });

TEST(Policies, OversubscribedWith2MiBChunksLosesNothing) {
  // UVM's allocation unit: a 2 MiB VRAM chunk per VA block, whole resident
  // blocks mapped by 2 MiB PTEs; eviction returns chunks whole.
  for (const char* w : {"streaming", "stencil"})
    for (int p : {0, 50, 200}) {
      const ExpRun r = run_exp(std::string("chunk_") + w + std::to_string(p), w,
                               vram_at(p) + " --set driver.vram_chunk=2MiB");
      if (r.s.is_null()) continue;
      const std::string what = p == 0 ? "driver.huge_pte_writes" : "driver.evictions";
      EXPECT_GT(stat(r.s, what), 0) << w << " " << p;
    }
}

TEST(Policies, RandomAccessIsSlowerAt50PercentOversubscription) {
  const ExpRun fits = run_exp("random_fits", "random", vram_at(0));
  const ExpRun over = run_exp("random_over", "random", vram_at(50));
  // Every eviction moves a 2 MiB block that random accesses soon want back.
  EXPECT_GT(over.kernel_ns, 2 * fits.kernel_ns);
  EXPECT_GT(stat(over.s, "driver.pages_to_vram"), 2 * stat(fits.s, "driver.pages_to_vram"));
}

// ---- prefetching ---------------------------------------------------------

TEST(Policies, TreePrefetchCutsTheBatchesOfAStreamingKernelFivefold) {
  const ExpRun none = run_exp("stream_none", "streaming", "--set driver.prefetch.impl=none");
  const ExpRun tree = run_exp("stream_tree", "streaming", "--set driver.prefetch.impl=uvm_tree");
  EXPECT_GE(stat(none.s, "driver.batches"), 5 * stat(tree.s, "driver.batches"));
  EXPECT_LT(tree.kernel_ns, none.kernel_ns);
  // Faulted and prefetched pages are counted apart and add up.
  EXPECT_EQ(stat(none.s, "driver.pages_prefetcher"), 0);
  EXPECT_GT(stat(tree.s, "driver.pages_prefetcher"), stat(tree.s, "driver.pages_faulted_in"));
  EXPECT_EQ(stat(tree.s, "driver.pages_to_vram"),
            stat(tree.s, "driver.pages_faulted_in") + stat(tree.s, "driver.pages_prefetcher"));
}

// ---- placement -----------------------------------------------------------

TEST(Policies, AccessCounterMigrationMovesHotRegionsLater) {
  const ExpRun r = run_exp("ac", "streaming",
                        "--set driver.placement.impl=access_counter --set driver.placement.counter_threshold=64");
  // Faults map remotely; notifications migrate what the GPU keeps using.
  EXPECT_GT(stat(r.s, "driver.pages_mapped_remote"), 0);
  EXPECT_EQ(stat(r.s, "driver.pages_faulted_in"), 0);
  EXPECT_GT(stat(r.s, "driver.ac_notifications"), 0);
  EXPECT_GT(stat(r.s, "driver.pages_counter_migrated"), 0);
  EXPECT_EQ(stat(r.s, "driver.pages_to_vram"), stat(r.s, "driver.pages_counter_migrated"));
  const ExpRun remote = run_exp("remote", "streaming", "--set driver.placement.impl=remote_map");
  EXPECT_EQ(stat(remote.s, "driver.pages_to_vram"), 0);
  EXPECT_EQ(stat(remote.s, "driver.ac_notifications"), 0);
}

TEST(Policies, PreferredLocationDeviceMigratesUnderRemoteMap) {
  const std::string cfg = write_config("pref_dev",
                                       "run: {data: tag}\n"
                                       "driver: {placement: {impl: remote_map}}\n"
                                       "workload:\n"
                                       "  kind: program\n"
                                       "  buffers:\n"
                                       "    - {name: a, bytes: 256KiB, preferred_location: device}\n"
                                       "    - {name: b, bytes: 256KiB}\n"
                                       "  steps:\n"
                                       "    - cpu_write: a\n"
                                       "    - cpu_write: b\n"
                                       "    - kernel: {synthetic: streaming_read, buffer: a}\n"
                                       "    - kernel: {synthetic: streaming_read, buffer: b}\n");
  const std::string dir = fresh_dir("pref_dev_out");
  const RunOutput r = run_hmmsim("run " + cfg + " -q --out " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.out;
  const auto s = read_stats(dir);
  EXPECT_EQ(stat(s, "kernels.k0.driver.pages_to_vram"), 64);  // a: all of it, by its hint
  EXPECT_EQ(stat(s, "kernels.k1.driver.pages_to_vram"), 0);   // b: remote, by the policy
  EXPECT_GT(stat(s, "kernels.k1.driver.pages_mapped_remote"), 0);
  EXPECT_EQ(stat(s, "oracle.mismatches"), 0);
  const std::string bad = write_config("pref_bad",
                                       "workload:\n  kind: program\n  buffers:\n"
                                       "    - {name: a, bytes: 64KiB, placement: host, preferred_location: device}\n"
                                       "  steps:\n    - cpu_write: a\n");
  const RunOutput e = run_hmmsim("run " + bad);
  EXPECT_EQ(e.exit_code, 2);
  EXPECT_NE(e.out.find(":4: workload.buffers[0].preferred_location: device contradicts placement host"),
            std::string::npos)
      << e.out;
}

// ---- replay ----------------------------------------------------------------

TEST(Policies, ReplayPoliciesReplayWhenTheySay) {
  for (const char* impl : {"block", "batch", "batch_flush", "once"}) {
    const ExpRun r = run_exp(std::string("replay_") + impl, "streaming",
                          std::string("--set driver.prefetch.impl=none --set driver.replay.impl=") + impl);
    if (r.s.is_null()) continue;
    const int64_t replays = stat(r.s, "driver.replays"), batches = stat(r.s, "driver.batches");
    const int64_t blocks = stat(r.s, "driver.blocks"), irqs = stat(r.s, "driver.interrupts");
    const std::string n = impl;
    const int64_t want = n == "once" ? irqs : n == "block" ? blocks : batches;
    EXPECT_EQ(replays, want) << impl;
    EXPECT_EQ(stat(r.s, "driver.buffer_flushes"), std::string(impl) == "batch_flush" ? batches : 0) << impl;
  }
}

// ---- thrashing -------------------------------------------------------------

TEST(Policies, APingPongIsDetectedAndPinned) {
  const ExpRun none = run_exp("pp_none", "pingpong", "--set driver.thrashing.impl=none");
  const ExpRun pin = run_exp("pp_pin", "pingpong", "--set driver.thrashing.impl=pin");
  // Detection counts in both; only pin acts: the pages stay in system
  // memory, mapped over the link, and stop moving.
  EXPECT_GT(stat(none.s, "driver.thrashing.detected"), 0);
  EXPECT_EQ(stat(none.s, "driver.thrashing.pinned"), 0);
  EXPECT_GT(stat(pin.s, "driver.thrashing.pinned"), 0);
  EXPECT_GT(stat(pin.s, "driver.faults_pinned"), 0);
  EXPECT_GT(stat(pin.s, "driver.pages_mapped_remote"), 0);
  EXPECT_LT(stat(pin.s, "driver.pages_to_vram"), stat(none.s, "driver.pages_to_vram"));
  EXPECT_LT(pin.kernel_ns, none.kernel_ns);
  const ExpRun throttle = run_exp("pp_throttle", "pingpong", "--set driver.thrashing.impl=throttle");
  EXPECT_GT(stat(throttle.s, "driver.faults_throttled"), 0);
  EXPECT_EQ(stat(throttle.s, "driver.thrashing.pinned"), 0);
}

}  // namespace
