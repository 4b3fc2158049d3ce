#include "sim/kernel_stats.h"

#include <stdexcept>

namespace hmmsim::sim {

namespace {
// The run-wide counters whose change each kernel reports.
const char* const kPaths[] = {
    "gpu.instructions",   "gpu.compute_instructions", "gpu.loads",         "gpu.stores",
    "gpu.atomics",        "gpu.shared_accesses",      "gpu.local_accesses", "gpu.const_accesses",
    "gpu.active_lanes",   "gpu.sectors",              "gpu.lines",          "gpu.pages",
    "gpu.bytes",          "gpu.remote_lines",         "gpu.ctas",           "gpu.warps",
    "gpu.tlb.l1.hits",    "gpu.tlb.l1.misses",        "gpu.tlb.l2.hits",    "gpu.tlb.l2.misses",
    "gpu.fault_stalls",   "gpu.gmmu.walks",           "gpu.gmmu.walk_reads",
    "gpu.gmmu.faults",    "driver.batches",           "driver.faults_serviced", "driver.pages_to_vram",
    "driver.pages_to_sysmem", "driver.pages_mapped_remote", "pcie.down.payload_bytes", "pcie.up.payload_bytes",
    "oracle.checks",      "oracle.mismatches"};
constexpr size_t kNumPaths = sizeof kPaths / sizeof kPaths[0];

// A level that is switched off (gpu.tlb.l2.enabled: false) registers no
// counters: it counted nothing, so its per-kernel change is 0.
double current(const Stats& s, const char* path) {
  try {
    return s.get(path);
  } catch (const std::out_of_range&) {
    return 0;
  }
}
}  // namespace

KernelStats::KernelStats(Stats& stats, std::vector<Kernel> kernels)
    : m_stats(stats),
      m_kernels(std::move(kernels)),
      m_values(m_kernels.size(), std::vector<double>(kNumPaths, 0.0)),
      m_start_ns(m_kernels.size(), 0.0),
      m_time_ns(m_kernels.size(), 0.0),
      m_open(m_kernels.size(), false) {
  for (size_t k = 0; k < m_kernels.size(); ++k) {
    const std::string p = "kernels." + m_kernels[k].label + ".";
    m_stats.value(p + "start_ns", &m_start_ns[k], "simulated time of the launch");
    m_stats.value(p + "time_ns", &m_time_ns[k], "launch to completion of the last CTA");
    for (size_t i = 0; i < kNumPaths; ++i)
      m_stats.value(p + kPaths[i], &m_values[k][i], std::string("change of ") + kPaths[i] + " during this kernel");
  }
}

void KernelStats::begin(size_t k, double now_ns) {
  m_start_ns[k] = now_ns;
  for (size_t i = 0; i < kNumPaths; ++i) m_values[k][i] = current(m_stats, kPaths[i]);
  m_open[k] = true;
  ++m_launched;
}

void KernelStats::end(size_t k, double now_ns) {
  if (!m_open[k]) return;
  m_open[k] = false;
  m_time_ns[k] = now_ns - m_start_ns[k];
  for (size_t i = 0; i < kNumPaths; ++i) m_values[k][i] = current(m_stats, kPaths[i]) - m_values[k][i];
}

void KernelStats::end_open(double now_ns) {
  for (size_t k = 0; k < m_kernels.size(); ++k) end(k, now_ns);
}

double KernelStats::total_time_ns() const {
  double t = 0;
  for (double x : m_time_ns) t += x;
  return t;
}

void KernelStats::annotate(nlohmann::json& j) const {
  for (const Kernel& k : m_kernels) {
    auto& node = j["kernels"][k.label];
    node["name"] = k.name;  // (origin is left out: a replay must give the same file)
  }
}

}  // namespace hmmsim::sim
