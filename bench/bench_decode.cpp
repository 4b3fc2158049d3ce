// Decode cost per warp instruction, without the simulator: every source
// drained CTA by CTA, warp by warp, as fast as it can hand instructions out.
// items_per_second is warp instructions (or, for the coalescer, warp memory
// instructions) per host second.
//
//   build/release/bench/hmm_bench                         # all
//   build/release/bench/hmm_bench --benchmark_filter=Decode
//
// The Accel-Sim vectorAdd trace is ../shared/traces/accelsim-vectoradd
// beside the source tree; where it is absent those benchmarks report an
// error and the others run.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>

#include "hw/kernel/coalescer.h"
#include "hw/kernel/kernel_source.h"
#include "workload/formats/trace_formats.h"
#include "workload/io/trace_program.h"
#include "workload/native/native_recorder.h"
#include "workload/native/native_trace.h"
#include "workload/synthetic/synthetic.h"

namespace {

namespace fs = std::filesystem;
using namespace hmmsim;

const std::string kVectorAdd = std::string(HMMSIM_SOURCE_DIR) + "/../shared/traces/accelsim-vectoradd";

// Drains a kernel; returns the warp instructions it handed out.
uint64_t drain(hw::IKernelSource& src) {
  hw::CtaWork cta;
  hw::WarpInstr in;
  uint64_t n = 0;
  while (src.next_cta(cta))
    for (auto& w : cta.warps)
      while (w->next(in)) {
        benchmark::DoNotOptimize(in.addr[0]);
        ++n;
      }
  return n;
}

// A path in the temporary folder, removed when the program ends.
struct TempFile {
  std::string path;
  explicit TempFile(const std::string& stem) {
    path = (fs::temp_directory_path() / (stem + "-" + std::to_string(::getpid()) + ".hmt")).string();
  }
  ~TempFile() {
    std::error_code ec;
    fs::remove(path, ec);
  }
};

// Writes every kernel of `trace` to `path` in the native format, as
// `hmmsim trace convert` does (the recorder builds opcode tables lazily).
void convert_to_native(const workload::OpenTrace& trace, const std::string& path) {
  workload::NativeRecorder rec(path);
  const auto& cmds = trace.program().commands;
  for (size_t c = 0; c < cmds.size(); ++c) {
    if (cmds[c].kind == workload::TraceCommand::Kind::MemcpyHtoD) {
      rec.memcpy_htod(cmds[c].dst, cmds[c].bytes);
      continue;
    }
    auto src = trace.open_kernel(c);
    auto through = rec.record(*src);
    drain(*through);
    rec.end_kernel();
  }
  rec.close();
}

size_t first_kernel(const workload::OpenTrace& t) {
  const auto& cmds = t.program().commands;
  for (size_t c = 0; c < cmds.size(); ++c)
    if (cmds[c].kind == workload::TraceCommand::Kind::Kernel) return c;
  throw std::runtime_error(t.program().file + ": no kernel");
}

// Runs `open()` + drain per iteration; items = instructions.
template <class Open>
void run_source(benchmark::State& state, Open open) {
  uint64_t total = 0, per_kernel = 0;
  for (auto _ : state) {
    auto src = open();
    per_kernel = drain(*src);
    total += per_kernel;
  }
  state.SetItemsProcessed(static_cast<int64_t>(total));
  state.counters["instr_per_kernel"] = static_cast<double>(per_kernel);
}

// ---- (i) the Accel-Sim vectorAdd trace ----

const workload::OpenTrace* vectoradd_accelsim() {
  static std::unique_ptr<workload::OpenTrace> t = [] {
    return fs::exists(kVectorAdd) ? workload::open_trace("accelsim", kVectorAdd) : nullptr;
  }();
  return t.get();
}

void BM_DecodeAccelSimVectorAdd(benchmark::State& state) {
  const workload::OpenTrace* t = vectoradd_accelsim();
  if (!t) {
    state.SkipWithError(("trace absent: " + kVectorAdd).c_str());
    return;
  }
  const size_t k = first_kernel(*t);
  run_source(state, [&] { return t->open_kernel(k); });
  state.counters["file_bytes_per_instr"] =
      static_cast<double>(fs::file_size(t->program().commands[k].kernel_path)) / state.counters["instr_per_kernel"];
}
BENCHMARK(BM_DecodeAccelSimVectorAdd)->Unit(benchmark::kMillisecond);

// ---- (ii) the same trace converted to the native format ----

void BM_DecodeNativeVectorAdd(benchmark::State& state) {
  const workload::OpenTrace* t = vectoradd_accelsim();
  if (!t) {
    state.SkipWithError(("trace absent: " + kVectorAdd).c_str());
    return;
  }
  static TempFile file("hmm_bench-vectoradd");
  static const bool converted = (convert_to_native(*t, file.path), true);
  benchmark::DoNotOptimize(converted);
  run_source(state, [&] { return workload::open_native_kernel(file.path, 0); });
  state.counters["file_bytes_per_instr"] =
      static_cast<double>(fs::file_size(file.path)) / state.counters["instr_per_kernel"];
}
BENCHMARK(BM_DecodeNativeVectorAdd)->Unit(benchmark::kMillisecond);

// ---- (iii) synthetic generators ----
// Argument: passes over the data. With 1 pass each warp has only 8
// instructions, so opening the 8192 warp streams weighs in; with 16 the
// per-instruction cost dominates, as in the long runs of bench/run_bench.

workload::SyntheticSpec synthetic(const std::string& kernel, uint32_t iterations) {
  workload::SyntheticSpec s;
  s.kernel = kernel;
  s.base_va = 0x7f0000000000ull;
  s.footprint = 4u << 20;  // 2^16 warp instructions per pass (one load + one compute per 128 bytes)
  s.iterations = iterations;
  return s;
}

void BM_DecodeSynthetic(benchmark::State& state, const std::string& kernel) {
  const workload::SyntheticSpec spec = synthetic(kernel, static_cast<uint32_t>(state.range(0)));
  run_source(state, [&] { return workload::make_synthetic(spec); });
}
BENCHMARK_CAPTURE(BM_DecodeSynthetic, streaming_read, std::string("streaming_read"))
    ->ArgName("iterations")->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_DecodeSynthetic, random, std::string("random"))
    ->ArgName("iterations")->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);

// The streaming_read stream recorded to the native format and read back:
// what `--replay` costs per instruction against generating it.
void BM_DecodeNativeStreamingRead(benchmark::State& state) {
  const auto iterations = static_cast<uint32_t>(state.range(0));
  static std::map<uint32_t, std::unique_ptr<TempFile>> files;
  std::unique_ptr<TempFile>& file = files[iterations];
  if (!file) {
    file = std::make_unique<TempFile>("hmm_bench-streaming_read-" + std::to_string(iterations));
    workload::NativeRecorder rec(file->path);
    auto src = workload::make_synthetic(synthetic("streaming_read", iterations));
    auto through = rec.record(*src);
    drain(*through);
    rec.end_kernel();
    rec.close();
  }
  run_source(state, [&] { return workload::open_native_kernel(file->path, 0); });
  state.counters["file_bytes_per_instr"] =
      static_cast<double>(fs::file_size(file->path)) / state.counters["instr_per_kernel"];
}
BENCHMARK(BM_DecodeNativeStreamingRead)->ArgName("iterations")->Arg(1)->Arg(16)->Unit(benchmark::kMillisecond);

// ---- the coalescer ----

// A store of 32 active lanes, 4 bytes each: consecutive (one line, one page) or each
// on a page of its own (32 lines, 32 pages).
hw::WarpInstr warp_store(bool scattered) {
  hw::WarpInstr in;
  in.cls = hw::InstrClass::Store;
  in.space = hw::MemSpace::Global;
  in.width = 4;
  in.mask = 0xffffffffu;
  for (unsigned l = 0; l < hw::kWarpSize; ++l)
    in.addr[l] = 0x7f0000000000ull + (scattered ? l * hw::kPageBytes + (l * 40) % 4096 : l * 4);
  return in;
}

void BM_Coalesce(benchmark::State& state) {
  const bool scattered = state.range(0) != 0, enables = state.range(1) != 0;
  const hw::WarpInstr in = warp_store(scattered);
  hw::Coalesced out;
  for (auto _ : state) {
    hw::coalesce(in, out, enables);
    benchmark::DoNotOptimize(out.nlines);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
  state.counters["lines"] = out.nlines;
  state.counters["pages"] = out.npages;
}
BENCHMARK(BM_Coalesce)->ArgNames({"scattered", "enables"})->ArgsProduct({{0, 1}, {0, 1}});

}  // namespace

BENCHMARK_MAIN();
