#include "sim/kernel_stats.h"

#include <algorithm>
#include <cmath>
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

KernelStats::KernelStats(Stats& stats, std::vector<Kernel> kernels, double clock_mhz)
    : m_stats(stats),
      m_kernels(std::move(kernels)),
      m_values(m_kernels.size(), std::vector<double>(kNumPaths, 0.0)),
      m_clock_mhz(clock_mhz),
      m_start_ns(m_kernels.size(), 0.0),
      m_time_ns(m_kernels.size(), 0.0),
      m_finished(m_kernels.size(), 0.0),
      m_open(m_kernels.size(), false),
      m_begun(m_kernels.size(), false) {
  for (size_t k = 0; k < m_kernels.size(); ++k) {
    const std::string p = "kernels." + m_kernels[k].label + ".";
    m_stats.value(p + "start_ns", &m_start_ns[k], "simulated time of the launch");
    m_stats.value(p + "time_ns", &m_time_ns[k],
                  "launch to completion of the last CTA (to the end of the run if it did not finish)");
    m_stats.value(p + "finished", &m_finished[k],
                  "1: completed; 0: not finished (the run stopped first, time_ns is up to the stop, or never launched)");
    m_stats.derived(p + "cycles", [this, k] { return cycles(m_time_ns[k]); }, "time_ns in GPU cycles (gpu.clock_mhz)");
    m_stats.derived(p + "ipc",
                    [this, k] {
                      const double c = cycles(m_time_ns[k]);
                      return c > 0 ? m_values[k][0] / c : 0.0;  // kPaths[0]: gpu.instructions
                    },
                    "warp instructions per GPU cycle of this kernel, all SMs together (gpu.instructions / cycles)");
    for (size_t i = 0; i < kNumPaths; ++i)
      m_stats.value(p + kPaths[i], &m_values[k][i], std::string("change of ") + kPaths[i] + " during this kernel");
  }
}

void KernelStats::begin(size_t k, double now_ns) {
  m_start_ns[k] = now_ns;
  for (size_t i = 0; i < kNumPaths; ++i) m_values[k][i] = current(m_stats, kPaths[i]);
  m_open[k] = true;
  m_begun[k] = true;
  ++m_launched;
}

void KernelStats::close(size_t k, double now_ns) {
  m_open[k] = false;
  // Never negative (nor, in an unsigned type, wrapped round): a kernel ends
  // at or after its launch.
  m_time_ns[k] = std::max(0.0, now_ns - m_start_ns[k]);
  for (size_t i = 0; i < kNumPaths; ++i) m_values[k][i] = current(m_stats, kPaths[i]) - m_values[k][i];
}

void KernelStats::end(size_t k, double now_ns) {
  if (!m_open[k]) return;
  close(k, now_ns);
  m_finished[k] = 1;
}

void KernelStats::end_open(double now_ns) {
  for (size_t k = 0; k < m_kernels.size(); ++k)
    if (m_open[k]) close(k, now_ns);
}

size_t KernelStats::unfinished() const {
  size_t n = 0;
  for (size_t k = 0; k < m_kernels.size(); ++k) n += m_begun[k] && m_finished[k] == 0;
  return n;
}

double KernelStats::cycles(double ns) const { return std::round(ns * m_clock_mhz / 1000.0); }

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
