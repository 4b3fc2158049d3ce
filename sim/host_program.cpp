// sc_spawn (one process per CPU thread of the program) needs this first.
#define SC_INCLUDE_DYNAMIC_PROCESSES

#include "sim/host_program.h"

#include <sstream>

namespace hmmsim::sim {

using sc_core::sc_time;
using sc_core::SC_NS;

HostProgram::HostProgram(sc_core::sc_module_name name, host::AddressSpace& mm, host::GpuDriver& driver,
                         const Program& program, double page_access_ns, DataOracle& oracle, Hooks hooks)
    : sc_module(name),
      threads(program.threads.size()),
      m_mm(mm),
      m_driver(driver),
      m_prog(program),
      m_oracle(oracle),
      m_hooks(std::move(hooks)),
      m_mem(mm, page_access_ns),
      m_thread_pages(program.threads.size(), std::vector<uint8_t>(4096)) {
  SC_HAS_PROCESS(HostProgram);
  SC_THREAD(run);
}

namespace {
const char* step_kind_name(StepKind k) {
  switch (k) {
    case StepKind::CpuWrite: return "CPU write";
    case StepKind::CpuRead: return "CPU read";
    case StepKind::Kernel: return "kernel (launch and wait)";
    case StepKind::Munmap: return "munmap";
    case StepKind::Mprotect: return "mprotect";
    case StepKind::Idle: return "idle";
    default: return "step";
  }
}
const char* thread_op_name(ThreadOp op) {
  switch (op) {
    case ThreadOp::Read: return "CPU read";
    case ThreadOp::Write: return "CPU write";
    case ThreadOp::Munmap: return "munmap";
    case ThreadOp::Mprotect: return "mprotect";
    default: return "madvise";
  }
}
}  // namespace

void HostProgram::set_trace(common::EventTrace* trace) {
  m_trace = trace;
  m_thread_tracks.clear();
  if (!trace) return;
  m_main_track = trace->track("Host", "CPU main thread");
  for (size_t i = 0; i < m_prog.threads.size(); ++i)
    m_thread_tracks.push_back(trace->track("Host", "CPU thread " + std::to_string(i)));
}

void HostProgram::bind_trace_context(common::EventTrace::Track t) {
  if (m_trace) m_trace->bind_context(sc_core::sc_get_current_process_handle().get_process_object(), t);
}

void HostProgram::record(common::EventTrace::Track t, const char* what, const std::string& detail,
                         uint64_t start_ps) {
  if (!m_trace) return;
  m_trace->slice(t, what, start_ps, sc_core::sc_time_stamp().value(),
                 {common::EventTrace::text("step", m_trace->intern(detail))});
}

void HostProgram::fail(const std::string& what, const std::string& why) {
  if (m_error.empty()) m_error = what + ": " + why;
}

void HostProgram::run() {
  bind_trace_context(m_main_track);
  const bool ok = body();
  // Stop at once on failure (the platform reports it); else when the CPU
  // threads are done too.
  while (ok && m_threads_left && m_error.empty()) sc_core::wait(m_thread_done);
  m_done = ok && m_error.empty();
  sc_core::sc_stop();
}

bool HostProgram::body() {
  m_page.assign(4096, 0);
  for (const ProgramBuffer& b : m_prog.buffers) {
    if (m_mm.mmap_fixed(b.va, b.bytes, host::kProtRead | host::kProtWrite, host::VmaKind::AnonPrivate) !=
        host::Status::Ok) {
      fail("mmap of buffer " + b.name, "failed");
      return false;
    }
    if (b.placement == Placement::Host) m_driver.set_preferred_host(b.va, b.va + b.bytes);
    if (b.prefer_device) m_driver.set_preferred_location(b.va, b.va + b.bytes, host::PreferredLocation::Device);
    if (b.read_mostly) m_driver.set_read_mostly(b.va, b.va + b.bytes, true);
  }
  if (!m_hooks.driver_is_ready()) sc_core::wait(m_hooks.driver_ready());
  m_threads_left = m_prog.threads.size();
  for (size_t i = 0; i < m_prog.threads.size(); ++i) sc_core::sc_spawn([this, i] { thread_body(i); });
  for (const ProgramStep& s : m_prog.steps) {
    ++s_steps;
    const uint64_t t0 = sc_core::sc_time_stamp().value();
    switch (s.kind) {
      case StepKind::CpuWrite:
        if (!write_range(s.va, s.bytes, s.what)) return false;
        if (s.memcpy) m_hooks.memcpy(s.va, s.bytes);
        break;
      case StepKind::CpuRead:
        if (!read_range(s.va, s.bytes, s.what)) return false;
        break;
      case StepKind::Kernel:
        if (!kernel(s.kernel)) return false;
        break;
      case StepKind::Munmap:
        if (m_mm.munmap(s.va, s.bytes) != host::Status::Ok) return fail(s.what, "munmap failed"), false;
        m_oracle.forget(s.va, s.bytes);
        break;
      case StepKind::Mprotect:
        if (m_mm.mprotect(s.va, s.bytes, s.prot) != host::Status::Ok) return fail(s.what, "mprotect failed"), false;
        break;
      case StepKind::Idle:
        sc_core::wait(sc_time(s.idle_ns, SC_NS));
        break;
      case StepKind::Trace:
        break;  // expanded by build_program
    }
    record(m_main_track, step_kind_name(s.kind), s.what, t0);
  }
  return true;
}

// A memcpy-like CPU write: every byte of the range gets a fresh version.
bool HostProgram::write_range(uint64_t va, uint64_t bytes, const std::string& who) {
  for (uint64_t a = va; a < va + bytes;) {
    const uint64_t n = std::min<uint64_t>(va + bytes - a, 4096 - (a & 4095));
    DataOracle::fill_version(m_page.data(), a, n, cpu_version());
    std::string err;
    if (!m_mem.access(a, m_page.data(), n, true, err, [&] { m_oracle.wrote(a, m_page.data(), n); }))
      return fail(who, err), false;
    ++s_pages_written;
    a += n;
  }
  return true;
}

bool HostProgram::read_range(uint64_t va, uint64_t bytes, const std::string& who) {
  for (uint64_t a = va; a < va + bytes; a += 4096) {
    std::string err;
    auto check = [&] { m_oracle.check(a, m_page.data(), 4096, "cpu read (" + who + ")"); };
    if (!m_mem.access(a, m_page.data(), 4096, false, err, check)) return fail(who, err), false;
    ++s_pages_read;
  }
  return true;
}

bool HostProgram::kernel(size_t k) {
  const ProgramKernel& pk = m_prog.kernels[k];
  // Device-placed buffers are in VRAM when the kernel starts, as if
  // cudaMalloc'd and copied there.
  for (size_t b : pk.device_buffers) {
    const ProgramBuffer& buf = m_prog.buffers[b];
    s_prefetched_pages += m_driver.prefetch_to_device(buf.va, buf.va + buf.bytes);
  }
  std::unique_ptr<hw::IKernelSource> src;
  try {
    src = pk.open();
  } catch (const hw::SourceError& e) {  // bad input, like a malformed trace: exit 2
    m_input_error = e.what();
    fail("kernel " + pk.label, e.what());
    return false;
  }
  m_hooks.kernel_begin(k);
  m_hooks.launch(*src);
  if (!m_hooks.kernel_finished()) sc_core::wait(m_hooks.kernel_done());
  m_hooks.kernel_end(k);
  ++s_kernels;
  return !m_hooks.stopped();
}

void HostProgram::thread_body(size_t i) {
  const ProgramThread& t = m_prog.threads[i];
  if (m_trace) bind_trace_context(m_thread_tracks[i]);
  sc_core::wait(sc_time(t.start_ns, SC_NS));
  for (uint64_t n = 0; n < t.count && m_error.empty(); ++n) {
    if (!thread_op(i)) {
      sc_core::sc_stop();  // a failed CPU access ends the run; the platform reports it
      break;
    }
    if (n + 1 < t.count) sc_core::wait(sc_time(t.interval_ns, SC_NS));
  }
  if (m_trace) m_trace->unbind_context(sc_core::sc_get_current_process_handle().get_process_object());
  --m_threads_left;
  m_thread_done.notify(sc_core::SC_ZERO_TIME);
}

bool HostProgram::thread_op(size_t i) {
  const ProgramThread& t = m_prog.threads[i];
  ThreadCounters& c = threads[i];
  const uint64_t t0 = sc_core::sc_time_stamp().value();
  // Device PTEs invalidated while the operation ran (its notifier events;
  // other threads acting at the same moment are counted too).
  const uint64_t unmaps = m_driver.stats().s_pages_unmapped;
  bool ok = true;
  std::vector<uint8_t>& page = m_thread_pages[i];
  switch (t.op) {
    case ThreadOp::Read:
    case ThreadOp::Write:
      for (uint64_t a = t.va; ok && a < t.va + t.bytes; a += 4096) {
        std::string err;
        const bool write = t.op == ThreadOp::Write;
        if (write) DataOracle::fill_version(page.data(), a, 4096, cpu_version());
        // Its own doing, exactly: this access finds the page in VRAM and migrates it back.
        c.migrate_to_ram += m_mm.pte(a).kind == host::PteKind::DevicePrivate;
        ok = m_mem.access(a, page.data(), 4096, write, err, [&] {
          if (write)
            m_oracle.wrote(a, page.data(), 4096);
          else
            m_oracle.check(a, page.data(), 4096, t.what);
        });
        if (!ok) {
          fail(t.what, err);
          break;
        }
        ++c.pages;
      }
      break;
    case ThreadOp::Munmap:
      ok = m_mm.munmap(t.va, t.bytes) == host::Status::Ok;
      if (ok) m_oracle.forget(t.va, t.bytes);
      break;
    case ThreadOp::Mprotect:
      ok = m_mm.mprotect(t.va, t.bytes, t.prot) == host::Status::Ok;
      break;
    case ThreadOp::Madvise: {
      const auto advice = static_cast<host::Advice>(t.advice);
      ok = m_mm.madvise(t.va, t.bytes, advice) == host::Status::Ok;
      // Discarded private anonymous memory reads back as zeros.
      if (ok && advice == host::Advice::DontNeed) m_oracle.forget(t.va, t.bytes);
      break;
    }
  }
  if (!ok && m_error.empty()) fail(t.what, "operation failed");
  ++c.ops;
  c.device_unmaps += m_driver.stats().s_pages_unmapped - unmaps;
  if (m_trace) record(m_thread_tracks[i], thread_op_name(t.op), t.what, t0);
  return ok;
}

}  // namespace hmmsim::sim
