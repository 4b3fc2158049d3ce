#include "sim/config.h"
#include "sim/config_parts.h"

#include <algorithm>

namespace hmmsim::sim {

namespace {

// run.vcd: {signals: [stats paths], period: 10ns}. The names are checked
// against the registered stats by the platform (vcd_at).
void parse_vcd(ConfigReader r, RunSpec& s) {
  s.vcd_period_ns = r.time_ns("period", s.vcd_period_ns, 1, 1e9);
  if (r.has("signals")) {
    const YAML::Node& n = r.node()["signals"];
    if (!n.IsSequence() && !n.IsNull()) r.fail("signals", "a list of stats.json counters, e.g. [gpu.gmmu.faults]");
    for (const auto& item : n) {
      if (!item.IsScalar() || item.Scalar().empty()) r.fail("signals", "each signal is a stats.json counter name");
      s.vcd_signals.push_back(item.Scalar());
    }
    r.mark_used("signals");
  }
  r.finish();
}

void parse_run(ConfigReader r, RunSpec& s) {
  s.seed = r.u64("seed", s.seed, 0, UINT64_MAX);
  common::parse_data_mode(r.choice("data", common::to_string(s.data), {"full", "tag", "off"}), s.data);
  s.max_sim_time_ns = r.time_ns("max_sim_time", s.max_sim_time_ns, 1e3, 1e13);
  s.timeseries_epoch_ns = r.time_ns("timeseries_epoch", s.timeseries_epoch_ns, 0, 1e12);
  if (s.timeseries_epoch_ns > 0 && s.timeseries_epoch_ns < 10) r.fail("timeseries_epoch", "0 (none) or at least 10ns");
  s.timeseries_max_rows = r.u64("timeseries_max_rows", s.timeseries_max_rows, 2, 100000000);
  s.timeline_max_events = r.u64("timeline_max_events", s.timeline_max_events, 0, 100000000);
  parse_vcd(r.child("vcd"), s);
  r.finish();
}

void parse_host(ConfigReader r, HostSpec& s) {
  s.ram_bytes = r.bytes("ram", s.ram_bytes, 1ull << 20, 16ull << 30);
  s.cpu_page_access_ns = r.time_ns("cpu_page_access", s.cpu_page_access_ns, 0, 1e6);
  s.cpu.posted_write_ns = r.time_ns("posted_write", s.cpu.posted_write_ns, 0, 1e5);
  s.root.dram_ns = r.time_ns("dram_latency", s.root.dram_ns, 0, 1e5);
  s.root.dram_gbps = r.bandwidth("dram_bandwidth_gbps", s.root.dram_gbps, 0.1, 1e4);
  r.finish();
}

// `key: auto` leaves `v` unset; a number must parse as the reader's type.
template <class T, class Read>
void auto_or(ConfigReader& r, const std::string& key, std::optional<T>& v, const char* what, Read read) {
  if (!r.has(key)) return r.mark_used(key);
  const YAML::Node n = r.node()[key];
  if (n.IsScalar() && n.Scalar() == "auto") {
    r.mark_used(key);
    v.reset();
    return;
  }
  const char c0 = n.IsScalar() && !n.Scalar().empty() ? n.Scalar()[0] : '0';
  if (!((c0 >= '0' && c0 <= '9') || c0 == '.'))
    r.fail(key, std::string("expected auto or ") + what + ", got '" + n.Scalar() + "'");
  v = read();
}

void parse_pcie(ConfigReader r, bridge::PcieSpec& s) {
  s.gen = static_cast<uint32_t>(r.u64("gen", s.gen, 1, 6));
  s.lanes = static_cast<uint32_t>(r.u64("lanes", s.lanes, 1, 32));
  if (s.lanes & (s.lanes - 1)) r.fail("lanes", "must be a power of two (1, 2, 4, 8, 16, 32)");
  s.mps = static_cast<uint32_t>(r.bytes("max_payload", s.mps, 128, 4096));
  if (s.mps & (s.mps - 1)) r.fail("max_payload", "must be a power of two between 128 and 4096");
  s.mrrs = static_cast<uint32_t>(r.bytes("max_read_request", s.mrrs, 128, 4096));
  if (s.mrrs & (s.mrrs - 1)) r.fail("max_read_request", "must be a power of two between 128 and 4096");
  s.encoding = *bridge::parse_pcie_encoding(
      r.choice("encoding", bridge::to_string(s.encoding), {"auto", "8b10b", "128b130b", "flit"}));
  s.rcb = static_cast<uint32_t>(r.bytes("read_completion_boundary", s.rcb, 64, 128));
  const bool rcb_split = s.completion_split == bridge::CompletionSplit::Rcb;
  s.completion_split = r.choice("completion_split", rcb_split ? "rcb" : "max_payload", {"max_payload", "rcb"}) == "rcb"
                           ? bridge::CompletionSplit::Rcb
                           : bridge::CompletionSplit::MaxPayload;
  auto_or(r, "tlp_overhead", s.tlp_overhead_bytes, "a byte count in [0, 64]", [&] {
    return static_cast<uint32_t>(r.u64("tlp_overhead", 0, 0, 64));
  });
  auto_or(r, "dllp_overhead", s.dllp_overhead, "a fraction in [0, 0.5]",
          [&] { return r.real("dllp_overhead", 0, 0, 0.5); });
  s.latency_ns = r.time_ns("latency", s.latency_ns, 0, 1e6);
  r.check(s.validate());  // what ranges cannot say: encoding vs generation, rcb 64 or 128
  r.finish();
}

void parse_workload(ConfigReader r, WorkloadSpec& s, uint64_t seed) {
  s.kind = r.choice("kind", s.kind, {"vector_update", "program"});
  s.base_va = r.u64("base_va", s.base_va, 1ull << 21, (1ull << 47) - (1ull << 30));
  if (s.base_va % (2ull << 20)) r.fail("base_va", "must be 2 MiB aligned");
  if (s.kind == "program") {
    s.program.base_va = s.base_va;
    s.program.seed = seed;
    parse_program(r, s.program);
    r.finish();
    return;
  }
  s.pages = static_cast<uint32_t>(r.u64("pages", s.pages, 1, 256 * 1024));
  // Dependent defaults follow the keys they depend on.
  s.cpu_init_pages = static_cast<uint32_t>(
      r.u64("cpu_init_pages", std::min<uint64_t>(s.cpu_init_pages, s.pages), 0, s.pages));
  s.lut_pages = static_cast<uint32_t>(r.u64("lut_pages", s.lut_pages, 0, 512));
  s.lut_cpu_init_pages = static_cast<uint32_t>(
      r.u64("lut_cpu_init_pages", std::min<uint64_t>(s.lut_cpu_init_pages, s.lut_pages), 0, s.lut_pages));
  s.warps_per_sm = static_cast<uint32_t>(r.u64("warps_per_sm", s.warps_per_sm, 1, 64));
  s.access_bytes = static_cast<uint32_t>(r.bytes("access_bytes", s.access_bytes, 4, 4096));
  if (s.access_bytes % 4 || 4096 % s.access_bytes)
    r.fail("access_bytes", "must be a multiple of 4 that divides 4096");
  s.gap_cycles = static_cast<uint32_t>(r.u64("gap_cycles", s.gap_cycles, 0, 1 << 20));
  s.cpu_readback = r.boolean("cpu_readback", s.cpu_readback);
  s.cpu_touch_pages = static_cast<uint32_t>(r.u64("cpu_touch_pages", s.cpu_touch_pages, 0, s.pages));
  s.cpu_touch_interval_ns = r.time_ns("cpu_touch_interval", s.cpu_touch_interval_ns, 10, 1e9);
  s.stray_loads = static_cast<uint32_t>(r.u64("stray_loads", s.stray_loads, 0, 1024));
  // The buffers (in, out, lut, each from a 2 MiB boundary) must fit below 2^47.
  const uint64_t stride = ((uint64_t(s.pages) * 4096 + (2ull << 20) - 1) / (2ull << 20)) * (2ull << 20);
  if (s.base_va + 2 * stride + uint64_t(s.lut_pages) * 4096 + (4ull << 20) > (1ull << 47))
    r.fail("base_va", "the buffers would end above the 47-bit user address space");
  r.finish();
}

}  // namespace

SimConfig parse_config(const ConfigDoc& doc) {
  SimConfig c;
  c.source = doc.file;
  ConfigReader root = ConfigReader::root(doc);
  parse_run(root.child("run"), c.run);
  parse_host(root.child("host"), c.host);
  parse_pcie(root.child("pcie"), c.pcie);
  parse_gpu(root.child("gpu"), c.gpu);
  parse_driver(root.child("driver"), c.driver, c.run.seed);
  parse_workload(root.child("workload"), c.workload, c.run.seed);
  root.ignore("hmmsim");  // config.json's provenance: what ran it, and from what
  root.finish();
  c.gpu.sm.data = c.run.data;
  if (c.workload.kind == "vector_update" && c.workload.warps_per_sm > c.gpu.sm.max_warps)
    ConfigReader(root).child("workload").fail("warps_per_sm", "exceeds gpu.sm.max_warps (" +
                                                                  std::to_string(c.gpu.sm.max_warps) + ")");
  {
    const ConfigError ve = ConfigReader(root).child("gpu").child("vram").error("capacity", "");
    c.vram_at = {ve.file, ve.line, ve.key};
    const ConfigError vcd = ConfigReader(root).child("run").child("vcd").error("signals", "");
    c.vcd_at = {vcd.file, vcd.line, vcd.key};
  }
  // A program's buffers are known once it is built (traces are scanned):
  // the platform checks them then.
  if (c.workload.kind == "program") return c;
  // host.ram is not checked against the buffers (pages in VRAM need no
  // system page): a run that runs out stops then, naming what needed the
  // page (sim/host_ram.h). VRAM must at least hold the device page tables:
  // a root, upper levels, and one leaf table per 2 MiB of each buffer.
  const uint64_t tables = 8 + 3 * ((c.workload.pages + 511) / 512 + 2);
  if (c.gpu.vram.capacity_bytes / 4096 < tables)
    ConfigReader(root).child("gpu").child("vram").fail("capacity", "too small for the device page tables");
  return c;
}

}  // namespace hmmsim::sim
