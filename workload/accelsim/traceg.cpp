#include "workload/accelsim/traceg.h"

#include <algorithm>

#include "workload/io/text.h"

namespace hmmsim::workload::accelsim {

using namespace hmmsim::workload::text;

struct TracegKernel::Shared {
  explicit Shared(const std::string& path) : file(TraceFile::open(path)) {}
  std::shared_ptr<const TraceFile> file;
  hw::KernelInfo info;
  LineFormat fmt;
  OpcodeTable opcodes{info.opcodes};  // after `info`: it refers to info.opcodes
};

namespace {

[[noreturn]] void fail_at(const std::string& file, uint64_t line, const std::string& what) {
  throw hw::SourceError(file + ":" + std::to_string(line) + ": " + what);
}

std::string dim_text(const hw::Dim3& d) {
  return std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z);
}

// "key = value" (the leading '-' already removed); false without '='.
bool split_key(std::string_view s, std::string_view& key, std::string_view& value) {
  size_t eq = s.find('=');
  if (eq == std::string_view::npos) return false;
  key = trim(s.substr(0, eq));
  value = trim(s.substr(eq + 1));
  return true;
}

bool parse_u32(std::string_view s, uint32_t& v) {
  uint64_t x = 0;
  if (!parse_udec(s, x) || x > UINT32_MAX) return false;
  v = static_cast<uint32_t>(x);
  return true;
}

// "(x,y,z)" or "x,y,z".
bool parse_dim3(std::string_view s, hw::Dim3& d) {
  if (!s.empty() && s.front() == '(') {
    if (s.back() != ')') return false;
    s = s.substr(1, s.size() - 2);
  }
  uint32_t v[3];
  for (int i = 0; i < 3; ++i) {
    size_t comma = s.find(',');
    if ((i < 2) != (comma != std::string_view::npos)) return false;
    if (!parse_u32(trim(s.substr(0, comma)), v[i])) return false;
    s = i < 2 ? s.substr(comma + 1) : std::string_view();
  }
  d = hw::Dim3{v[0], v[1], v[2]};
  return true;
}

bool is_instruction_start(std::string_view t) { return !t.empty() && is_hex_digit(t[0]); }

// A warp whose lines are decoded on demand through its own cursor, which
// is created on the first next() and dropped after the last line.
class WarpStream : public hw::IWarpStream {
 public:
  WarpStream(std::shared_ptr<TracegKernel::Shared> s, uint64_t off, uint64_t line, uint64_t count, uint64_t bytes)
      : m_s(std::move(s)), m_off(off), m_line(line), m_left(count), m_bytes(bytes) {}

  bool next(hw::WarpInstr& out) override {
    if (m_left == 0) return false;
    if (!m_cur) {
      // A short warp needs no more buffer than its own lines.
      size_t buf = static_cast<size_t>(std::min<uint64_t>(m_bytes + 1, LineCursor::kDefaultBuffer));
      m_cur = std::make_unique<LineCursor>(m_s->file, m_off, m_line, buf);
    }
    std::string_view line;
    if (!m_cur->next(line))  // the scan saw these lines: the file changed under us
      fail_at(m_s->file->path(), m_cur->line_no(), "file ended inside a warp (was it modified while reading?)");
    --m_left;
    decode_line(line, m_s->file->path(), m_cur->line_no(), m_s->fmt, m_s->opcodes, out);
    if (m_left == 0) m_cur.reset();
    return true;
  }

 private:
  std::shared_ptr<TracegKernel::Shared> m_s;
  std::unique_ptr<LineCursor> m_cur;
  uint64_t m_off, m_line, m_left, m_bytes;
};

// A warp the block shape implies but the trace does not list.
class EmptyWarp : public hw::IWarpStream {
 public:
  bool next(hw::WarpInstr&) override { return false; }
};

}  // namespace

TracegKernel::TracegKernel(const std::string& path)
    : m_shared(std::make_shared<Shared>(path)), m_cur(m_shared->file) {
  read_header();
}

TracegKernel::~TracegKernel() = default;

const hw::KernelInfo& TracegKernel::info() const { return m_shared->info; }
const std::string& TracegKernel::path() const { return m_shared->file->path(); }

void TracegKernel::fail(uint64_t line, const std::string& what) const { fail_at(path(), line, what); }

void TracegKernel::read_header() {
  TracegHeader& h = m_header;
  bool have_grid = false, have_block = false;
  std::string_view line;
  while (m_cur.next(line)) {
    const std::string_view t = trim(line);
    const uint64_t ln = m_cur.line_no();
    if (t.empty()) continue;
    if (t == "#BEGIN_TB") {
      m_begin_pending = true;
      break;
    }
    if (starts_with(t, "#traces format")) {
      std::string_view key, value;
      split_key(t.substr(1), key, value);
      h.format = std::string(value.empty() ? t : value);
      // The immediate field exists iff the format says so; its arrival did
      // not bump the tracer version, so the version cannot tell.
      std::string_view last, tok;
      Tokens tk(t);
      while (tk.next(tok)) last = tok;
      h.immediate = last == "immediate";
      continue;
    }
    if (t[0] == '#') continue;  // other comments
    if (t[0] != '-') {
      if (is_instruction_start(t))
        fail(ln, "instruction line before #BEGIN_TB (a raw .trace? Accel-Sim's post-traces-processing makes the .traceg)");
      fail(ln, "expected '-key = value' or #BEGIN_TB in the header, found " + quote(t));
    }
    std::string_view key, v;
    if (!split_key(t.substr(1), key, v)) fail(ln, "expected '-key = value', found " + quote(t));
    auto u32 = [&](uint32_t& out) {
      if (!parse_u32(v, out)) fail(ln, "expected a decimal value for -" + std::string(key) + ", found " + quote(v));
    };
    auto u64 = [&](uint64_t& out) {
      if (!parse_udec(v, out)) fail(ln, "expected a decimal value for -" + std::string(key) + ", found " + quote(v));
    };
    auto hex = [&](uint64_t& out) {
      if (!parse_hex(v, out)) fail(ln, "expected a hex address for -" + std::string(key) + ", found " + quote(v));
    };
    auto dim = [&](hw::Dim3& out) {
      if (!parse_dim3(v, out) || out.count() == 0)
        fail(ln, "expected -" + std::string(key) + " = (x,y,z) with x, y, z >= 1, found " + quote(v));
    };
    if (key == "kernel name") h.kernel_name = std::string(v);
    else if (key == "kernel id") u64(h.kernel_id);
    else if (key == "grid dim") dim(h.grid), have_grid = true;
    else if (key == "block dim") dim(h.block), have_block = true;
    else if (key == "shmem") u32(h.shmem);
    else if (key == "nregs") u32(h.nregs);
    else if (key == "binary version") u32(h.binary_version);
    else if (key == "cuda stream id") u64(h.cuda_stream_id);
    else if (key == "shmem base_addr") hex(h.shmem_base);
    else if (key == "local mem base_addr") hex(h.local_base);
    else if (key == "nvbit version") h.nvbit_version = std::string(v);
    else if (key == "accelsim tracer version") u32(h.tracer_version);
    else if (key == "enable lineinfo") {
      if (v != "0" && v != "1") fail(ln, "expected -enable lineinfo = 0 or 1, found " + quote(v));
      h.lineinfo = v == "1";
    }
    // other keys: ignored (later tracers may add some)
  }
  const uint64_t end = m_cur.line_no();  // where the header ended
  if (!have_grid) fail(end, "the header has no '-grid dim = (x,y,z)'");
  if (!have_block) fail(end, "the header has no '-block dim = (x,y,z)'");
  if (h.block.count() > 1024)
    fail(end, "block dim (" + dim_text(h.block) + ") has more than 1024 threads");

  hw::KernelInfo& info = m_shared->info;
  info.name = h.kernel_name;
  info.grid = h.grid;
  info.block = h.block;
  info.shmem_bytes = h.shmem;
  info.nregs = h.nregs;
  info.shmem_base = h.shmem_base;
  info.local_base = h.local_base;
  LineFormat& fmt = m_shared->fmt;
  fmt.lineinfo = h.lineinfo;
  fmt.immediate = h.immediate;
  fmt.shmem_base = h.shmem_base;
  fmt.local_base = h.local_base;
}

bool TracegKernel::next_cta(hw::CtaWork& out) {
  out.warps.clear();
  out.id = hw::Dim3{};
  if (m_done) return false;
  const hw::Dim3 grid = m_header.grid;
  std::string_view line, t;
  auto next_nonblank = [&]() {
    while (m_cur.next(line)) {
      t = trim(line);
      if (!t.empty()) return true;
    }
    return false;
  };

  if (!m_begin_pending) {
    if (!next_nonblank()) {
      m_done = true;
      if (m_ctas != grid.count())
        fail(m_cur.line_no(), "the grid (" + dim_text(grid) + ") has " + std::to_string(grid.count()) +
                                  " thread blocks but the file ends after " + std::to_string(m_ctas));
      return false;
    }
    if (t != "#BEGIN_TB") {
      if (is_instruction_start(t)) fail(m_cur.line_no(), "instruction line outside a thread block (expected #BEGIN_TB)");
      fail(m_cur.line_no(), "expected #BEGIN_TB, found " + quote(t));
    }
  }
  m_begin_pending = false;
  const uint64_t begin = m_cur.line_no();
  if (m_ctas >= grid.count())
    fail(begin, "more thread blocks than the grid's " + std::to_string(grid.count()) + " (" + dim_text(grid) + ")");

  // thread block = x,y,z
  std::string_view key, value;
  hw::Dim3 id;
  if (!next_nonblank()) fail(m_cur.line_no(), "expected 'thread block = x,y,z' after #BEGIN_TB, found end of file");
  if (!split_key(t, key, value) || key != "thread block" || !parse_dim3(value, id))
    fail(m_cur.line_no(), "expected 'thread block = x,y,z', found " + quote(t));
  if (id.x >= grid.x || id.y >= grid.y || id.z >= grid.z)
    fail(m_cur.line_no(), "thread block " + dim_text(id) + " is outside the grid (" + dim_text(grid) + ")");
  auto cta = [&] { return "thread block " + dim_text(id); };

  // Each warp: `warp = W`, `insts = N`, N lines. Only where they are is
  // kept; the lines are decoded later, by the warp's stream.
  struct Span {
    bool present = false;
    uint64_t off = 0, line = 0, count = 0, bytes = 0;
  };
  const unsigned nwarps = m_shared->info.warps_per_cta();
  std::vector<Span> spans(nwarps);
  for (;;) {
    if (!next_nonblank())
      fail(m_cur.line_no(), cta() + " (line " + std::to_string(begin) + ") has no #END_TB: the file ends");
    if (t == "#END_TB") break;
    const uint64_t ln = m_cur.line_no();
    uint64_t w = 0;
    if (!split_key(t, key, value) || key != "warp" || !parse_udec(value, w)) {
      if (t == "#BEGIN_TB") fail(ln, "#BEGIN_TB inside " + cta() + " (line " + std::to_string(begin) + "): expected #END_TB");
      if (is_instruction_start(t)) fail(ln, "instruction line after the end of a warp (expected 'warp = N' or #END_TB)");
      fail(ln, "expected 'warp = N' or #END_TB, found " + quote(t));
    }
    if (w >= nwarps)
      fail(ln, cta() + " lists warp " + std::to_string(w) + " but its block (" + dim_text(m_header.block) + ") has " +
                   std::to_string(nwarps) + (nwarps == 1 ? " warp" : " warps"));
    Span& s = spans[w];
    if (s.present) fail(ln, "warp " + std::to_string(w) + " is listed twice in " + cta());
    if (!next_nonblank())
      fail(m_cur.line_no(), "expected 'insts = N' after 'warp = " + std::to_string(w) + "', found end of file");
    if (!split_key(t, key, value) || key != "insts" || !parse_udec(value, s.count))
      fail(m_cur.line_no(), "expected 'insts = N' after 'warp = " + std::to_string(w) + "', found " + quote(t));
    s.present = true;
    s.off = m_cur.offset();
    s.line = m_cur.line_no() + 1;
    auto decl = [&] { return "warp " + std::to_string(w) + " declares insts = " + std::to_string(s.count); };
    for (uint64_t i = 0; i < s.count; ++i) {
      if (!m_cur.next(line)) fail(m_cur.line_no(), decl() + " but the file ends after " + std::to_string(i));
      t = trim(line);
      if (!is_instruction_start(t))
        fail(m_cur.line_no(), decl() + " but line " + std::to_string(i + 1) + " of them is " +
                                  (t.empty() ? std::string("blank") : quote(t)));
    }
    s.bytes = m_cur.offset() - s.off;
  }

  ++m_ctas;
  out.id = id;
  out.warps.reserve(nwarps);
  for (const Span& s : spans) {
    if (s.present && s.count > 0)
      out.warps.push_back(std::make_unique<WarpStream>(m_shared, s.off, s.line, s.count, s.bytes));
    else
      out.warps.push_back(std::make_unique<EmptyWarp>());
  }
  return true;
}

std::unique_ptr<hw::IKernelSource> open_traceg(const std::string& path) {
  return std::make_unique<TracegKernel>(path);
}

}  // namespace hmmsim::workload::accelsim
