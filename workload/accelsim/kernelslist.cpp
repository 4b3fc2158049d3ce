#include "workload/accelsim/kernelslist.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "hw/kernel/kernel_source.h"
#include "workload/io/text.h"
#include "workload/io/trace_file.h"

namespace hmmsim::workload::accelsim {

using namespace hmmsim::workload::text;

namespace {

[[noreturn]] void fail_at(const std::string& file, uint64_t line, const std::string& what) {
  throw hw::SourceError(file + ":" + std::to_string(line) + ": " + what);
}

bool is_dir(const std::string& p) {
  struct stat st {};
  return ::stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "" if `p` is a readable regular file, else why not.
std::string file_problem(const std::string& p) {
  struct stat st {};
  if (::stat(p.c_str(), &st) != 0) return std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "not a regular file";
  return "";
}

std::string folder_of(const std::string& p) {
  size_t slash = p.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

// MemcpyHtoD,0x<dst>,<bytes>[,<memory dump file>] (newer tracers can add
// the dump file, which hmmsim does not need).
bool parse_memcpy(std::string_view t, TraceCommand& c) {
  std::string_view f[5];
  size_t n = 0;
  while (n < 5) {
    size_t comma = t.find(',');
    f[n++] = trim(t.substr(0, comma));
    if (comma == std::string_view::npos) break;
    t = t.substr(comma + 1);
  }
  if (n < 3 || n > 4 || f[0] != "MemcpyHtoD") return false;
  if (!starts_with(f[1], "0x") && !starts_with(f[1], "0X")) return false;
  if (!parse_hex(f[1], c.dst) || !parse_udec(f[2], c.bytes)) return false;
  c.kind = TraceCommand::Kind::MemcpyHtoD;
  return true;
}

}  // namespace

TraceProgram load_program(const std::string& given) {
  TraceProgram prog;
  std::string path = given;
  if (is_dir(path)) path += "/kernelslist.g";
  prog.file = path;

  if (ends_with(path, ".traceg") || ends_with(path, ".traceg.xz")) {
    std::string why = file_problem(path);
    if (!why.empty()) throw hw::SourceError(path + ": cannot open: " + why);
    TraceCommand c;
    c.kind = TraceCommand::Kind::Kernel;
    c.kernel_path = path;
    prog.commands.push_back(std::move(c));
    return prog;
  }

  const std::string dir = folder_of(path);
  LineCursor cur(TraceFile::open(path));
  std::string_view line;
  while (cur.next(line)) {
    const std::string_view t = trim(line);
    const uint64_t ln = cur.line_no();
    if (t.empty()) continue;
    TraceCommand c;
    c.line = ln;
    if (starts_with(t, "Memcpy")) {
      if (!parse_memcpy(t, c)) fail_at(path, ln, "expected MemcpyHtoD,0x<hex dst>,<decimal bytes>, found " + quote(t));
    } else if (starts_with(t, "kernel")) {
      c.kind = TraceCommand::Kind::Kernel;
      c.kernel_path = dir + "/" + std::string(t);
      std::string why = file_problem(c.kernel_path);
      if (!why.empty()) fail_at(path, ln, "kernel file " + c.kernel_path + ": " + why);
    } else {
      fail_at(path, ln, "expected MemcpyHtoD,0x<dst>,<bytes> or a kernel trace name, found " + quote(t));
    }
    prog.commands.push_back(std::move(c));
  }
  return prog;
}

}  // namespace hmmsim::workload::accelsim
