#include "workload/formats/trace_formats.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>

#include "workload/accelsim/kernelslist.h"
#include "workload/accelsim/traceg.h"
#include "workload/io/trace_file.h"
#include "workload/native/native_trace.h"
#include "workload/nvbit/nvbit_trace.h"

namespace hmmsim::workload {

namespace {

namespace fs = std::filesystem;

class AccelsimTrace : public OpenTrace {
 public:
  explicit AccelsimTrace(const std::string& path) : m_program(accelsim::load_program(path)) {}
  const std::string& format() const override { return m_name; }
  const TraceProgram& program() const override { return m_program; }
  std::unique_ptr<hw::IKernelSource> open_kernel(size_t command) const override {
    return accelsim::open_traceg(m_program.commands.at(command).kernel_path);
  }

 private:
  std::string m_name = "accelsim";
  TraceProgram m_program;
};

// Native and NVBit number their kernels in order: map command -> kernel.
template <class T>
class IndexedTrace : public OpenTrace {
 public:
  IndexedTrace(std::string name, const std::string& path) : m_name(std::move(name)), m_trace(path) {
    size_t k = 0;
    for (const TraceCommand& c : m_trace.program().commands)
      m_kernel_of.push_back(c.kind == TraceCommand::Kind::Kernel ? k++ : SIZE_MAX);
  }
  const std::string& format() const override { return m_name; }
  const TraceProgram& program() const override { return m_trace.program(); }
  std::unique_ptr<hw::IKernelSource> open_kernel(size_t command) const override {
    return m_trace.open_kernel(m_kernel_of.at(command));
  }

 private:
  std::string m_name;
  T m_trace;
  std::vector<size_t> m_kernel_of;
};

std::string head_of(const std::string& path, size_t n) {
  // Through TraceFile so that an xz-compressed file is judged by its content.
  auto f = TraceFile::open(path);
  std::string s(std::min<uint64_t>(n, f->size()), '\0');
  s.resize(f->pread(s.data(), s.size(), 0));
  return s;
}

}  // namespace

const std::vector<std::string>& trace_formats() {
  static const std::vector<std::string> v{"accelsim", "native", "nvbit"};
  return v;
}

std::string detect_trace_format(const std::string& path) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) return "accelsim";  // a folder holding kernelslist.g
  if (!fs::exists(path, ec)) throw hw::SourceError(path + ": no such file");
  const std::string head = head_of(path, 4096);
  if (head.compare(0, 8, "HMMTRACE") == 0) return "native";
  if (head.find("MEMTRACE:") != std::string::npos || head.compare(0, 4, "CTA ") == 0) return "nvbit";
  if (head.compare(0, 10, "MemcpyHtoD") == 0 || head.compare(0, 6, "kernel") == 0 || head.compare(0, 1, "-") == 0)
    return "accelsim";
  throw hw::SourceError(path + ": not a trace hmmsim knows (expected an Accel-Sim kernelslist.g or .traceg, "
                               "NVBit mem_trace output, or an hmmsim native trace)");
}

std::unique_ptr<OpenTrace> open_trace(const std::string& format, const std::string& path) {
  const std::string f = format == "auto" ? detect_trace_format(path) : format;
  if (f == "accelsim") return std::make_unique<AccelsimTrace>(path);
  if (f == "native") return std::make_unique<IndexedTrace<NativeTrace>>("native", path);
  if (f == "nvbit") return std::make_unique<IndexedTrace<NvbitTrace>>("nvbit", path);
  throw hw::SourceError("unknown trace format '" + format + "' (known: accelsim, native, nvbit, auto)");
}

}  // namespace hmmsim::workload
