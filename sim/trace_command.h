#pragma once
// `hmmsim trace info|head|convert`: look into a trace (Accel-Sim, NVBit or
// native) and convert it to hmmsim's native format. Exit codes as for run:
// 0 success, 2 bad input.
#include <iosfwd>
#include <string>

namespace hmmsim::sim {

struct TraceCommandArgs {
  std::string action;  // info, head, convert
  std::string input, output, format = "auto";
  uint64_t count = 20;  // head: instructions to show
  size_t kernel = 0;    // head: which kernel (0-based)
  bool text = false;    // convert: write the text form
};

int trace_command(const TraceCommandArgs& a, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
