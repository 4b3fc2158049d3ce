#pragma once
// What a traced application did, in order: host-to-device copies and kernel
// launches. Every trace format (Accel-Sim kernelslist.g, NVBit, hmmsim's
// own) produces one; the simulator derives the program's buffers and runs
// the kernels from it.
#include <cstdint>
#include <string>
#include <vector>

namespace hmmsim::workload {

struct TraceCommand {
  enum class Kind { MemcpyHtoD, Kernel } kind = Kind::Kernel;
  uint64_t dst = 0, bytes = 0;  // MemcpyHtoD: device address and length
  std::string kernel_path;      // Kernel: the kernel's trace file (resolved path)
  uint64_t line = 0;            // line in the program file (0 = none)
};

struct TraceProgram {
  std::string file;  // the program file as given (or the single kernel file)
  std::vector<TraceCommand> commands;
};

}  // namespace hmmsim::workload
