#pragma once
// Trace formats chosen by name: "accelsim" (kernelslist.g + .traceg[.xz]),
// "nvbit" (mem_trace text), "native" (hmmsim's own), or "auto", which
// tells them apart by content. Every format yields a TraceProgram and opens
// its kernels as streaming sources.
#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "workload/io/trace_program.h"

namespace hmmsim::workload {

class OpenTrace {
 public:
  virtual ~OpenTrace() = default;
  virtual const std::string& format() const = 0;
  virtual const TraceProgram& program() const = 0;
  // The kernel of program().commands[command] (a Kernel command), opened
  // afresh: each call starts at its first CTA.
  virtual std::unique_ptr<hw::IKernelSource> open_kernel(size_t command) const = 0;
};

// Throws hw::SourceError (missing file, unknown format, bad content).
std::unique_ptr<OpenTrace> open_trace(const std::string& format, const std::string& path);
// "accelsim", "native", "nvbit" (not "auto").
const std::vector<std::string>& trace_formats();
// The format of the file or folder at `path`, by content. Throws SourceError.
std::string detect_trace_format(const std::string& path);

}  // namespace hmmsim::workload
