// The functional baseline of bench/standard_workloads: the least work that
// translates the same access stream as an hmmsim run, with no timing. It
// decodes a trace (any format hmmsim replays), coalesces each warp's global
// memory instruction into 128-byte lines as the SM does, looks up the page
// of every line in a hash map and counts first touches (a page allocated on
// first use). hmmsim's cost is reported as a ratio to this loop's, both
// measured in one invocation of the script on the same recorded stream.
//
//   build/release/bench/hmm_functional_baseline TRACE [FORMAT]
//
// Prints one JSON object: warp instructions, global memory instructions,
// line accesses, distinct pages (first touches), host seconds of the loop
// (after the trace is opened) and the rates. Exit 2 on a bad trace.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <unordered_map>

#include "hw/kernel/coalescer.h"
#include "hw/kernel/kernel_source.h"
#include "workload/formats/trace_formats.h"

namespace {

using namespace hmmsim;

struct Counts {
  uint64_t instructions = 0, accesses = 0, lines = 0, first_touches = 0, checksum = 0;
};

// A page's entry: where it lives, allocated on first touch.
struct PageEntry {
  uint64_t frame;
};

void drain(hw::IKernelSource& src, std::unordered_map<uint64_t, PageEntry>& pages, Counts& c) {
  hw::CtaWork cta;
  hw::WarpInstr in;
  hw::Coalesced co;
  while (src.next_cta(cta))
    for (auto& w : cta.warps)
      while (w->next(in)) {
        ++c.instructions;
        if (!in.is_global()) continue;
        ++c.accesses;
        hw::coalesce(in, co, false);
        c.lines += co.nlines;
        for (unsigned l = 0; l < co.nlines; ++l) {
          const uint64_t page = co.pages[co.lines[l].page] >> 12;
          auto [it, fresh] = pages.try_emplace(page, PageEntry{c.first_touches});
          c.first_touches += fresh;
          c.checksum += it->second.frame;  // the translation is used
        }
      }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || argc > 3) {
    std::fprintf(stderr, "usage: %s TRACE [FORMAT]  (FORMAT: accelsim, native, nvbit; default: by content)\n", argv[0]);
    return 2;
  }
  const std::string path = argv[1];
  try {
    const std::string format = argc == 3 ? argv[2] : workload::detect_trace_format(path);
    const auto trace = workload::open_trace(format, path);
    std::unordered_map<uint64_t, PageEntry> pages;
    Counts c;
    const auto t0 = std::chrono::steady_clock::now();
    const auto& cmds = trace->program().commands;
    for (size_t k = 0; k < cmds.size(); ++k) {
      if (cmds[k].kind != workload::TraceCommand::Kind::Kernel) continue;
      auto src = trace->open_kernel(k);
      drain(*src, pages, c);
    }
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf(
        "{\"instructions\": %llu, \"accesses\": %llu, \"lines\": %llu, \"pages\": %llu, \"checksum\": %llu, "
        "\"seconds\": %.6f, \"accesses_per_second\": %.0f, \"lines_per_second\": %.0f}\n",
        (unsigned long long)c.instructions, (unsigned long long)c.accesses, (unsigned long long)c.lines,
        (unsigned long long)c.first_touches, (unsigned long long)c.checksum, s, s > 0 ? c.accesses / s : 0.0,
        s > 0 ? c.lines / s : 0.0);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "hmm_functional_baseline: %s: %s\n", path.c_str(), e.what());
    return 2;
  }
}
