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
      m_page_time(page_access_ns, SC_NS),
      m_oracle(oracle),
      m_hooks(std::move(hooks)) {
  SC_HAS_PROCESS(CpuProcess);
  SC_THREAD(run);
}

bool CpuProcess::touch(uint64_t va, uint8_t* buf, bool write) {
  for (int attempt = 0; attempt < 1000; ++attempt) {
    host::Status s = write ? m_mm.cpu_write(va, buf, 4096) : m_mm.cpu_read(va, buf, 4096);
    if (s == host::Status::Ok) {
      sc_core::wait(m_page_time);
      return true;
    }
    if (s != host::Status::Again && s != host::Status::Busy) {
      std::ostringstream os;
      os << "cpu " << (write ? "store" : "load") << " at 0x" << std::hex << va << " failed: " << host::to_string(s);
      m_error = os.str();
      return false;
    }
    ++s_retries;  // page under migration: the CPU would sleep on the migration entry
    sc_core::wait(sc_time(1, sc_core::SC_US));
  }
  m_error = "cpu access never completed (page stuck in migration)";
  return false;
}

void CpuProcess::run() {
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
  for (const Buffer& b : m_plan.buffers)
    for (uint64_t off = 0; off < b.cpu_init_bytes; off += 4096) {
      for (uint64_t w = 0; w < 4096; w += 4) {
        const uint32_t v = WorkloadPlan::init_word(b, off + w);
        std::memcpy(&page[w], &v, 4);
      }
      if (!touch(b.va + off, page.data(), true)) return;
      m_oracle.wrote(b.va + off, page.data(), 4096);
      ++s_pages_written;
    }

  if (!m_hooks.driver_is_ready()) sc_core::wait(m_hooks.driver_ready());
  m_kernel_start = sc_core::sc_time_stamp();
  m_hooks.launch();
  sc_core::wait(m_hooks.kernel_done());
  m_kernel_end = sc_core::sc_time_stamp();

  if (m_spec.cpu_readback)
    for (const Buffer& b : m_plan.buffers)
      for (uint64_t off = 0; off < b.bytes; off += 4096) {
        if (!touch(b.va + off, page.data(), false)) return;
        m_oracle.check(b.va + off, page.data(), 4096, std::string("cpu readback of ") + b.name);
        ++s_pages_read;
      }
  m_done = true;
  sc_core::sc_stop();
}

}  // namespace hmmsim::sim
