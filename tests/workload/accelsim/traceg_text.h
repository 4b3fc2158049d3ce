#pragma once
// Test helpers: hand-written `.traceg` texts and draining a source.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "../io/temp_files.h"
#include "hw/kernel/kernel_source.h"
#include "workload/accelsim/traceg.h"

namespace hmmsim::testing {

constexpr uint64_t kShmemBase = 0x00007f1000000000, kLocalBase = 0x00007f2000000000;

struct HeaderOpts {
  int version = 5;
  bool lineinfo = false;
  bool immediate = true;
  std::string grid = "(1,1,1)", block = "(32,1,1)";
  bool with_grid = true, with_block = true;
};

// A header as the tracer writes it: v3 has no `-enable lineinfo` line and
// no immediate; v4 lists line numbers; v5 (and late v4) ends in immediate.
inline std::string header(const HeaderOpts& o = {}) {
  std::string h = "-kernel name = _Z6kernelPf\n-kernel id = 7\n";
  if (o.with_grid) h += "-grid dim = " + o.grid + "\n";
  if (o.with_block) h += "-block dim = " + o.block + "\n";
  h += "-shmem = 1024\n-nregs = 40\n-binary version = 86\n-cuda stream id = 0\n";
  h += "-shmem base_addr = 0x00007f1000000000\n-local mem base_addr = 0x00007f2000000000\n";
  h += "-nvbit version = 1.7\n-accelsim tracer version = " + std::to_string(o.version) + "\n";
  if (o.version >= 4) h += std::string("-enable lineinfo = ") + (o.lineinfo ? "1" : "0") + "\n";
  h += "-some future key = 12\n\n#traces format = ";
  if (o.version >= 4) h += "[line_num] ";
  h += "PC mask dest_num [reg_dests] opcode src_num [reg_srcs] mem_width [adrrescompress?] [mem_addresses]";
  if (o.immediate) h += " immediate";
  h += "\n\n\n\n";
  return h;
}

// One thread block: warps given as (index, lines).
inline std::string block(const std::string& id, const std::vector<std::pair<int, std::vector<std::string>>>& warps) {
  std::string b = "#BEGIN_TB\n\nthread block = " + id + "\n\n";
  for (const auto& [w, lines] : warps) {
    b += "warp = " + std::to_string(w) + "\ninsts = " + std::to_string(lines.size()) + "\n";
    for (const auto& l : lines) b += l + "\n";
    b += "\n";
  }
  b += "#END_TB\n\n";
  return b;
}

struct Drained {
  std::vector<hw::Dim3> ids;
  std::vector<std::vector<std::vector<hw::WarpInstr>>> ctas;  // [cta][warp][instr]
};

inline Drained drain(hw::IKernelSource& src) {
  Drained d;
  hw::CtaWork cta;
  while (src.next_cta(cta)) {
    d.ids.push_back(cta.id);
    auto& c = d.ctas.emplace_back();
    for (auto& w : cta.warps) {
      auto& v = c.emplace_back();
      hw::WarpInstr in;
      while (w->next(in)) v.push_back(in);
    }
  }
  return d;
}

// The message of the SourceError that opening and draining `path` throws.
inline std::string drain_error(const std::string& path) {
  try {
    workload::accelsim::TracegKernel k(path);
    drain(k);
  } catch (const hw::SourceError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace hmmsim::testing
