// The text form of a native trace: one line per record, CTA, warp and
// instruction, with the counts the binary needs up front. Example:
//
//   hmmtrace 1
//   memcpy_htod 0x7f0000000000 4096
//   kernel ctas=1 grid=1,1,1 block=64,1,1 shmem=0 nregs=16 shmem_base=0x0 local_base=0x0 opcodes=2
//   name vecadd(float*, int)
//   opcode 0
//   opcode 1 LDG.E
//   cta 0,0,0 warps=2
//   warp 0 instrs=1
//   load global w4 pc=0x10 op=1 mask=0xffffffff dst=R2 src=R4,UR1 addr=0x7f0000000000+4
//   warp 1 instrs=0
//   end
//
// Instruction lines: <compute|load|store|atomic> <global|shared|local|const>
// w<width bytes> pc= op= mask= [dst=] [src=] [value=<value>:<stride>]
// [addr=<first>+<stride>|<first>-<stride>|<a>,<b>,...] where addr lists
// the active lanes' addresses (uniform ones as first lane + signed per-lane
// stride); memory instructions with active lanes need it, others must not
// have it. Blank lines and lines starting with '#' are ignored. Names are
// the rest of their line, with '\' and control bytes escaped as \\ and \xHH.
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string_view>

#include "workload/native/native_source.h"
#include "workload/native/native_trace.h"

namespace hmmsim::workload {

using namespace native;

namespace {

const char* const kClass[] = {"compute", "load", "store", "atomic"};
const char* const kSpace[] = {"global", "shared", "local", "const"};

std::string escape(const std::string& s) {
  std::string out;
  for (unsigned char ch : s) {
    if (ch == '\\') {
      out += "\\\\";
    } else if (ch < 0x20 || ch == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", ch);
      out += buf;
    } else {
      out.push_back(static_cast<char>(ch));
    }
  }
  return out;
}

std::string reg_name(uint16_t r) {
  return r >= hw::kUniformRegBase ? "UR" + std::to_string(r - hw::kUniformRegBase) : "R" + std::to_string(r);
}

}  // namespace

std::string format_native_instr(const hw::WarpInstr& in) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%s %s w%u pc=0x%x op=%u mask=0x%08x", kClass[static_cast<unsigned>(in.cls)],
                kSpace[static_cast<unsigned>(in.space)], in.width, in.pc, in.opcode, in.mask);
  std::string s = buf;
  for (int k = 0; k < 2; ++k) {
    unsigned n = k == 0 ? in.ndst : in.nsrc;
    const uint16_t* r = k == 0 ? in.dst : in.src;
    if (n == 0) continue;
    s += k == 0 ? " dst=" : " src=";
    for (unsigned i = 0; i < n; ++i) s += (i ? "," : "") + reg_name(r[i]);
  }
  if (in.has_value) {
    std::snprintf(buf, sizeof buf, " value=0x%x:0x%x", in.value, in.stride);
    s += buf;
  }
  if (in.is_memory() && in.mask != 0) {
    unsigned l0 = static_cast<unsigned>(__builtin_ctz(in.mask));
    s += " addr=" + hex(in.addr[l0]);
    int64_t stride;
    if (uniform_stride(in, stride)) {
      // The magnitude as unsigned: the most negative stride has no positive int64.
      uint64_t mag = stride < 0 ? 0 - static_cast<uint64_t>(stride) : static_cast<uint64_t>(stride);
      s += (stride < 0 ? "-" : "+") + std::to_string(mag);
    } else {
      for (unsigned l = l0 + 1; l < hw::kWarpSize; ++l)
        if (in.mask >> l & 1) s += "," + hex(in.addr[l]);
    }
  }
  return s;
}

namespace {

// A FILE* that reports write errors as SourceError.
class TextOut {
 public:
  explicit TextOut(const std::string& path) : m_path(path), m_f(std::fopen(path.c_str(), "w")) {
    if (!m_f) throw hw::SourceError(path + ": cannot create: " + std::strerror(errno));
  }
  ~TextOut() {
    if (m_f) std::fclose(m_f);
  }
  void line(const std::string& s) {
    if (std::fwrite(s.data(), 1, s.size(), m_f) != s.size() || std::fputc('\n', m_f) == EOF) fail();
  }
  void close() {
    FILE* f = m_f;
    m_f = nullptr;
    if (std::fclose(f) != 0) fail();
  }

 private:
  [[noreturn]] void fail() { throw hw::SourceError(m_path + ": cannot write: " + std::strerror(errno)); }
  std::string m_path;
  FILE* m_f;
};

std::string dims(const hw::Dim3& d) {
  return std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z);
}

// ----------------------------------------------------------- text parsing

class TextIn {
 public:
  explicit TextIn(const std::string& path) : m_lines(TraceFile::open(path)), m_path(path) {}

  // The next line that is not blank or a comment; false at the end.
  bool next() {
    while (m_lines.next(m_line)) {
      size_t i = m_line.find_first_not_of(" \t");
      if (i == std::string_view::npos || m_line[i] == '#') continue;
      return true;
    }
    m_line = {};
    return false;
  }
  void need(const char* what) {
    if (!next()) fail(std::string("expected ") + what + ", found the end of the file");
  }
  std::string_view line() const { return m_line; }
  [[noreturn]] void fail(const std::string& what) const {
    throw hw::SourceError(m_path + ":" + std::to_string(m_lines.line_no()) + ": " + what);
  }

  // The line's words, split at spaces.
  std::vector<std::string_view> words() const {
    std::vector<std::string_view> w;
    size_t i = 0;
    while (i < m_line.size()) {
      size_t j = m_line.find(' ', i);
      if (j == std::string_view::npos) j = m_line.size();
      if (j > i) w.push_back(m_line.substr(i, j - i));
      i = j + 1;
    }
    return w;
  }

  uint64_t number(std::string_view s, const char* what, uint64_t max = UINT64_MAX) const {
    const std::string_view text = s;
    bool is_hex = s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    if (is_hex) s.remove_prefix(2);
    unsigned base = is_hex ? 16 : 10;
    uint64_t v = 0;
    bool ok = !s.empty();
    for (char ch : s) {
      unsigned d;
      if (ch >= '0' && ch <= '9') d = static_cast<unsigned>(ch - '0');
      else if (is_hex && ch >= 'a' && ch <= 'f') d = static_cast<unsigned>(ch - 'a' + 10);
      else if (is_hex && ch >= 'A' && ch <= 'F') d = static_cast<unsigned>(ch - 'A' + 10);
      else { ok = false; break; }
      if (v > (UINT64_MAX - d) / base) { ok = false; break; }
      v = v * base + d;
    }
    if (!ok) fail(std::string("expected ") + what + ", found '" + std::string(text) + "'");
    if (v > max)
      fail(std::string("expected ") + what + " (at most " + std::to_string(max) + "), found '" + std::string(text) + "'");
    return v;
  }

  hw::Dim3 dim3(std::string_view s, const char* what) const {
    hw::Dim3 d;
    uint32_t* f[3] = {&d.x, &d.y, &d.z};
    for (int i = 0; i < 3; ++i) {
      size_t c = i < 2 ? s.find(',') : s.size();
      if (c == std::string_view::npos) fail(std::string("expected ") + what + " as x,y,z");
      *f[i] = static_cast<uint32_t>(number(s.substr(0, c), what, UINT32_MAX));
      s.remove_prefix(i < 2 ? c + 1 : c);
    }
    return d;
  }

  // "key=value" with the expected key.
  std::string_view field(std::string_view word, const char* key) const {
    size_t n = std::strlen(key);
    if (word.size() <= n || word.substr(0, n) != key || word[n] != '=')
      fail(std::string("expected ") + key + "=..., found '" + std::string(word) + "'");
    return word.substr(n + 1);
  }

  // The rest of the line after `word` (a view into it) and one space,
  // unescaped.
  std::string rest_after(std::string_view word) const {
    size_t pos = static_cast<size_t>(word.data() + word.size() - m_line.data());
    std::string_view r = pos < m_line.size() ? m_line.substr(pos + 1) : std::string_view();
    std::string out;
    for (size_t i = 0; i < r.size(); ++i) {
      if (r[i] != '\\') {
        out.push_back(r[i]);
      } else if (i + 1 < r.size() && r[i + 1] == '\\') {
        out.push_back('\\');
        ++i;
      } else if (i + 3 < r.size() && r[i + 1] == 'x') {
        out.push_back(static_cast<char>(number("0x" + std::string(r.substr(i + 2, 2)), "an escape \\xHH", 0xFF)));
        i += 3;
      } else {
        fail("invalid escape in name");
      }
    }
    return out;
  }

  uint64_t line_no() const { return m_lines.line_no(); }

 private:
  LineCursor m_lines;
  std::string m_path;
  std::string_view m_line;
};

uint16_t parse_reg(const TextIn& t, std::string_view s) {
  if (s.size() > 2 && s.substr(0, 2) == "UR")
    return static_cast<uint16_t>(hw::kUniformRegBase + t.number(s.substr(2), "a register UR0..UR63", 63));
  if (s.size() > 1 && s[0] == 'R') return static_cast<uint16_t>(t.number(s.substr(1), "a register R0..R255", 255));
  t.fail("expected a register (R<n> or UR<n>), found '" + std::string(s) + "'");
}

template <size_t N>
unsigned pick(const TextIn& t, std::string_view w, const char* const (&names)[N], const char* what) {
  for (unsigned i = 0; i < N; ++i)
    if (w == names[i]) return i;
  t.fail(std::string("expected ") + what + ", found '" + std::string(w) + "'");
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  for (;;) {
    size_t i = s.find(sep);
    out.push_back(s.substr(0, i));
    if (i == std::string_view::npos) return out;
    s.remove_prefix(i + 1);
  }
}

void parse_addrs(const TextIn& t, std::string_view v, hw::WarpInstr& in) {
  int active = __builtin_popcount(in.mask);
  unsigned l0 = static_cast<unsigned>(__builtin_ctz(in.mask));
  size_t sign = v.find_first_of("+-");
  if (sign != std::string_view::npos) {
    in.addr[l0] = t.number(v.substr(0, sign), "a hex address");
    uint64_t mag = t.number(v.substr(sign + 1), "an address stride");
    uint64_t stride = v[sign] == '-' ? 0 - mag : mag;
    for (unsigned l = l0; l < hw::kWarpSize; ++l)
      if (in.mask >> l & 1) in.addr[l] = in.addr[l0] + static_cast<uint64_t>(l - l0) * stride;
    return;
  }
  std::vector<std::string_view> a = split(v, ',');
  if (static_cast<int>(a.size()) != active)
    t.fail(std::to_string(a.size()) + " addresses for a mask with " + std::to_string(active) + " active lanes");
  size_t k = 0;
  for (unsigned l = 0; l < hw::kWarpSize; ++l)
    if (in.mask >> l & 1) in.addr[l] = t.number(a[k++], "a hex address");
}

hw::WarpInstr parse_instr(const TextIn& t, size_t opcodes) {
  std::vector<std::string_view> w = t.words();
  hw::WarpInstr in;
  in.cls = static_cast<hw::InstrClass>(pick(t, w[0], kClass, "an instruction class"));
  if (w.size() < 3) t.fail("expected an instruction: <class> <space> w<width> pc= op= mask= ...");
  in.space = static_cast<hw::MemSpace>(pick(t, w[1], kSpace, "a memory space"));
  if (w[2].size() < 2 || w[2][0] != 'w') t.fail("expected w<width>, found '" + std::string(w[2]) + "'");
  in.width = static_cast<uint8_t>(t.number(w[2].substr(1), "a width in bytes", 255));
  std::string seen;
  std::string_view addr;
  for (size_t i = 3; i < w.size(); ++i) {
    size_t eq = w[i].find('=');
    if (eq == std::string_view::npos) t.fail("unexpected '" + std::string(w[i]) + "'");
    std::string key(w[i].substr(0, eq));
    std::string_view v = w[i].substr(eq + 1);
    if (seen.find(" " + key + " ") != std::string::npos) t.fail("duplicate " + key + "=");
    seen += " " + key + " ";
    if (key == "pc") {
      in.pc = static_cast<uint32_t>(t.number(v, "a pc", UINT32_MAX));
    } else if (key == "op") {
      in.opcode = static_cast<uint16_t>(t.number(v, "an opcode index", 0xFFFF));
      if (in.opcode >= opcodes) t.fail("opcode " + std::to_string(in.opcode) + " not in the kernel's opcode table");
    } else if (key == "mask") {
      in.mask = static_cast<uint32_t>(t.number(v, "a lane mask", UINT32_MAX));
    } else if (key == "dst" || key == "src") {
      std::vector<std::string_view> regs = split(v, ',');
      size_t max = key == "dst" ? hw::kMaxDst : hw::kMaxSrc;
      if (regs.size() > max) t.fail("more than " + std::to_string(max) + " " + key + " registers");
      for (size_t k = 0; k < regs.size(); ++k) (key == "dst" ? in.dst : in.src)[k] = parse_reg(t, regs[k]);
      (key == "dst" ? in.ndst : in.nsrc) = static_cast<uint8_t>(regs.size());
    } else if (key == "value") {
      std::vector<std::string_view> p = split(v, ':');
      if (p.size() != 2) t.fail("expected value=<value>:<stride>");
      in.has_value = true;
      in.value = static_cast<uint32_t>(t.number(p[0], "a 32-bit value", UINT32_MAX));
      in.stride = static_cast<uint32_t>(t.number(p[1], "a 32-bit value stride", UINT32_MAX));
    } else if (key == "addr") {
      addr = v;
    } else {
      t.fail("unexpected '" + std::string(w[i]) + "'");
    }
  }
  for (const char* k : {"pc", "op", "mask"})
    if (seen.find(std::string(" ") + k + " ") == std::string::npos) t.fail(std::string("expected ") + k + "=");
  bool active = in.is_memory() && in.mask != 0;
  if (active && addr.data() == nullptr) t.fail("expected addr= for the active lanes");
  if (!active && addr.data() != nullptr) t.fail("addr= on an instruction without active memory lanes");
  if (active) parse_addrs(t, addr, in);
  return in;
}

void parse_kernel(TextIn& t, NativeWriter& out) {
  std::vector<std::string_view> w = t.words();
  const char* const keys[] = {"ctas", "grid", "block", "shmem", "nregs", "shmem_base", "local_base", "opcodes"};
  if (w.size() != 9) t.fail("expected kernel ctas= grid= block= shmem= nregs= shmem_base= local_base= opcodes=");
  std::string_view v[8];
  for (int i = 0; i < 8; ++i) v[i] = t.field(w[i + 1], keys[i]);
  hw::KernelInfo info;
  uint64_t ctas = t.number(v[0], "a CTA count");
  info.grid = t.dim3(v[1], "grid dimensions");
  info.block = t.dim3(v[2], "block dimensions");
  info.shmem_bytes = static_cast<uint32_t>(t.number(v[3], "a shared memory size", UINT32_MAX));
  info.nregs = static_cast<uint32_t>(t.number(v[4], "a register count", UINT32_MAX));
  info.shmem_base = t.number(v[5], "a shared window base");
  info.local_base = t.number(v[6], "a local window base");
  uint64_t nops = t.number(v[7], "an opcode count", 0xFFFF + 1);
  std::string bad = check_kernel_info(info);
  if (!bad.empty()) t.fail(bad);
  t.need("name <kernel name>");
  std::vector<std::string_view> nw = t.words();
  if (nw[0] != "name") t.fail("expected name <kernel name>");
  info.name = t.rest_after(nw[0]);
  info.opcodes.clear();
  for (uint64_t i = 0; i < nops; ++i) {
    t.need("an opcode line");
    std::vector<std::string_view> ow = t.words();
    if (ow.size() < 2 || ow[0] != "opcode" || t.number(ow[1], "an opcode index") != i)
      t.fail("expected opcode " + std::to_string(i) + " <name>");
    info.opcodes.push_back(t.rest_after(ow[1]));
  }
  out.begin_kernel(info, ctas);
  for (uint64_t c = 0; c < ctas; ++c) {
    t.need("a cta line");
    std::vector<std::string_view> cw = t.words();
    if (cw.size() != 3 || cw[0] != "cta") t.fail("expected cta x,y,z warps=<n>");
    hw::Dim3 id = t.dim3(cw[1], "a CTA id");
    uint64_t warps = t.number(t.field(cw[2], "warps"), "a warp count", info.warps_per_cta());
    out.begin_cta(id, static_cast<unsigned>(warps));
    for (uint64_t i = 0; i < warps; ++i) {
      t.need("a warp line");
      std::vector<std::string_view> ww = t.words();
      if (ww.size() != 3 || ww[0] != "warp" || t.number(ww[1], "a warp index") != i)
        t.fail("expected warp " + std::to_string(i) + " instrs=<n>");
      uint64_t n = t.number(t.field(ww[2], "instrs"), "an instruction count");
      for (uint64_t k = 0; k < n; ++k) {
        t.need("an instruction line");
        out.add(static_cast<unsigned>(i), parse_instr(t, info.opcodes.size()));
      }
    }
    out.end_cta();
  }
  out.end_kernel();
}

}  // namespace

void write_native_text(const std::string& binary_path, const std::string& text_path) {
  NativeTrace trace(binary_path);
  TextOut out(text_path);
  out.line("hmmtrace " + std::to_string(kVersion));
  size_t kernel = 0;
  for (const TraceCommand& cmd : trace.program().commands) {
    if (cmd.kind == TraceCommand::Kind::MemcpyHtoD) {
      out.line("memcpy_htod " + hex(cmd.dst) + " " + std::to_string(cmd.bytes));
      continue;
    }
    std::unique_ptr<hw::IKernelSource> src = trace.open_kernel(kernel++);
    auto& ks = static_cast<NativeKernelSource&>(*src);
    const hw::KernelInfo& info = ks.info();
    out.line("kernel ctas=" + std::to_string(ks.cta_count()) + " grid=" + dims(info.grid) + " block=" +
             dims(info.block) + " shmem=" + std::to_string(info.shmem_bytes) + " nregs=" +
             std::to_string(info.nregs) + " shmem_base=" + hex(info.shmem_base) + " local_base=" +
             hex(info.local_base) + " opcodes=" + std::to_string(info.opcodes.size()));
    out.line(info.name.empty() ? "name" : "name " + escape(info.name));
    for (size_t i = 0; i < info.opcodes.size(); ++i) {
      std::string l = "opcode " + std::to_string(i);
      out.line(info.opcodes[i].empty() ? l : l + " " + escape(info.opcodes[i]));
    }
    hw::CtaWork cta;
    hw::WarpInstr in;
    while (ks.next_cta(cta)) {
      out.line("cta " + dims(cta.id) + " warps=" + std::to_string(cta.warps.size()));
      for (size_t i = 0; i < cta.warps.size(); ++i) {
        auto& ws = static_cast<NativeWarpStream&>(*cta.warps[i]);
        out.line("warp " + std::to_string(i) + " instrs=" + std::to_string(ws.count()));
        while (ws.next(in)) out.line(format_native_instr(in));
      }
    }
  }
  out.line("end");
  out.close();
}

void write_native_binary(const std::string& text_path, const std::string& binary_path) {
  TextIn t(text_path);
  t.need("hmmtrace 1");
  std::vector<std::string_view> w = t.words();
  if (w.size() != 2 || w[0] != "hmmtrace") t.fail("expected hmmtrace <version>: not a native trace text");
  if (t.number(w[1], "a version") != kVersion) t.fail("unsupported format version " + std::string(w[1]));
  NativeWriter out(binary_path);
  for (;;) {
    t.need("memcpy_htod, kernel or end");
    w = t.words();
    if (w[0] == "memcpy_htod") {
      if (w.size() != 3) t.fail("expected memcpy_htod <dst> <bytes>");
      out.memcpy_htod(t.number(w[1], "a destination address"), t.number(w[2], "a byte count"));
    } else if (w[0] == "kernel") {
      parse_kernel(t, out);
    } else if (w[0] == "end" && w.size() == 1) {
      if (t.next()) t.fail("unexpected line after end");
      out.close();
      return;
    } else {
      t.fail("expected memcpy_htod, kernel or end, found '" + std::string(w[0]) + "'");
    }
  }
}

}  // namespace hmmsim::workload
