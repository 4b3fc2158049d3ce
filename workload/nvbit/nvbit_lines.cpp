#include "workload/nvbit/nvbit_lines.h"

#include <climits>

namespace hmmsim::workload::nvbit {

namespace {

constexpr std::string_view kPrefix = "MEMTRACE: ";

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

bool parse_hex(std::string_view s, uint64_t& v) {
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.empty() || s.size() > 16) return false;
  v = 0;
  for (char c : s) {
    int d = hex_digit(c);
    if (d < 0) return false;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return true;
}

}  // namespace

void LineParser::fail(uint64_t line_no, const std::string& what) const {
  throw hw::SourceError(m_path + ":" + std::to_string(line_no) + ": " + what);
}

void LineParser::tokenize(std::string_view s) {
  m_tok.clear();
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
    if (j > i) m_tok.push_back(s.substr(i, j - i));
    i = j;
  }
}

const std::string_view& LineParser::tok(size_t i, const char* what) {
  if (i >= m_tok.size()) fail(m_line, std::string("expected ") + what + ", found the end of the line");
  return m_tok[i];
}

void LineParser::expect(size_t i, const char* word) {
  std::string quoted = std::string("'") + word + "'";
  if (tok(i, quoted.c_str()) != word) fail(m_line, "expected " + quoted + ", found '" + std::string(m_tok[i]) + "'");
}

uint64_t LineParser::number(size_t i, const char* what, uint64_t max) {
  std::string_view s = tok(i, what);
  uint64_t v = 0;
  bool ok = !s.empty() && s.size() <= 19;
  for (char c : s) {
    if (c < '0' || c > '9') ok = false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  if (!ok || v > max) fail(m_line, std::string("expected ") + what + ", found '" + std::string(s) + "'");
  return v;
}

hw::Dim3 LineParser::dims(size_t i, const char* what, uint32_t min) {
  std::string_view s = tok(i, what);
  hw::Dim3 d;
  uint32_t* f[3] = {&d.x, &d.y, &d.z};
  for (int k = 0; k < 3; ++k) {
    size_t c = k < 2 ? s.find(',') : s.size();
    std::string_view part = s.substr(0, c);
    uint64_t v = 0;
    bool ok = c != std::string_view::npos && !part.empty() && part.size() <= 10;
    for (char ch : part) {
      if (ch < '0' || ch > '9') ok = false;
      v = v * 10 + static_cast<uint64_t>(ch - '0');
    }
    // Printed with %d: at most INT_MAX.
    if (!ok || v < min || v > INT_MAX)
      fail(m_line, std::string("expected ") + what + " as x,y,z, found '" + std::string(m_tok[i]) + "'");
    *f[k] = static_cast<uint32_t>(v);
    if (k < 2) s.remove_prefix(c + 1);
  }
  return d;
}

// "CTA x,y,z - warp W - OPCODE - addr x32" from token `first`.
void LineParser::parse_record(size_t first, RecordLine& rec) {
  expect(first, "CTA");
  rec.cta = dims(first + 1, "a CTA id", 0);
  expect(first + 2, "-");
  expect(first + 3, "warp");
  // %warpid is below 64 on every GPU so far; the bound keeps inferred
  // block sizes in range.
  rec.warp = static_cast<uint32_t>(number(first + 4, "a warp id below 65536", 65535));
  expect(first + 5, "-");
  rec.opcode = tok(first + 6, "an opcode");
  expect(first + 7, "-");
  size_t n = m_tok.size() - (first + 8);
  if (n != hw::kWarpSize)
    fail(m_line, "expected " + std::to_string(hw::kWarpSize) + " addresses, found " + std::to_string(n));
  for (unsigned l = 0; l < hw::kWarpSize; ++l) {
    std::string_view a = m_tok[first + 8 + l];
    if (!parse_hex(a, rec.addr[l]))
      fail(m_line, "expected a hex address for lane " + std::to_string(l) + ", found '" + std::string(a) + "'");
  }
}

// "- grid size x,y,z - block size x,y,z - nregs R - shmem S - cuda stream id I"
// from token `first`; unknown segments are skipped.
void LineParser::parse_launch_tail(size_t first, LaunchLine& l) {
  bool grid = false, block = false;
  size_t i = first;
  while (i < m_tok.size()) {
    expect(i, "-");
    std::string_view key = tok(i + 1, "a launch field");
    bool size = i + 2 < m_tok.size() && (m_tok[i + 2] == "size" || m_tok[i + 2] == "dim");
    if (key == "grid" && size) {
      l.grid = dims(i + 3, "a grid size", 1);
      grid = true;
      i += 4;
    } else if (key == "block" && size) {
      l.block = dims(i + 3, "a block size", 1);
      block = true;
      i += 4;
    } else if (key == "nregs") {
      l.nregs = static_cast<uint32_t>(number(i + 2, "a register count", UINT32_MAX));
      i += 3;
    } else if (key == "shmem") {
      l.shmem = static_cast<uint32_t>(number(i + 2, "a shared memory size", UINT32_MAX));
      i += 3;
    } else {
      for (i += 1; i < m_tok.size() && m_tok[i] != "-"; ++i) {
      }
    }
  }
  if (grid != block) fail(m_line, "expected both grid size and block size");
  l.has_dims = grid;
}

LineKind LineParser::parse(std::string_view line, uint64_t line_no, LaunchLine& launch, RecordLine& rec) {
  m_line = line_no;
  if (starts_with(line, kPrefix)) {
    std::string_view rest = line.substr(kPrefix.size());
    if (!starts_with(rest, "CTX ")) return LineKind::Other;  // e.g. STARTING CONTEXT
    size_t lp = rest.find(" - LAUNCH - ");
    size_t rp = rest.find(" - grid_launch_id ");
    if (lp == std::string_view::npos && rp == std::string_view::npos) return LineKind::Other;  // verbose output
    if (lp != std::string_view::npos && (rp == std::string_view::npos || lp < rp)) {
      launch = LaunchLine{};
      launch.new_style = true;
      constexpr std::string_view kName = "Kernel name ", kId = " - grid launch id ";
      size_t n = rest.find(kName, lp);
      size_t id = rest.rfind(kId);
      if (n == std::string_view::npos || id == std::string_view::npos || id < n + kName.size())
        fail(line_no, "expected 'LAUNCH - Kernel pc 0x... - Kernel name <name> - grid launch id <N>'");
      launch.name = std::string(rest.substr(n + kName.size(), id - n - kName.size()));
      tokenize(rest.substr(id + kId.size()));
      launch.id = number(0, "a grid launch id", UINT64_MAX);
      parse_launch_tail(1, launch);
      return LineKind::Launch;
    }
    tokenize(rest);
    rec = RecordLine{};
    rec.new_style = true;
    expect(0, "CTX");
    uint64_t ctx;
    if (!parse_hex(tok(1, "a context"), ctx)) fail(line_no, "expected a hex context, found '" + std::string(m_tok[1]) + "'");
    expect(2, "-");
    expect(3, "grid_launch_id");
    rec.launch = number(4, "a grid launch id", UINT64_MAX);
    expect(5, "-");
    parse_record(6, rec);
    return LineKind::Record;
  }
  if (starts_with(line, "CTA ")) {
    tokenize(line);
    rec = RecordLine{};
    parse_record(0, rec);
    return LineKind::Record;
  }
  constexpr std::string_view kGrid = " - grid size ";
  if (starts_with(line, "Kernel ") && line.find(kGrid) != std::string_view::npos) {
    launch = LaunchLine{};
    size_t g = line.rfind(kGrid);
    launch.name = std::string(line.substr(7, g > 7 ? g - 7 : 0));
    tokenize(line.substr(g));
    parse_launch_tail(0, launch);
    return LineKind::Launch;
  }
  return LineKind::Other;
}

bool classify_opcode(std::string_view op, OpcodeInfo& out) {
  using C = hw::InstrClass;
  using S = hw::MemSpace;
  struct Base {
    std::string_view name;
    C cls;
    S space;
  };
  // Generic LD/ST/ATOM count as global: mem_trace prints no shared/local
  // windows to tell them apart. LDGSTS (global -> shared async copy) is
  // counted as its global read. Surfaces live in global memory.
  static const Base kBases[] = {
      {"LDG", C::Load, S::Global},      {"LD", C::Load, S::Global},       {"LDGSTS", C::Load, S::Global},
      {"SULD", C::Load, S::Global},     {"STG", C::Store, S::Global},     {"ST", C::Store, S::Global},
      {"SUST", C::Store, S::Global},    {"ATOMG", C::Atomic, S::Global},  {"ATOM", C::Atomic, S::Global},
      {"RED", C::Atomic, S::Global},    {"REDG", C::Atomic, S::Global},   {"SUATOM", C::Atomic, S::Global},
      {"SURED", C::Atomic, S::Global},  {"LDS", C::Load, S::Shared},      {"LDSM", C::Load, S::Shared},
      {"STS", C::Store, S::Shared},     {"STSM", C::Store, S::Shared},    {"ATOMS", C::Atomic, S::Shared},
      {"LDL", C::Load, S::Local},       {"STL", C::Store, S::Local},      {"LDC", C::Load, S::Const},
  };
  size_t dot = op.find('.');
  std::string_view base = op.substr(0, dot);
  const Base* b = nullptr;
  for (const Base& k : kBases)
    if (k.name == base) b = &k;
  if (!b) return false;
  out.cls = b->cls;
  out.space = b->space;
  out.width = 4;
  // LDSM/STSM move 8x8 matrices: each lane addresses one 16-byte row.
  if (base == "LDSM" || base == "STSM") {
    out.width = 16;
    return true;
  }
  struct Mod {
    std::string_view name;
    uint8_t bytes;
  };
  static const Mod kMods[] = {{"8", 1},   {"U8", 1},  {"S8", 1},  {"16", 2},  {"U16", 2},  {"S16", 2},
                              {"32", 4},  {"U32", 4}, {"S32", 4}, {"F32", 4}, {"64", 8},   {"U64", 8},
                              {"S64", 8}, {"F64", 8}, {"128", 16}};
  while (dot != std::string_view::npos) {
    size_t next = op.find('.', dot + 1);
    std::string_view mod = op.substr(dot + 1, next == std::string_view::npos ? std::string_view::npos : next - dot - 1);
    for (const Mod& m : kMods)
      if (m.name == mod) {
        out.width = m.bytes;
        return true;
      }
    dot = next;
  }
  return true;
}

}  // namespace hmmsim::workload::nvbit
