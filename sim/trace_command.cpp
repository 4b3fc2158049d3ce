#include "sim/trace_command.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <ostream>

#include "workload/formats/trace_formats.h"
#include "workload/io/kernel_scan.h"
#include "workload/native/native_recorder.h"
#include "workload/native/native_trace.h"

namespace hmmsim::sim {

namespace {

using workload::TraceCommand;

std::string dims(const hw::Dim3& d) {
  return "(" + std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z) + ")";
}

std::string hex(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "0x%llx", static_cast<unsigned long long>(v));
  return b;
}

void info(const workload::OpenTrace& t, std::ostream& out) {
  const auto& cmds = t.program().commands;
  out << t.program().file << ": " << t.format() << " trace, " << cmds.size() << " commands\n";
  size_t k = 0;
  for (size_t c = 0; c < cmds.size(); ++c) {
    if (cmds[c].kind == TraceCommand::Kind::MemcpyHtoD) {
      out << "  MemcpyHtoD " << hex(cmds[c].dst) << " " << cmds[c].bytes << " bytes\n";
      continue;
    }
    auto src = t.open_kernel(c);
    const hw::KernelInfo ki = src->info();
    const workload::KernelSummary s = workload::scan_kernel(*src);
    out << "  kernel " << k++ << ": " << src->info().name << "  grid " << dims(ki.grid) << " block " << dims(ki.block)
        << "\n"
        << "    ctas " << s.ctas << ", warps " << s.warps << ", instructions " << s.instructions << " (compute "
        << s.compute << ")\n"
        << "    global loads " << s.global_loads << ", stores " << s.global_stores << ", atomics " << s.global_atomics
        << "; lane addresses " << s.global_lanes << ", bytes " << s.global_bytes << "\n"
        << "    shared " << s.shared << ", local " << s.local << ", const " << s.constant << "\n"
        << "    distinct 4 KiB pages " << s.pages_4k << ", 2 MiB regions " << s.regions_2m.size() << ":";
    for (uint64_t r : s.regions_2m) out << " " << hex(r);
    out << "\n";
  }
}

void head(const workload::OpenTrace& t, const TraceCommandArgs& a, std::ostream& out) {
  const auto& cmds = t.program().commands;
  size_t k = 0;
  for (size_t c = 0; c < cmds.size(); ++c) {
    if (cmds[c].kind != TraceCommand::Kind::Kernel || k++ != a.kernel) continue;
    auto src = t.open_kernel(c);
    out << "kernel " << a.kernel << ": " << src->info().name << "\n";
    uint64_t shown = 0;
    hw::CtaWork cta;
    while (shown < a.count && src->next_cta(cta)) {
      for (size_t w = 0; w < cta.warps.size() && shown < a.count; ++w) {
        hw::WarpInstr in;
        while (shown < a.count && cta.warps[w]->next(in)) {
          const auto& ops = src->info().opcodes;
          out << "cta " << dims(cta.id) << " warp " << w << "  " << (in.opcode < ops.size() ? ops[in.opcode] : "?")
              << "  " << workload::format_native_instr(in) << "\n";
          ++shown;
        }
      }
    }
    return;
  }
  throw hw::SourceError(t.program().file + ": no kernel " + std::to_string(a.kernel) + " (it has " +
                        std::to_string(k) + ")");
}

// Through the recorder, which builds each kernel's opcode table as the
// instructions go by (Accel-Sim sources name opcodes lazily).
void convert(const workload::OpenTrace& t, const TraceCommandArgs& a, std::ostream& out) {
  const bool text = a.text || std::filesystem::path(a.output).extension() == ".txt";
  const std::string bin = text ? a.output + ".tmp.hmt" : a.output;
  try {
    workload::NativeRecorder rec(bin);
    const auto& cmds = t.program().commands;
    for (size_t c = 0; c < cmds.size(); ++c) {
      if (cmds[c].kind == TraceCommand::Kind::MemcpyHtoD) {
        rec.memcpy_htod(cmds[c].dst, cmds[c].bytes);
        continue;
      }
      auto src = t.open_kernel(c);
      auto through = rec.record(*src);
      hw::CtaWork cta;
      hw::WarpInstr in;
      while (through->next_cta(cta))
        for (auto& w : cta.warps)
          while (w->next(in)) {
          }
      rec.end_kernel();
    }
    rec.close();
    if (text) workload::write_native_text(bin, a.output);
  } catch (...) {
    std::error_code ec;
    std::filesystem::remove(bin, ec);  // no half-written output
    if (text) std::filesystem::remove(a.output, ec);
    throw;
  }
  if (text) std::filesystem::remove(bin);
  out << "wrote " << a.output << " (" << std::filesystem::file_size(a.output) << " bytes, "
      << (text ? "native text" : "native binary") << ")\n";
}

}  // namespace

// The text form of a native trace starts with "hmmtrace <version>".
static bool is_native_text(const std::string& path) {
  std::ifstream f(path);
  std::string word;
  return f >> word && word == "hmmtrace";
}

int trace_command(const TraceCommandArgs& a, std::ostream& out, std::ostream& err) {
  try {
    if (a.action == "convert" && is_native_text(a.input)) {  // text form back to binary
      workload::write_native_binary(a.input, a.output);
      out << "wrote " << a.output << " (" << std::filesystem::file_size(a.output) << " bytes, native binary)\n";
      return 0;
    }
    auto t = workload::open_trace(a.format, a.input);
    if (a.action == "info") info(*t, out);
    else if (a.action == "head") head(*t, a, out);
    else convert(*t, a, out);
    return 0;
  } catch (const hw::SourceError& e) {
    err << "hmmsim: bad input: " << e.what() << "\n";
  } catch (const std::exception& e) {  // e.g. a kernel the native format cannot hold
    err << "hmmsim: cannot " << a.action << " " << a.input << ": " << e.what() << "\n";
  }
  return 2;
}

}  // namespace hmmsim::sim
