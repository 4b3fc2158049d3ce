#pragma once
// A host program around GPU kernels (workload.kind: program): its buffers
// (anonymous mmaps the driver mirrors), the steps it takes in order (CPU
// writes and reads, kernel launches, munmap, mprotect, idle time) and CPU
// threads that act on a timeline beside the kernels. ProgramSpec is what
// the config says; Program is the resolved plan (addresses, kernel
// sources), built by build_program(). Plain C++: the SystemC side is
// sim/host_program.
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "sim/config_reader.h"
#include "workload/io/kernel_scan.h"
#include "workload/synthetic/synthetic.h"

namespace hmmsim::sim {

// Where a buffer's pages should live (cudaMemAdvise's preferred location).
enum class Placement : uint8_t {
  Managed,  // first touch decides: the driver's policy migrates on GPU faults
  Host,     // stays in host memory, mapped over PCIe
  Device,   // moved into VRAM before each kernel, as cudaMalloc'd memory is
};
const char* to_string(Placement p);

// Where a config item was written, for errors found after parsing.
struct Origin {
  std::string file;
  int line = 0;
  std::string key;
  [[noreturn]] void fail(const std::string& message) const;
};

struct BufferSpec {
  std::string name;
  uint64_t va = 0;  // 0: placed after the previous buffer, 2 MiB aligned
  uint64_t bytes = 0;
  Placement placement = Placement::Managed;
  bool prefer_device = false;  // preferred_location: device (cudaMemAdvise)
  bool read_mostly = false;    // read_mostly: true (cudaMemAdvise SetReadMostly)
  Origin at;
};

// A byte range of a named buffer; an empty name means every buffer.
struct RangeSpec {
  std::string buffer;
  uint64_t offset = 0, bytes = 0;  // bytes 0: to the end of the buffer
  Origin at;
};

struct KernelStepSpec {
  workload::SyntheticSpec synthetic;  // synthetic.kernel names the generator
  std::string buffer;                 // empty: a buffer of its own (`footprint` bytes)
};

struct TraceStepSpec {
  std::string path, format = "auto";
  Placement placement = Placement::Managed;  // for the buffers derived from it
};

enum class StepKind : uint8_t { CpuWrite, CpuRead, Kernel, Trace, Munmap, Mprotect, Idle };

struct StepSpec {
  StepKind kind = StepKind::Idle;
  RangeSpec range;      // CpuWrite, CpuRead, Munmap, Mprotect
  uint32_t prot = 0;    // Mprotect: host::kProt* bits
  double idle_ns = 0;   // Idle
  KernelStepSpec kernel;
  TraceStepSpec trace;
  Origin at;
};

enum class ThreadOp : uint8_t { Read, Write, Munmap, Mprotect, Madvise };

struct CpuThreadSpec {
  ThreadOp op = ThreadOp::Read;
  RangeSpec range;
  uint32_t prot = 0;   // Mprotect
  uint8_t advice = 0;  // Madvise: host::Advice
  double start_ns = 0, interval_ns = 1000;
  uint64_t count = 1;  // how many times the op runs
  Origin at;
};

struct ProgramSpec {
  uint64_t base_va = 0x7f0000000000ull;
  std::vector<BufferSpec> buffers;
  std::vector<StepSpec> steps;
  std::vector<CpuThreadSpec> threads;
  uint64_t seed = 1;  // run.seed: the synthetic kernels' default seed
};

// Reads workload.{buffers, steps, cpu_threads} (kind: program). Relative
// trace paths resolve against the file that names them.
void parse_program(ConfigReader& r, ProgramSpec& out);

// ---- the resolved program ----

struct ProgramBuffer {
  std::string name;
  uint64_t va = 0, bytes = 0;
  Placement placement = Placement::Managed;
  bool prefer_device = false;  // faults migrate it whatever driver.placement says
  bool read_mostly = false;    // GPU reads make read-only copies in VRAM
};

struct ProgramStep {
  StepKind kind = StepKind::Idle;  // never Trace: traces expand into CpuWrite and Kernel steps
  uint64_t va = 0, bytes = 0;      // CpuWrite, CpuRead, Munmap, Mprotect
  uint32_t prot = 0;
  double idle_ns = 0;
  size_t kernel = 0;               // Kernel: index into Program::kernels
  bool memcpy = false;             // CpuWrite: a trace's MemcpyHtoD (recorded as such)
  std::string what;                // for messages: "step 3 (cpu_read of out)"
};

// Opens a kernel's source afresh (each launch starts at its first CTA).
using KernelOpener = std::function<std::unique_ptr<hw::IKernelSource>()>;

struct ProgramKernel {
  std::string label;  // "k0", "k1", ... (stats keys)
  std::string name;   // the kernel's own name
  std::string origin; // "synthetic random", "accelsim kernel-1.traceg"
  std::vector<uint64_t> device_buffers;  // buffers to move into VRAM first (placement device)
  KernelOpener open;
  bool scanned = false;
  workload::KernelSummary summary;  // for traces (scanned to derive buffers)
};

struct ProgramThread {
  ThreadOp op;
  uint64_t va, bytes;
  uint32_t prot;
  uint8_t advice;
  double start_ns, interval_ns;
  uint64_t count;
  std::string what;
};

struct Program {
  std::vector<ProgramBuffer> buffers;
  std::vector<ProgramStep> steps;
  std::vector<ProgramKernel> kernels;
  std::vector<ProgramThread> threads;
  uint64_t footprint() const;  // bytes of all buffers
};

// Resolves addresses, lays out synthetic kernels' buffers, opens and scans
// traces to derive theirs. Throws ConfigError (a config item that cannot
// work) or hw::SourceError (a bad trace).
Program build_program(const ProgramSpec& spec);

}  // namespace hmmsim::sim
