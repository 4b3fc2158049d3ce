#include "sim/cpu_process.h"

#include <cstring>
#include <sstream>
#include <vector>

namespace hmmsim::sim {

using sc_core::sc_time;
using sc_core::SC_NS;

CpuProcess::CpuProcess(sc_core::sc_module_name name, host::AddressSpace& mm, host::GpuDriver& driver,
                       const WorkloadPlan& plan, const WorkloadSpec& spec, double page_access_ns,
                       DataOracle& oracle, Hooks hooks)
    : sc_module(name),
      m_mm(mm),
      m_driver(driver),
      m_plan(plan),
      m_spec(spec),
      m_mem(mm, page_access_ns),
      m_oracle(oracle),
      m_hooks(std::move(hooks)) {
  SC_HAS_PROCESS(CpuProcess);
  SC_THREAD(run);
}

bool CpuProcess::touch(const Buffer& b, uint64_t off, uint8_t* buf, bool write, const char* phase) {
  std::string err;
  if (m_mem.access(b.va + off, buf, 4096, write, err)) return true;
  m_error = std::string(phase) + ", " + b.name + " page " + std::to_string(off / 4096) + ": " + err;
  return false;
}

// The program's meaning, checked from what the CPU reads and not from the
// plan: every word of `out` the GPU wrote is `in` + 1.
void CpuProcess::check_out_page(uint64_t off, const std::vector<uint8_t>& out) {
  if (m_in_copy.size() < off + 4096) return;
  for (uint64_t w = 0; w < 4096; w += 4) {
    uint32_t i, o;
    std::memcpy(&i, &m_in_copy[off + w], 4);
    std::memcpy(&o, &out[w], 4);
    if (o != i + 1) {
      ++s_semantic_errors;
      if (m_error.empty()) {
        std::ostringstream os;
        os << "out[" << (off + w) / 4 << "] = " << o << ", expected in + 1 = " << i + 1;
        m_error = os.str();
      }
      return;
    }
  }
}

void CpuProcess::record(const char* phase, uint64_t start_ps) {
  if (m_trace) m_trace->slice(m_track, phase, start_ps, sc_core::sc_time_stamp().value());
}

void CpuProcess::run() {
  if (m_trace) m_trace->bind_context(sc_core::sc_get_current_process_handle().get_process_object(), m_track);
  body();
  // A failed CPU step ends the run at once (the platform reports it);
  // otherwise sc_stop was called after the readback.
  if (!m_done) sc_core::sc_stop();
}

void CpuProcess::body() {
  std::vector<uint8_t>& page = m_page;  // a member: the run may stop mid-way
  page.assign(4096, 0);
  for (const Buffer& b : m_plan.buffers) {
    if (m_mm.mmap_fixed(b.va, b.bytes, host::kProtRead | host::kProtWrite, host::VmaKind::AnonPrivate) !=
        host::Status::Ok) {
      m_error = std::string("mmap of buffer ") + b.name + " failed";
      return;
    }
    if (b.prefer_host) m_driver.set_preferred_host(b.va, b.va + b.bytes);
  }
  const bool full = m_oracle.mode() == common::DataMode::Full;
  uint64_t t0 = sc_core::sc_time_stamp().value();
  for (const Buffer& b : m_plan.buffers)
    for (uint64_t off = 0; off < b.cpu_init_bytes; off += 4096) {
      if (full) {
        for (uint64_t w = 0; w < 4096; w += 4) {
          const uint32_t v = WorkloadPlan::init_word(b, off + w);
          std::memcpy(&page[w], &v, 4);
        }
      } else {  // tag: a fresh CPU version of the page
        const uint64_t v = common::version_word((0xC0ull << 56) | ++m_cpu_version);
        DataOracle::fill_version(page.data(), b.va + off, 4096, v);
      }
      if (!touch(b, off, page.data(), true, "workload initialisation")) return;
      m_oracle.wrote(b.va + off, page.data(), 4096);
      ++s_pages_written;
    }

  record("CPU write (initialisation)", t0);
  if (!m_hooks.driver_is_ready()) sc_core::wait(m_hooks.driver_ready());
  t0 = sc_core::sc_time_stamp().value();
  m_hooks.launch();
  // Optionally keep touching `in` while the GPU works on it: each touch of a
  // page in VRAM migrates it back, and the GPU faults it in again.
  const Buffer& in = m_plan.buffers[0];
  for (uint32_t k = 0; m_spec.cpu_touch_pages && !m_hooks.kernel_finished(); k = (k + 1) % m_spec.cpu_touch_pages) {
    sc_core::wait(sc_time(m_spec.cpu_touch_interval_ns, SC_NS), m_hooks.kernel_done());
    if (m_hooks.kernel_finished()) break;
    if (!touch(in, uint64_t(k) * 4096, page.data(), false, "CPU touch during the kernel")) return;
    m_oracle.check(in.va + uint64_t(k) * 4096, page.data(), 4096, "cpu touch of in");
    ++s_pages_touched;
  }
  if (!m_hooks.kernel_finished()) sc_core::wait(m_hooks.kernel_done());
  m_hooks.kernel_end();
  record("kernel (launch and wait)", t0);
  t0 = sc_core::sc_time_stamp().value();

  if (m_spec.cpu_readback) {
    for (const Buffer& b : m_plan.buffers)
      for (uint64_t off = 0; off < b.bytes; off += 4096) {
        if (!touch(b, off, page.data(), false, "CPU readback")) return;
        m_oracle.check(b.va + off, page.data(), 4096, std::string("cpu readback of ") + b.name);
        ++s_pages_read;
        // out = in + 1 is a statement about bytes: checkable in full mode only.
        if (!full) continue;
        if (&b == &m_plan.buffers[0]) m_in_copy.insert(m_in_copy.end(), page.begin(), page.end());
        if (&b == &m_plan.buffers[1]) check_out_page(off, page);
      }
  }
  if (m_spec.cpu_readback) record("CPU read (readback)", t0);
  m_done = true;
  sc_core::sc_stop();
}

}  // namespace hmmsim::sim
