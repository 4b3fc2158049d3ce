// Tests for sim/config: parse_config over whole documents — the shipped
// defaults, unknown keys in every block, range and cross-block checks,
// dependent defaults, choices, units and --set overrides.
#include "sim/config.h"

#include <gtest/gtest.h>

#include "parse_helpers.h"

#include <functional>
#include <string>

namespace hmmsim::sim {
namespace {

const std::string kDefaultFile = std::string(HMMSIM_SOURCE_DIR) + "/configs/default.yaml";

using hmmsim::sim::testing::error_of;
using hmmsim::sim::testing::parse_text;

std::string error_of_doc(const ConfigDoc& doc) {
  try {
    parse_config(doc);
  } catch (const ConfigError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected a ConfigError";
  return "(no error thrown)";
}

// Every field parse_config sets, compared one by one.
void expect_same(const SimConfig& a, const SimConfig& b) {
  EXPECT_EQ(a.run.seed, b.run.seed);
  EXPECT_DOUBLE_EQ(a.run.max_sim_time_ns, b.run.max_sim_time_ns);
  EXPECT_EQ(a.host.ram_bytes, b.host.ram_bytes);
  EXPECT_DOUBLE_EQ(a.host.cpu_page_access_ns, b.host.cpu_page_access_ns);
  EXPECT_DOUBLE_EQ(a.host.cpu.posted_write_ns, b.host.cpu.posted_write_ns);
  EXPECT_DOUBLE_EQ(a.host.root.dram_ns, b.host.root.dram_ns);
  EXPECT_DOUBLE_EQ(a.host.root.dram_gbps, b.host.root.dram_gbps);
  EXPECT_EQ(a.pcie.gen, b.pcie.gen);
  EXPECT_EQ(a.pcie.lanes, b.pcie.lanes);
  EXPECT_EQ(a.pcie.mps, b.pcie.mps);
  EXPECT_EQ(a.pcie.mrrs, b.pcie.mrrs);
  EXPECT_EQ(a.pcie.encoding, b.pcie.encoding);
  EXPECT_EQ(a.pcie.rcb, b.pcie.rcb);
  EXPECT_EQ(a.pcie.completion_split, b.pcie.completion_split);
  EXPECT_EQ(a.pcie.tlp_overhead_bytes, b.pcie.tlp_overhead_bytes);
  EXPECT_EQ(a.pcie.dllp_overhead, b.pcie.dllp_overhead);
  EXPECT_DOUBLE_EQ(a.pcie.latency_ns, b.pcie.latency_ns);
  EXPECT_EQ(a.gpu.sms, b.gpu.sms);
  EXPECT_DOUBLE_EQ(a.gpu.sm.clock_mhz, b.gpu.sm.clock_mhz);
  EXPECT_DOUBLE_EQ(a.gpu.gmmu.clock_mhz, b.gpu.gmmu.clock_mhz);
  EXPECT_EQ(a.gpu.tlb.l1.entries, b.gpu.tlb.l1.entries);
  EXPECT_EQ(a.gpu.tlb.l1.ways, b.gpu.tlb.l1.ways);
  EXPECT_EQ(a.gpu.tlb.l1.hit_cycles, b.gpu.tlb.l1.hit_cycles);
  EXPECT_EQ(a.gpu.tlb.l2.entries, b.gpu.tlb.l2.entries);
  EXPECT_EQ(a.gpu.tlb.l2_enabled, b.gpu.tlb.l2_enabled);
  EXPECT_EQ(a.gpu.gmmu.walker.pwc.entries, b.gpu.gmmu.walker.pwc.entries);
  EXPECT_EQ(a.gpu.gmmu.walker.walkers, b.gpu.gmmu.walker.walkers);
  EXPECT_EQ(a.gpu.gmmu.walker.level_cycles, b.gpu.gmmu.walker.level_cycles);
  EXPECT_EQ(a.gpu.gmmu.max_faults_per_utlb, b.gpu.gmmu.max_faults_per_utlb);
  EXPECT_DOUBLE_EQ(a.gpu.gmmu.replay_latency_ns, b.gpu.gmmu.replay_latency_ns);
  EXPECT_EQ(a.gpu.vram.capacity_bytes, b.gpu.vram.capacity_bytes);
  EXPECT_EQ(a.gpu.vram.channels, b.gpu.vram.channels);
  EXPECT_EQ(a.gpu.vram.banks_per_channel, b.gpu.vram.banks_per_channel);
  EXPECT_EQ(a.gpu.vram.row_bytes, b.gpu.vram.row_bytes);
  EXPECT_EQ(a.gpu.vram.interleave_bytes, b.gpu.vram.interleave_bytes);
  EXPECT_DOUBLE_EQ(a.gpu.vram.t_rcd_ns, b.gpu.vram.t_rcd_ns);
  EXPECT_DOUBLE_EQ(a.gpu.vram.t_cl_ns, b.gpu.vram.t_cl_ns);
  EXPECT_DOUBLE_EQ(a.gpu.vram.t_rp_ns, b.gpu.vram.t_rp_ns);
  EXPECT_DOUBLE_EQ(a.gpu.vram.channel_gbps, b.gpu.vram.channel_gbps);
  EXPECT_DOUBLE_EQ(a.gpu.ce.setup_ns, b.gpu.ce.setup_ns);
  EXPECT_EQ(a.gpu.ce.chunk_bytes, b.gpu.ce.chunk_bytes);
  EXPECT_DOUBLE_EQ(a.gpu.bar0_access_ns, b.gpu.bar0_access_ns);
  EXPECT_EQ(a.driver.placement.impl, b.driver.placement.impl);
  EXPECT_EQ(a.driver.prefetch.impl, b.driver.prefetch.impl);
  EXPECT_EQ(a.driver.fault_buffer_entries, b.driver.fault_buffer_entries);
  EXPECT_EQ(a.driver.batch_count, b.driver.batch_count);
  EXPECT_EQ(a.driver.max_batches, b.driver.max_batches);
  EXPECT_EQ(a.driver.tlb_inv_max_ranges, b.driver.tlb_inv_max_ranges);
  EXPECT_DOUBLE_EQ(a.driver.costs.isr_ns, b.driver.costs.isr_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.batch_fixed_ns, b.driver.costs.batch_fixed_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.per_fault_ns, b.driver.costs.per_fault_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.per_block_ns, b.driver.costs.per_block_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.per_page_ns, b.driver.costs.per_page_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.per_pte_ns, b.driver.costs.per_pte_ns);
  EXPECT_DOUBLE_EQ(a.driver.costs.migrate_to_ram_ns, b.driver.costs.migrate_to_ram_ns);
  const WorkloadSpec& x = a.workload;
  const WorkloadSpec& y = b.workload;
  EXPECT_EQ(x.kind, y.kind);
  EXPECT_EQ(x.base_va, y.base_va);
  EXPECT_EQ(x.pages, y.pages);
  EXPECT_EQ(x.cpu_init_pages, y.cpu_init_pages);
  EXPECT_EQ(x.lut_pages, y.lut_pages);
  EXPECT_EQ(x.lut_cpu_init_pages, y.lut_cpu_init_pages);
  EXPECT_EQ(x.warps_per_sm, y.warps_per_sm);
  EXPECT_EQ(x.access_bytes, y.access_bytes);
  EXPECT_EQ(x.gap_cycles, y.gap_cycles);
  EXPECT_EQ(x.cpu_readback, y.cpu_readback);
  EXPECT_EQ(x.cpu_touch_pages, y.cpu_touch_pages);
  EXPECT_DOUBLE_EQ(x.cpu_touch_interval_ns, y.cpu_touch_interval_ns);
  EXPECT_EQ(x.stray_loads, y.stray_loads);
}

// ---- the shipped defaults ------------------------------------------------------

TEST(ParseConfigTest, DefaultFileParsesToTheDocumentedDefaults) {
  const SimConfig c = parse_config(load_config_file(kDefaultFile));
  EXPECT_EQ(c.source, kDefaultFile);
  EXPECT_EQ(c.run.seed, 1u);
  EXPECT_DOUBLE_EQ(c.run.max_sim_time_ns, 1e9);  // 1s
  EXPECT_EQ(c.host.ram_bytes, 256ull << 20);
  EXPECT_DOUBLE_EQ(c.host.cpu_page_access_ns, 250);
  EXPECT_DOUBLE_EQ(c.host.cpu.posted_write_ns, 30);
  EXPECT_DOUBLE_EQ(c.host.root.dram_ns, 90);
  EXPECT_DOUBLE_EQ(c.host.root.dram_gbps, 25.6);
  EXPECT_EQ(c.pcie.gen, 4u);
  EXPECT_EQ(c.pcie.lanes, 16u);
  EXPECT_EQ(c.pcie.mps, 256u);
  EXPECT_EQ(c.pcie.mrrs, 512u);
  EXPECT_EQ(c.pcie.encoding, bridge::PcieEncoding::Auto);
  EXPECT_FALSE(c.pcie.tlp_overhead_bytes.has_value());  // auto: by TLP kind and mode (docs/pcie.md)
  EXPECT_FALSE(c.pcie.dllp_overhead.has_value());
  EXPECT_DOUBLE_EQ(c.pcie.latency_ns, 350);
  EXPECT_EQ(c.gpu.sms, 2u);
  EXPECT_DOUBLE_EQ(c.gpu.sm.clock_mhz, 1400);
  EXPECT_DOUBLE_EQ(c.gpu.gmmu.clock_mhz, 1400);
  EXPECT_EQ(c.gpu.tlb.l1.entries, 64u);
  EXPECT_EQ(c.gpu.tlb.l1.ways, 4u);
  EXPECT_EQ(c.gpu.gmmu.max_faults_per_utlb, 56u);
  EXPECT_DOUBLE_EQ(c.gpu.gmmu.replay_latency_ns, 100);
  EXPECT_EQ(c.gpu.vram.capacity_bytes, 64ull << 20);
  EXPECT_EQ(c.gpu.vram.row_bytes, 2048u);
  EXPECT_EQ(c.gpu.ce.chunk_bytes, 65536u);
  EXPECT_DOUBLE_EQ(c.gpu.ce.setup_ns, 500);
  EXPECT_EQ(c.driver.placement.impl, "migrate");
  EXPECT_EQ(c.driver.prefetch.impl, "uvm_tree");
  EXPECT_EQ(c.driver.replay.impl, "batch_flush");
  EXPECT_EQ(c.driver.thrashing.impl, "uvm");
  EXPECT_DOUBLE_EQ(c.driver.thrashing.lapse_ns, 500e3);
  EXPECT_EQ(c.driver.fault_buffer_entries, 1024u);
  EXPECT_EQ(c.driver.batch_count, 256u);
  EXPECT_EQ(c.driver.max_batches, 20u);
  EXPECT_EQ(c.driver.tlb_inv_max_ranges, 4u);
  EXPECT_DOUBLE_EQ(c.driver.costs.isr_ns, 2000);
  EXPECT_DOUBLE_EQ(c.driver.costs.batch_fixed_ns, 6000);
  EXPECT_DOUBLE_EQ(c.driver.costs.per_fault_ns, 150);
  EXPECT_DOUBLE_EQ(c.driver.costs.per_block_ns, 4000);
  EXPECT_DOUBLE_EQ(c.driver.costs.migrate_to_ram_ns, 8000);
  EXPECT_EQ(c.workload.kind, "vector_update");
  EXPECT_EQ(c.workload.base_va, 0x7f0000000000ull);
  EXPECT_EQ(c.workload.pages, 16u);
  EXPECT_EQ(c.workload.cpu_init_pages, 12u);
  EXPECT_EQ(c.workload.lut_pages, 4u);
  EXPECT_EQ(c.workload.lut_cpu_init_pages, 2u);
  EXPECT_EQ(c.workload.access_bytes, 128u);
  EXPECT_TRUE(c.workload.cpu_readback);
  EXPECT_DOUBLE_EQ(c.workload.cpu_touch_interval_ns, 5000);
  EXPECT_EQ(c.workload.stray_loads, 0u);
}

TEST(ParseConfigTest, DefaultFileMatchesTheBuiltInDefaults) {
  // "Every key is optional; values shown are the defaults."
  const SimConfig file = parse_config(load_config_file(kDefaultFile));
  const SimConfig empty = parse_text("");
  EXPECT_EQ(empty.source, "t.yaml");
  expect_same(file, empty);
  expect_same(file, SimConfig{});
  expect_same(parse_text("run:\nhost:\npcie:\ngpu:\ndriver:\nworkload:\n"), SimConfig{});
}

// ---- unknown keys ---------------------------------------------------------------

TEST(ParseConfigTest, EveryBlockRejectsUnknownKeys) {
  EXPECT_EQ(error_of("gpus: 2\n"),
            "t.yaml:1: gpus: unknown key; allowed keys here: driver, gpu, hmmsim, host, pcie, run, workload");
  EXPECT_EQ(error_of("run:\n  seed: 2\n  seeds: 3\n"),
            "t.yaml:3: run.seeds: unknown key; allowed keys here: data, max_sim_time, seed, timeline_max_events, "
            "timeseries_epoch, timeseries_max_rows, vcd");
  EXPECT_EQ(error_of("host:\n  rams: 1GiB\n"),
            "t.yaml:2: host.rams: unknown key; allowed keys here: cpu_page_access, "
            "dram_bandwidth_gbps, dram_latency, posted_write, ram");
  EXPECT_EQ(error_of("pcie:\n  gen: 3\n  width: 8\n"),
            "t.yaml:3: pcie.width: unknown key; allowed keys here: completion_split, dllp_overhead, encoding, gen, "
            "lanes, latency, max_payload, max_read_request, read_completion_boundary, tlp_overhead");
  EXPECT_EQ(error_of("gpu:\n  sm_count: 4\n"),
            "t.yaml:2: gpu.sm_count: unknown key; allowed keys here: access_counters, bar0_access, clock_mhz, "
            "copy_engine, gmmu, l2_cache, sm, sms, tlb, vram");
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l1: {entries: 32, assoc: 4}\n"),
            "t.yaml:3: gpu.tlb.l1.assoc: unknown key; allowed keys here: entries, entries_2m, entries_64k, "
            "hit_cycles, impl, lookups_per_cycle, mshrs, replacement, ways");
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l3: {}\n"),
            "t.yaml:3: gpu.tlb.l3: unknown key; allowed keys here: l1, l15, l2");
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l15: {enabled: true, clusters: 2}\n"),
            "t.yaml:3: gpu.tlb.l15.clusters: unknown key; allowed keys here: cluster, enabled, entries, "
            "entries_2m, entries_64k, hit_cycles, impl, lookups_per_cycle, mshrs, replacement, ways");
  EXPECT_EQ(error_of("gpu:\n  gmmu:\n    walker: 4\n"),
            "t.yaml:3: gpu.gmmu.walker: unknown key; allowed keys here: invalidate_latency, "
            "max_faults_per_utlb, pwc, replay_latency, walk_level_cycles, walkers");
  EXPECT_EQ(error_of("gpu:\n  gmmu:\n    pwc: {entries: [1, 2, 3, 4], hit: 2}\n"),
            "t.yaml:3: gpu.gmmu.pwc.hit: unknown key; allowed keys here: entries, hit_cycles, impl");
  EXPECT_EQ(error_of("gpu:\n  vram:\n    size: 1GiB\n"),
            "t.yaml:3: gpu.vram.size: unknown key; allowed keys here: bank_groups, banks_per_channel, "
            "burst_length, bus_bits, capacity, channel_bandwidth_gbps, channels, data_rate_gbps, impl, "
            "interleave_bytes, mapping, preset, row_bytes, t_ccd_l, t_ccd_s, t_cl, t_faw, t_ras, t_rcd, "
            "t_refi, t_rfc, t_rp, t_rrd, tck");
  EXPECT_EQ(error_of("gpu:\n  copy_engine: {chunks: 4096}\n"),
            "t.yaml:2: gpu.copy_engine.chunks: unknown key; allowed keys here: chunk, engines, queue_depth, setup");
  EXPECT_EQ(error_of("driver:\n  batch_size: 10\n"),
            "t.yaml:2: driver.batch_size: unknown key; allowed keys here: batch_count, copy, costs, eviction, "
            "fault_buffer_entries, max_batches, max_throttled_batches, placement, prefetch, replay, sysmem_atomics, "
            "thrashing, tlb_inv_max_ranges, vram_chunk");
  EXPECT_EQ(error_of("driver:\n  costs:\n    isr: 1us\n    per_faults: 1ns\n"),
            "t.yaml:4: driver.costs.per_faults: unknown key; allowed keys here: batch_fixed, isr, "
            "migrate_to_ram, per_block, per_fault, per_page, per_pte");
  EXPECT_EQ(error_of("workload:\n  page: 4\n"),
            "t.yaml:2: workload.page: unknown key; allowed keys here: access_bytes, base_va, "
            "cpu_init_pages, cpu_readback, cpu_touch_interval, cpu_touch_pages, gap_cycles, kind, "
            "lut_cpu_init_pages, lut_pages, pages, stray_loads, warps_per_sm");
}

TEST(ParseConfigTest, BlocksMustBeMaps) {
  EXPECT_EQ(error_of("gpu: 4\n"), "t.yaml:1: gpu: expected a map, got '4'");
  EXPECT_EQ(error_of("driver:\n  costs: [1, 2]\n"), "t.yaml:2: driver.costs: expected a map, got '[1, 2]'");
}

// ---- range and consistency checks ----------------------------------------------

TEST(ParseConfigTest, PcieLanesAndPayloadsMustBePowersOfTwo) {
  EXPECT_EQ(error_of("pcie:\n  lanes: 12\n"),
            "t.yaml:2: pcie.lanes: must be a power of two (1, 2, 4, 8, 16, 32)");
  EXPECT_EQ(error_of("pcie:\n  lanes: 64\n"), "t.yaml:2: pcie.lanes: value 64 out of range [1, 32]");
  EXPECT_EQ(error_of("pcie:\n  gen: 4\n  max_payload: 384\n"),
            "t.yaml:3: pcie.max_payload: must be a power of two between 128 and 4096");
  EXPECT_EQ(error_of("pcie:\n  max_payload: 8KiB\n"),
            "t.yaml:2: pcie.max_payload: value 8KiB out of range [128, 4KiB]");
  EXPECT_EQ(error_of("pcie:\n  max_read_request: 768\n"),
            "t.yaml:2: pcie.max_read_request: must be a power of two between 128 and 4096");
  const SimConfig c = parse_text("pcie:\n  lanes: 32\n  max_payload: 4KiB\n  max_read_request: 128\n");
  EXPECT_EQ(c.pcie.lanes, 32u);
  EXPECT_EQ(c.pcie.mps, 4096u);
  EXPECT_EQ(c.pcie.mrrs, 128u);
  EXPECT_EQ(parse_text("pcie:\n  lanes: 1\n").pcie.lanes, 1u);
}

TEST(ParseConfigTest, TlbEntriesMustBeAMultipleOfWays) {
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l1: {entries: 66, ways: 4}\n"),
            "t.yaml:3: gpu.tlb.l1.ways: entries must be a multiple of ways");
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l2:\n      entries: 48\n      ways: 32\n"),
            "t.yaml:5: gpu.tlb.l2.ways: entries must be a multiple of ways");
  // ways left at its default (4): the error still names gpu.tlb.l1.ways, at the map.
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l1:\n      entries: 66\n"),
            "t.yaml:3: gpu.tlb.l1.ways: entries must be a multiple of ways");
  EXPECT_EQ(error_of("gpu:\n  tlb:\n    l1: {entries: 4, ways: 8}\n"),
            "t.yaml:3: gpu.tlb.l1.ways: exceeds entries (use 0 for fully associative)");
  EXPECT_EQ(parse_text("gpu:\n  tlb:\n    l1: {entries: 48, ways: 16}\n").gpu.tlb.l1.ways, 16u);
  EXPECT_EQ(parse_text("gpu:\n  tlb:\n    l1: {entries: 16, ways: 0}\n").gpu.tlb.l1.ways, 0u);
}

TEST(ParseConfigTest, TranslationComponentsAreChosenByName) {
  const SimConfig c = parse_text(
      "gpu:\n  tlb:\n    l1: {impl: split, replacement: fifo, entries_2m: 8}\n"
      "    l15: {enabled: true, cluster: 4}\n    l2: {enabled: false}\n"
      "  gmmu:\n    pwc: {impl: unified}\n");
  EXPECT_EQ(c.gpu.tlb.l1.impl, "split");
  EXPECT_EQ(c.gpu.tlb.l1.replacement, "fifo");
  EXPECT_EQ(c.gpu.tlb.l1.entries_2m, 8u);
  EXPECT_TRUE(c.gpu.tlb.l15_enabled);
  EXPECT_EQ(c.gpu.tlb.l15_cluster, 4u);
  EXPECT_FALSE(c.gpu.tlb.l2_enabled);
  EXPECT_EQ(c.gpu.gmmu.walker.pwc.impl, "unified");
  EXPECT_EQ(c.gpu.gmmu.walker.pwc.entries, (std::vector<uint64_t>{64}));
  EXPECT_EQ(error_of("gpu:\n  gmmu:\n    pwc: {impl: unified, entries: [1, 2]}\n"),
            "t.yaml:3: gpu.gmmu.pwc.entries: unified takes one size: [n]");
  EXPECT_EQ(error_of("gpu:\n  gmmu:\n    pwc: {entries: [1, 2]}\n"),
            "t.yaml:3: gpu.gmmu.pwc.entries: per_level takes four sizes: [pd3, pd2, pd1, pd0]");
  const SimConfig l2 = parse_text("gpu:\n  l2_cache: {enabled: true, size: 1MiB, ways: 16}\n"
                                  "  access_counters: {granularity: 64KiB, threshold: 16}\n");
  EXPECT_TRUE(l2.gpu.l2.enabled);
  EXPECT_EQ(l2.gpu.l2.size_bytes, 1u << 20);
  EXPECT_EQ(l2.gpu.counters.granularity_bytes, 64u << 10);
  EXPECT_EQ(l2.gpu.counters.threshold, 16u);
  EXPECT_NE(error_of("gpu:\n  l2_cache: {size: 1000, ways: 3}\n").find("t.yaml:2: gpu.l2_cache."), std::string::npos);
  EXPECT_NE(error_of("gpu:\n  access_counters: {granularity: 96KiB}\n").find("t.yaml:2: gpu.access_counters.granularity"),
            std::string::npos);
  EXPECT_EQ(error_of("driver:\n  vram_chunk: 128KiB\n"),
            "t.yaml:2: driver.vram_chunk: must be 4KiB, 64KiB or 2MiB (a page size of the device page table)");
}

TEST(ParseConfigTest, TlbEntriesOverAllSmsAreCapped) {
  EXPECT_EQ(error_of("gpu:\n  sms: 16\n  tlb:\n    l1: {entries: 1048576, ways: 1}\n"),
            "t.yaml:4: gpu.tlb.l1.entries: gpu.sms x gpu.tlb.l1.entries exceeds 8M TLB entries in all");
  // Exactly 8M is allowed.
  const SimConfig c = parse_text("gpu:\n  sms: 8\n  tlb:\n    l1: {entries: 1048576, ways: 1}\n");
  EXPECT_EQ(c.gpu.sms, 8u);
  EXPECT_EQ(c.gpu.tlb.l1.entries, 1048576u);
}

TEST(ParseConfigTest, LongWorkloadsAreNotCappedByInstructionCount) {
  // Warps stream their instructions: 3 x 2731 x 1024 > 8M is fine now.
  EXPECT_EQ(parse_text("workload:\n  pages: 2731\n  access_bytes: 4\n").workload.pages, 2731u);
}

TEST(ParseConfigTest, DataModeAndSmLimits) {
  const SimConfig c = parse_text("run: {data: tag}\ngpu:\n  sm: {max_warps: 8, compute_cycles: 2}\n"
                                 "workload: {warps_per_sm: 8}\n");
  EXPECT_EQ(c.run.data, common::DataMode::Tag);
  EXPECT_EQ(c.gpu.sm.data, common::DataMode::Tag);  // the SMs learn the mode from run.data
  EXPECT_EQ(c.gpu.sm.max_warps, 8u);
  EXPECT_EQ(c.gpu.sm.compute_cycles, 2u);
  EXPECT_EQ(error_of("run: {data: bytes}\n"),
            "t.yaml:1: run.data: expected one of [full, tag, off], got 'bytes'");
  EXPECT_EQ(error_of("gpu:\n  sm: {max_warps: 2}\nworkload:\n  warps_per_sm: 3\n"),
            "t.yaml:4: workload.warps_per_sm: exceeds gpu.sm.max_warps (2)");
}

TEST(ParseConfigTest, VramMustHoldThePageTables) {
  // 41000 pages -> 81 leaf tables per buffer: 8 + 3 x 83 = 257 > 256 frames in 1 MiB.
  EXPECT_EQ(error_of("gpu:\n  vram: {capacity: 1MiB}\nhost:\n  ram: 1GiB\n"
                     "workload:\n  pages: 41000\n  access_bytes: 4096\n"),
            "t.yaml:2: gpu.vram.capacity: too small for the device page tables");
  const SimConfig c = parse_text(
      "gpu:\n  vram: {capacity: 1MiB}\nhost:\n  ram: 1GiB\nworkload:\n  pages: 40960\n  access_bytes: 4096\n");
  EXPECT_EQ(c.gpu.vram.capacity_bytes, 1ull << 20);
  EXPECT_EQ(error_of("gpu:\n  vram:\n    capacity: 1049088\n"),
            "t.yaml:3: gpu.vram.capacity: must be a multiple of 4 KiB");
  EXPECT_EQ(error_of("gpu:\n  vram:\n    capacity: 512KiB\n"),
            "t.yaml:3: gpu.vram.capacity: value 512KiB out of range [1MiB, 64GiB]");
}

TEST(ParseConfigTest, HostRamIsNotCheckedAgainstTheBuffers) {
  // Pages in VRAM need no system page: whether host.ram suffices is found
  // while running, which stops with exit 1 naming what needed a page
  // (sim/host_ram.h; tests/integration/test_host_ram.cpp).
  EXPECT_EQ(parse_text("host:\n  ram: 1MiB\nworkload:\n  pages: 8192\n").host.ram_bytes, 1ull << 20);
  EXPECT_EQ(parse_text("host:\n  ram: 1MiB\ndriver:\n  fault_buffer_entries: 1048576\n").host.ram_bytes, 1ull << 20);
  EXPECT_EQ(error_of("host:\n  ram: 512KiB\n"), "t.yaml:2: host.ram: value 512KiB out of range [1MiB, 16GiB]");
}

TEST(ParseConfigTest, WorkloadRangesDependOnPages) {
  EXPECT_EQ(error_of("workload:\n  pages: 8\n  cpu_init_pages: 9\n"),
            "t.yaml:3: workload.cpu_init_pages: value 9 out of range [0, 8]");
  EXPECT_EQ(error_of("workload:\n  lut_pages: 1\n  lut_cpu_init_pages: 2\n"),
            "t.yaml:3: workload.lut_cpu_init_pages: value 2 out of range [0, 1]");
  EXPECT_EQ(error_of("workload:\n  pages: 8\n  cpu_touch_pages: 9\n"),
            "t.yaml:3: workload.cpu_touch_pages: value 9 out of range [0, 8]");
  EXPECT_EQ(error_of("workload:\n  pages: 0\n"), "t.yaml:2: workload.pages: value 0 out of range [1, 262144]");
  const SimConfig c = parse_text("workload:\n  pages: 8\n  cpu_init_pages: 8\n  cpu_touch_pages: 8\n");
  EXPECT_EQ(c.workload.cpu_init_pages, 8u);
  EXPECT_EQ(c.workload.cpu_touch_pages, 8u);
}

TEST(ParseConfigTest, BaseVaMustBe2MiBAlignedAndInRange) {
  EXPECT_EQ(error_of("workload:\n  base_va: 0x7f0000001000\n"), "t.yaml:2: workload.base_va: must be 2 MiB aligned");
  EXPECT_EQ(error_of("workload:\n  base_va: 0x7f0000100000\n"), "t.yaml:2: workload.base_va: must be 2 MiB aligned");
  EXPECT_EQ(error_of("workload:\n  base_va: 0x1000\n"),
            "t.yaml:2: workload.base_va: value 0x1000 out of range [2097152, " +
                std::to_string((1ull << 47) - (1ull << 30)) + "]");
  EXPECT_EQ(parse_text("workload:\n  base_va: 0x200000\n").workload.base_va, 0x200000u);
  EXPECT_EQ(parse_text("workload:\n  base_va: 0x7f0000400000\n").workload.base_va, 0x7f0000400000ull);
}

TEST(ParseConfigTest, AccessBytesMustDivideAPage) {
  EXPECT_EQ(error_of("workload:\n  access_bytes: 96\n"),
            "t.yaml:2: workload.access_bytes: must be a multiple of 4 that divides 4096");
  EXPECT_EQ(error_of("workload:\n  access_bytes: 6\n"),
            "t.yaml:2: workload.access_bytes: must be a multiple of 4 that divides 4096");
  EXPECT_EQ(error_of("workload:\n  access_bytes: 2\n"),
            "t.yaml:2: workload.access_bytes: value 2 out of range [4, 4KiB]");
  EXPECT_EQ(parse_text("workload:\n  access_bytes: 4\n").workload.access_bytes, 4u);
  EXPECT_EQ(parse_text("workload:\n  access_bytes: 4KiB\n").workload.access_bytes, 4096u);
}

// ---- dependent defaults -----------------------------------------------------------

TEST(ParseConfigTest, DependentDefaultsFollowTheirKeys) {
  SimConfig c = parse_text("workload:\n  pages: 4\n");
  EXPECT_EQ(c.workload.pages, 4u);
  EXPECT_EQ(c.workload.cpu_init_pages, 4u);  // default 12, clipped to pages
  EXPECT_EQ(c.workload.lut_cpu_init_pages, 2u);
  c = parse_text("workload:\n  pages: 20\n");
  EXPECT_EQ(c.workload.cpu_init_pages, 12u);  // not scaled up
  c = parse_text("workload:\n  lut_pages: 1\n");
  EXPECT_EQ(c.workload.lut_cpu_init_pages, 1u);
  c = parse_text("workload:\n  lut_pages: 0\n");
  EXPECT_EQ(c.workload.lut_pages, 0u);
  EXPECT_EQ(c.workload.lut_cpu_init_pages, 0u);
  c = parse_text("gpu:\n  clock_mhz: 1000\n");
  EXPECT_DOUBLE_EQ(c.gpu.sm.clock_mhz, 1000);
  EXPECT_DOUBLE_EQ(c.gpu.gmmu.clock_mhz, 1000);  // one clock for the SMs and the GMMU
}

// ---- choices and units ---------------------------------------------------------------

TEST(ParseConfigTest, ChoicesListAllowedValues) {
  EXPECT_EQ(error_of("driver:\n  placement: {impl: migrate_on_touch}\n"),
            "t.yaml:2: driver.placement.impl: unknown implementation 'migrate_on_touch'; registered: "
            "access_counter, migrate, remote_map");
  EXPECT_EQ(error_of("driver:\n  prefetch: {impl: tree}\n"),
            "t.yaml:2: driver.prefetch.impl: unknown implementation 'tree'; registered: none, seq64k, tbn, uvm_tree");
  EXPECT_EQ(error_of("driver:\n  thrashing: {lapse: 1ms, epoch: 10us}\n"),
            "t.yaml:2: driver.thrashing.epoch: must be at least the lapse");
  EXPECT_EQ(error_of("workload:\n  kind: stream\n"),
            "t.yaml:2: workload.kind: expected one of [vector_update, program], got 'stream'");
  EXPECT_EQ(parse_text("driver:\n  placement: {impl: remote_map}\n").driver.placement.impl, "remote_map");
  EXPECT_EQ(parse_text("driver:\n  replay: {impl: once}\n").driver.replay.impl, "once");
}

TEST(ParseConfigTest, TimeAndByteUnits) {
  const SimConfig c = parse_text(
      "run: {max_sim_time: 2ms}\n"
      "host: {ram: 1GiB, posted_write: 500ps, dram_latency: 0.1us}\n"
      "pcie: {latency: 1us}\n"
      "gpu:\n"
      "  vram: {capacity: 128MiB, row_bytes: 1KiB, t_rcd: 15000ps}\n"
      "  copy_engine: {setup: 1.5us, chunk: 1MiB}\n"
      "  gmmu: {replay_latency: 250}\n"
      "driver:\n"
      "  costs: {isr: 1.5us, batch_fixed: 0.01ms, migrate_to_ram: 1s}\n"
      "workload: {cpu_touch_interval: 20us, access_bytes: 1KiB}\n");
  EXPECT_DOUBLE_EQ(c.run.max_sim_time_ns, 2e6);
  EXPECT_EQ(c.host.ram_bytes, 1ull << 30);
  EXPECT_DOUBLE_EQ(c.host.cpu.posted_write_ns, 0.5);
  EXPECT_DOUBLE_EQ(c.host.root.dram_ns, 100);
  EXPECT_DOUBLE_EQ(c.pcie.latency_ns, 1000);
  EXPECT_EQ(c.gpu.vram.capacity_bytes, 128ull << 20);
  EXPECT_EQ(c.gpu.vram.row_bytes, 1024u);
  EXPECT_DOUBLE_EQ(c.gpu.vram.t_rcd_ns, 15);
  EXPECT_DOUBLE_EQ(c.gpu.ce.setup_ns, 1500);
  EXPECT_EQ(c.gpu.ce.chunk_bytes, 1u << 20);
  EXPECT_DOUBLE_EQ(c.gpu.gmmu.replay_latency_ns, 250);  // a plain number is nanoseconds
  EXPECT_DOUBLE_EQ(c.driver.costs.isr_ns, 1500);
  EXPECT_DOUBLE_EQ(c.driver.costs.batch_fixed_ns, 10000);
  EXPECT_DOUBLE_EQ(c.driver.costs.migrate_to_ram_ns, 1e9);
  EXPECT_DOUBLE_EQ(c.workload.cpu_touch_interval_ns, 20000);
  EXPECT_EQ(c.workload.access_bytes, 1024u);
}

TEST(ParseConfigTest, UnitRangeErrorsUseUnits) {
  EXPECT_EQ(error_of("run:\n  max_sim_time: 100ns\n"),
            "t.yaml:2: run.max_sim_time: value 100ns out of range [1us, 10000s]");
  EXPECT_EQ(error_of("host:\n  ram: 32GiB\n"), "t.yaml:2: host.ram: value 32GiB out of range [1MiB, 16GiB]");
  EXPECT_EQ(error_of("pcie:\n  latency: 2ms\n"), "t.yaml:2: pcie.latency: value 2ms out of range [0ns, 1ms]");
  EXPECT_EQ(error_of("pcie:\n  latency: fast\n"),
            "t.yaml:2: pcie.latency: expected time (e.g. 100ns, 45us, 1.5ms), got 'fast'");
}

// ---- overrides and included files ------------------------------------------------------

TEST(ParseConfigTest, OverridesApplyOnTopOfTheDefaultFile) {
  ConfigDoc doc = load_config_file(kDefaultFile);
  apply_override(doc, "gpu.sms=4");
  apply_override(doc, "pcie.latency=1us");
  apply_override(doc, "driver.placement.impl=remote_map");
  const SimConfig c = parse_config(doc);
  EXPECT_EQ(c.gpu.sms, 4u);
  EXPECT_DOUBLE_EQ(c.pcie.latency_ns, 1000);
  EXPECT_EQ(c.driver.placement.impl, "remote_map");
  EXPECT_EQ(c.gpu.tlb.l1.entries, 64u);  // the rest comes from the file
}

TEST(ParseConfigTest, OverrideErrorsSaySet) {
  ConfigDoc doc = load_config_file(kDefaultFile);
  apply_override(doc, "pcie.lanes=12");
  EXPECT_EQ(error_of_doc(doc), "--set: pcie.lanes: must be a power of two (1, 2, 4, 8, 16, 32)");

  ConfigDoc doc2 = load_config_file(kDefaultFile);
  apply_override(doc2, "gpu.warp_size=32");
  EXPECT_EQ(error_of_doc(doc2),
            "--set: gpu.warp_size: unknown key; allowed keys here: access_counters, bar0_access, clock_mhz, "
            "copy_engine, gmmu, l2_cache, sm, sms, tlb, vram");

  ConfigDoc doc3 = load_config_file(kDefaultFile);
  apply_override(doc3, "gpu.vram.capacity=1MiB");
  apply_override(doc3, "workload.pages=41000");  // 8 + 3 x 83 = 257 tables > 256 frames
  EXPECT_EQ(error_of_doc(doc3), "--set: gpu.vram.capacity: too small for the device page tables");
}

TEST(ParseConfigTest, ValuesFromTheFileKeepTheirLineUnderOverrides) {
  // cpu_init_pages: 12 is given explicitly in the file, so it does not follow
  // an overridden page count: the error points at the file's line.
  ConfigDoc doc = load_config_file(kDefaultFile);
  apply_override(doc, "workload.pages=4");
  const std::string what = error_of_doc(doc);
  EXPECT_EQ(what.rfind(kDefaultFile + ":", 0), 0u) << what;
  EXPECT_NE(what.find(": workload.cpu_init_pages: value 12 out of range [0, 4]"), std::string::npos) << what;
}

}  // namespace
}  // namespace hmmsim::sim
