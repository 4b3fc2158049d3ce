#include "sim/platform.h"

#include <chrono>
#include <csignal>
#include <cstdio>
#include <functional>
#include <sstream>
#include <stdexcept>

#include "sim/platform_impl.h"
#include "sim/timeline.h"
#include "sim/run_loop.h"
#include "workload/native/native_trace.h"

namespace hmmsim::sim {

namespace {

// --replay: the recorded streams stand in for the kernels, one for one.
void replace_kernels(const std::string& path, const std::vector<KernelOpener*>& opens) {
  auto trace = std::make_shared<workload::NativeTrace>(path);
  if (trace->kernel_count() != opens.size())
    throw hw::SourceError(path + ": the recording holds " + std::to_string(trace->kernel_count()) +
                          " kernels, this program launches " + std::to_string(opens.size()));
  for (size_t k = 0; k < opens.size(); ++k) *opens[k] = [trace, k] { return trace->open_kernel(k); };
}

std::unique_ptr<hw::IKernelSource> legacy_kernel(const SimConfig& c, const WorkloadPlan& plan) {
  if (c.workload.kind == "program") return nullptr;
  if (c.run.replay_path.empty()) return make_vector_update(plan);
  KernelOpener open;
  replace_kernels(c.run.replay_path, {&open});
  return open();
}

Program program_of(const SimConfig& c) {
  if (c.workload.kind != "program") return {};
  Program p = build_program(c.workload.program);
  if (!c.run.replay_path.empty()) {
    std::vector<KernelOpener*> opens;
    for (ProgramKernel& k : p.kernels) opens.push_back(&k.open);
    replace_kernels(c.run.replay_path, opens);
  }
  // Checks that need the resolved buffers (a trace's are known only now);
  // host.ram is watched while the program runs (sim/host_ram.h).
  const uint64_t tables = 8 + 3 * (p.footprint() / (2ull << 20) + 2 * p.buffers.size());
  if (c.gpu.vram.capacity_bytes / 4096 < tables) c.vram_at.fail("too small for the device page tables");
  return p;
}

}  // namespace

Platform::Impl::Impl(const SimConfig& c)
    : cfg(c),
      program(program_of(c)),
      legacy(c.workload.kind != "program"),
      recorder(c.run.record_path.empty() ? nullptr : std::make_unique<workload::NativeRecorder>(c.run.record_path)),
      sys(c.host.ram_bytes >> 12, c.run.data),
      mm_owner(std::make_unique<host::AddressSpace>(sys)),
      mm(*mm_owner),
      plan(plan_workload(c.workload, c.gpu.sms, c.gpu.sm.compute_cycles)),
      kernel(legacy_kernel(c, plan)),
      oracle(c.run.data),
      irq(4),
      root("root_complex", c.host.root, sys.phys, irq),
      link("pcie", c.pcie),
      gpu("gpu", c.gpu),
      bus("driver_bus", c.host.cpu, irq),
      driver(sys, bus, lock, c.driver, c.gpu.vram.capacity_bytes),
      driver_thread("driver", driver, bus, root.msi_address(), [this] { driver.attach(mm); }),
      ram_watch(sys.phys, c.host.ram_bytes,
                HostRamWatch::Probes{&driver_thread, [this] { return driver_thread.is_ready(); },
                                     [this] { return driver.stats().s_evict_no_host_memory; },
                                     [this] { return driver.vram().free_frames() == 0; }}) {
  bus.socket.bind(link.down_target);
  link.down_initiator.bind(gpu.bar_socket);
  gpu.host_socket.bind(link.up_target);
  link.up_initiator.bind(root.socket);
  // In `off` data mode nothing is checked; with no eviction policy that
  // orders by GPU access either, the SMs skip the observer.
  const bool check = c.run.data != common::DataMode::Off;
  if (check || driver.wants_gpu_accesses()) {
    fanout = std::make_unique<AccessFanout>(check ? &oracle : nullptr,
                                            driver.wants_gpu_accesses() ? &driver : nullptr);
    for (unsigned i = 0; i < gpu.sm_count(); ++i) gpu.sm(i).set_observer(fanout.get());
  }
  auto driver_ready = [this]() -> const sc_core::sc_event& { return driver_thread.ready(); };
  auto driver_is_ready = [this] { return driver_thread.is_ready(); };
  auto kernel_done = [this]() -> const sc_core::sc_event& { return gpu.kernel_done(); };
  auto finished = [this] { return gpu.finished(); };
  std::vector<KernelStats::Kernel> kernels;
  if (legacy) {
    kernels.push_back({"k0", "vector_update", "workload.kind vector_update"});
    cpu = std::make_unique<CpuProcess>(
        "cpu", mm, driver, plan, c.workload, c.host.cpu_page_access_ns, oracle,
        CpuProcess::Hooks{driver_ready, driver_is_ready,
                          [this] {
                            kstats->begin(0, now_ns());
                            launch(*kernel);
                          },
                          kernel_done, finished, [this] { kernel_ended(0); }});
  } else {
    for (const ProgramKernel& k : program.kernels) kernels.push_back({k.label, k.name, k.origin});
    prog = std::make_unique<HostProgram>(
        "cpu", mm, driver, program, c.host.cpu_page_access_ns, oracle,
        HostProgram::Hooks{driver_ready, driver_is_ready, [this](hw::IKernelSource& k) { launch(k); },
                           kernel_done, finished, [this] { return !gpu.source_error().empty(); },
                           [this](size_t k) { kstats->begin(k, now_ns()); },
                           [this](size_t k) { kernel_ended(k); },
                           [this](uint64_t dst, uint64_t bytes) {
                             if (recorder) recorder->memcpy_htod(dst, bytes);
                           }});
  }
  kstats = std::make_unique<KernelStats>(stats, std::move(kernels), c.gpu.sm.clock_mhz);
  register_stats();
  add_timeseries_columns();
  attach_trace();
  attach_vcd();
}

void Platform::Impl::attach_trace() {
  if (cfg.run.timeline_max_events == 0) return;
  trace = std::make_unique<common::EventTrace>(cfg.run.timeline_max_events);
  // Made first, so the GPU comes first in the viewer: kernels, then SMs.
  trace->track("GPU", "kernels");
  trace->reserve(kstats->planned());  // recorded at the end: a cut keeps them
  gpu.set_trace(trace.get());
  link.set_trace(trace.get());
  driver.set_trace(trace.get());
  if (cpu) cpu->set_trace(trace.get());
  if (prog) prog->set_trace(trace.get());
}

void Platform::Impl::record_kernels() {
  if (!trace) return;
  const common::EventTrace::Track t = trace->track("GPU", "kernels");
  for (size_t k = 0; k < kstats->planned(); ++k) {
    if (!kstats->begun(k)) continue;
    const auto& kk = kstats->kernel(k);
    const std::string name = kk.label + ": " + kk.name + (kstats->finished(k) ? "" : " (not finished)");
    const uint64_t start = common::EventTrace::ps_of_ns(kstats->start_ns(k));
    trace->reserved_slice(t, trace->intern(name), start, start + common::EventTrace::ps_of_ns(kstats->time_ns(k)));
  }
}

void Platform::Impl::add_timeseries_columns() {
  if (cfg.run.timeseries_epoch_ns <= 0) return;
  series = std::make_unique<TimeSeries>(
      "timeseries", TimeSeriesSpec{cfg.run.timeseries_epoch_ns, cfg.run.timeseries_max_rows, 1000});
  // Changes over each epoch (docs/outputs.md names them).
  const std::pair<const char*, const char*> deltas[] = {
      {"warp_instructions", "gpu.instructions"}, {"accesses", "gpu.accesses"},
      {"faults", "gpu.gmmu.faults"},             {"batches", "driver.batches"},
      {"pages_to_vram", "driver.pages_to_vram"}, {"pages_to_sysmem", "driver.pages_to_sysmem"},
      {"evictions", "driver.evictions"},         {"pages_evicted", "driver.pages_evicted"},
      {"cpu_migrate_backs", "host.migrate_to_ram"}, {"pcie_down_bytes", "pcie.down.payload_bytes"},
      {"pcie_up_bytes", "pcie.up.payload_bytes"}};
  for (const auto& [name, path] : deltas) series->column(name, stats.reader(path), true);
  // Levels at each epoch's end.
  series->column("vram_used_bytes", [this] { return vram_used_bytes(); }, false);
}

double Platform::Impl::vram_used_bytes() const {
  return double(driver.vram().total_frames() - driver.vram().free_frames()) * 4096.0;
}

void Platform::Impl::attach_vcd() {
  if (cfg.run.vcd_signals.empty() || cfg.run.vcd_file.empty()) return;
  std::vector<std::function<double()>> readers;
  for (const std::string& name : cfg.run.vcd_signals) {
    if (name == "vram_used_bytes") {
      readers.push_back([this] { return vram_used_bytes(); });
      continue;
    }
    try {
      readers.push_back(stats.reader(name));
    } catch (const std::out_of_range&) {
      cfg.vcd_at.fail("no counter " + name + " in stats.json: give its path as stats.txt lists it, or vram_used_bytes");
    }
  }
  vcd = std::make_unique<VcdProbe>("vcd", cfg.run.vcd_file, cfg.run.vcd_period_ns);
  for (size_t i = 0; i < readers.size(); ++i) vcd->signal(cfg.run.vcd_signals[i], readers[i]);
}

void Platform::Impl::launch(hw::IKernelSource& k) {
  if (!recorder) return gpu.launch(k);
  recording = recorder->record(k);
  gpu.launch(*recording);
}

void Platform::Impl::kernel_ended(size_t k) {
  kstats->end(k, now_ns());
  if (recorder) recorder->end_kernel();
}

double Platform::Impl::now_ns() { return sc_core::sc_time_stamp().to_seconds() * 1e9; }

bool Platform::Impl::runner_done() const { return legacy ? cpu->done() : prog->done(); }
const std::string& Platform::Impl::runner_error() const { return legacy ? cpu->error() : prog->error(); }

Platform::Platform(const SimConfig& cfg) : m(std::make_unique<Impl>(cfg)) {}
Platform::~Platform() {
  // Teardown runs outside simulated time: the driver must not be asked to
  // touch the device when the process's address space goes away.
  m->driver.detach();
  // The process goes first: its device pages return to the (still alive) driver.
  m->mm_owner.reset();
}
Stats& Platform::stats() { return m->stats; }

bool Platform::has_timeline() const { return m->trace != nullptr; }

bool Platform::write_timeline(const std::string& config, const std::string& version, std::ostream& out) const {
  if (!m->trace) return false;
  write_timeline_json(*m->trace, TimelineInfo{config, version, m->sim_ns}, out);
  return true;
}

RunResult Platform::run() {
  RunResult r;
  const std::function<RunProgress()> progress = [this] {
    RunProgress p;
    p.kernels_done = m->kstats->launched() - (m->gpu.finished() ? 0 : 1);
    if (m->kstats->launched() == 0) p.kernels_done = 0;
    p.kernels_planned = m->kstats->planned();
    p.ctas_dispatched = m->gpu.ctas_dispatched();
    p.grid_ctas = m->gpu.grid_ctas();
    p.warp_instructions = static_cast<uint64_t>(m->stats.get("gpu.instructions"));
    return p;
  };
  const auto wall0 = std::chrono::steady_clock::now();
  r.signal = run_sliced(m->cfg.run.max_sim_time_ns, m->cfg.run.progress ? &progress : nullptr).signal;
  r.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0).count();
  m->sim_ns = sc_core::sc_time_stamp().to_seconds() * 1e9;
  m->kstats->end_open(m->sim_ns);
  m->record_kernels();
  if (m->vcd) m->vcd->close();
  m->kernel_ns = m->kstats->total_time_ns();
  if (m->recorder) {
    try {
      m->recorder->close();
    } catch (const std::exception& e) {
      r.problems.push_back(std::string("--record: ") + e.what());
    }
  }
  // Host RAM ran out: that is the run's failure, and the failed CPU access
  // or driver initialisation it caused says nothing more.
  const bool oom = m->ram_watch.exhausted();
  if (oom) r.problems.push_back(r.fatal = m->ram_watch.message(m->runner_error()));
  const bool init_failed = m->driver_thread.init_status() != host::Status::Ok;
  if (init_failed && !m->ram_watch.at_driver_init())
    r.problems.push_back(std::string("driver init failed: ") + host::to_string(m->driver_thread.init_status()));
  if (!m->runner_error().empty() && !oom) r.problems.push_back(m->runner_error());
  r.incomplete = !m->runner_done();
  if (r.signal) {
    char at[64];
    std::snprintf(at, sizeof at, " at %.3f us simulated", m->sim_ns / 1000.0);
    r.problems.push_back(std::string("stopped by ") + (r.signal == SIGINT ? "SIGINT" : "SIGTERM") + at +
                         ": the outputs are partial");
  }
  // A stop for a reason already given (out of memory, no driver, a signal) is no hang.
  if (!m->runner_done() && m->runner_error().empty() && m->gpu.source_error().empty() && !oom && !init_failed &&
      !r.signal) {
    std::ostringstream os;
    os << (sc_core::sc_pending_activity() ? "watchdog: run exceeded run.max_sim_time"
                                          : "deadlock: no activity left")
       << " at " << m->sim_ns << " ns (kernel " << (m->gpu.finished() ? "finished" : "not finished") << ")";
    r.problems.push_back(os.str());
  }
  if (!m->gpu.source_error().empty()) r.input_error = m->gpu.source_error();
  if (!m->legacy && !m->prog->input_error().empty()) r.input_error = m->prog->input_error();
  if (!r.input_error.empty() && m->gpu.source_error() == r.input_error)
    r.problems.push_back("bad input: " + r.input_error);
  for (auto& msg : m->oracle.messages()) r.problems.push_back(msg);
  for (const auto& e : m->error_counters())
    if (*e.value) r.problems.push_back(std::to_string(*e.value) + " " + e.desc + " (errors." + e.name + ")");
  if (m->oracle.s_mismatches > m->oracle.messages().size())
    r.problems.push_back(std::to_string(m->oracle.s_mismatches) + " data mismatches in all");
  r.exit_code = !r.input_error.empty() ? 2 : r.problems.empty() ? 0 : 1;
  if (r.signal) r.exit_code = 128 + r.signal;  // as a shell reports a process a signal ended
  r.stats = m->stats.to_json();
  r.stats["sim"]["partial"] = r.signal != 0;  // stopped by a signal: figures up to the stop
  r.stats["units"] = m->stats.units();
  r.stats["units"]["sim.partial"] = "flag";
  m->kstats->annotate(r.stats);
  r.summary = m->summary(r);
  {
    // Host figures vary from run to run: stdout only, not summary.txt.
    char buf[256];
    const double instr = m->stats.get("gpu.instructions");
    std::snprintf(buf, sizeof buf,
                  "  host                %.3f s wall, %.3f M warp instructions/s, %.3f ms simulated per host second\n",
                  r.wall_s, r.wall_s > 0 ? instr / r.wall_s / 1e6 : 0.0, r.wall_s > 0 ? m->sim_ns / 1e6 / r.wall_s : 0.0);
    r.host_line = buf;
  }
  if (m->series) r.timeseries = m->series->csv(m->sim_ns);
  return r;
}

std::string Platform::Impl::summary(const RunResult& r) {
  const host::DriverStats& d = driver.stats();
  auto us = [](double ns) { return ns / 1000.0; };
  // A kernel the run stopped in counts up to the stop, and says so.
  std::string unfinished;
  if (const size_t n = kstats->unfinished())
    unfinished = kstats->launched() == 1 ? ", not finished: up to the stop"
                                         : ", " + std::to_string(n) + " not finished: up to the stop";
  const double cycles = stats.get("gpu.cycles");
  char buf[2048];
  std::snprintf(
      buf, sizeof buf,
      "hmmsim: %s\n"
      "  simulated time      %.3f us (kernel %.3f us%s)\n"
      "  GPU                 %zu kernels, %llu warp instructions, %.0f cycles at %g MHz (%.3f warp instructions/cycle)\n"
      "  GPU accesses        %llu (L1 TLB hits %llu, misses %llu, walks %llu)\n"
      "  faults              %llu entries, %llu batches, %llu pages serviced, %llu fatal\n"
      "  migrated            %llu pages to VRAM, %llu back to system memory, %llu mapped remote\n"
      "  PCIe payload        %.1f KiB down, %.1f KiB up\n",
      cfg.source.c_str(), us(sim_ns), us(kernel_ns), unfinished.c_str(), kstats->launched(),
      (unsigned long long)stats.get("gpu.instructions"), cycles, cfg.gpu.sm.clock_mhz, stats.get("gpu.ipc"),
      (unsigned long long)stats.get("gpu.accesses"), (unsigned long long)stats.get("gpu.tlb.l1.hits"),
      (unsigned long long)stats.get("gpu.tlb.l1.misses"), (unsigned long long)gpu.gmmu().path().walker().s_walks,
      (unsigned long long)d.s_faults_fetched, (unsigned long long)d.s_batches,
      (unsigned long long)d.s_faults_serviced, (unsigned long long)d.s_faults_fatal,
      (unsigned long long)d.s_pages_to_vram, (unsigned long long)d.s_pages_to_sysmem,
      (unsigned long long)d.s_pages_mapped_remote, link.down.s_payload_bytes / 1024.0,
      link.up.s_payload_bytes / 1024.0);
  std::string out = buf;
  out += summary_details();
  std::snprintf(buf, sizeof buf,
                "  data checks         %llu loads checked, %llu mismatches\n"
                "  result              %s\n",
                (unsigned long long)oracle.s_checks, (unsigned long long)oracle.s_mismatches,
                r.exit_code == 0 ? "PASS" : "FAIL");
  out += buf;
  for (auto& p : r.problems) out += "  problem: " + p + "\n";
  return out;
}

std::string Platform::Impl::summary_details() {
  auto has = [this](const std::string& path) {
    try {
      stats.get(path);
      return true;
    } catch (const std::out_of_range&) {
      return false;
    }
  };
  auto pct = [](double part, double whole) { return whole > 0 ? 100.0 * part / whole : 0.0; };
  std::string out;
  char buf[512];
  // Phases: before the first kernel, each kernel, and the rest (host steps,
  // CPU readback, idle). Kernels of a program run one after another.
  if (kstats->launched()) {
    const double setup = kstats->start_ns(0);
    double kernels = 0;
    std::string list;
    for (size_t k = 0; k < kstats->launched(); ++k) {
      kernels += kstats->time_ns(k);
      if (k < 4) {
        std::snprintf(buf, sizeof buf, ", k%zu %.3f us", k, kstats->time_ns(k) / 1000.0);
        list += buf;
      }
    }
    if (kstats->launched() > 4) list += ", ...";
    std::snprintf(buf, sizeof buf, "  phases              setup %.3f us%s, host steps and idle %.3f us\n", setup / 1000.0,
                  list.c_str(), std::max(0.0, sim_ns - setup - kernels) / 1000.0);
    out += buf;
  }
  const double l1h = stats.get("gpu.tlb.l1.hits"), l1m = stats.get("gpu.tlb.l1.misses");
  std::snprintf(buf, sizeof buf, "  TLB hit rates       L1 %.1f %%", pct(l1h, l1h + l1m));
  out += buf;
  for (const char* lv : {"l15", "l2"}) {
    const std::string base = std::string("gpu.tlb.") + lv;
    if (!has(base + ".hits")) continue;
    const double h = stats.get(base + ".hits"), m = stats.get(base + ".misses");
    std::snprintf(buf, sizeof buf, ", %s %.1f %% of its lookups", lv[1] == '1' ? "L1.5" : "L2", pct(h, h + m));
    out += buf;
  }
  out += "\n";
  const host::DriverStats& d = driver.stats();
  std::snprintf(buf, sizeof buf, "  evicted             %llu pages in %llu evictions; %llu read copies made\n",
                (unsigned long long)d.s_pages_evicted, (unsigned long long)d.s_evictions,
                (unsigned long long)d.s_dup_pages);
  out += buf;
  std::snprintf(buf, sizeof buf, "  PCIe utilisation    down %.2f %%, up %.2f %% of the simulated time\n",
                100 * stats.get("pcie.down.utilisation"), 100 * stats.get("pcie.up.utilisation"));
  out += buf;
  if (stats.get("gpu.gmmu.fault_latency_ns.count") > 0) {
    std::snprintf(buf, sizeof buf, "  fault latency       p50 %.3f us, p99 %.3f us (fault entry to its replay)\n",
                  stats.get("gpu.gmmu.fault_latency_ns.p50") / 1000.0,
                  stats.get("gpu.gmmu.fault_latency_ns.p99") / 1000.0);
    out += buf;
  }
  return out;
}

}  // namespace hmmsim::sim
