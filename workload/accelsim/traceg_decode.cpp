#include "workload/accelsim/traceg_decode.h"

#include <algorithm>

#include <cstdio>

#include "workload/io/text.h"

namespace hmmsim::workload::accelsim {

using namespace hmmsim::workload::text;
using hw::InstrClass;
using hw::MemSpace;

namespace {

[[noreturn]] void bad(const std::string& file, uint64_t line, const std::string& what) {
  throw hw::SourceError(file + ":" + std::to_string(line) + ": " + what);
}

std::string hex8(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "%08x", v);
  return b;
}

enum class Reg { None, Id, Bad };

// R<n> is n and UR<n> is 256 + n; the zero registers (R255/RZ, UR63/URZ)
// and anything else (predicates, ...) carry no dependency.
Reg parse_reg(std::string_view t, uint16_t& id) {
  uint64_t n = 0;
  if (starts_with(t, "UR")) {
    if (!parse_udec(t.substr(2), n)) return Reg::None;  // URZ, ...
    if (n > 63) return Reg::Bad;
    if (n == 63) return Reg::None;
    id = static_cast<uint16_t>(hw::kUniformRegBase + n);
    return Reg::Id;
  }
  if (starts_with(t, "R")) {
    if (!parse_udec(t.substr(1), n)) return Reg::None;  // RZ, ...
    if (n > 255) return Reg::Bad;
    if (n == 255) return Reg::None;
    id = static_cast<uint16_t>(n);
    return Reg::Id;
  }
  return Reg::None;
}

MemSpace by_window(bool has_lane, uint64_t a, const LineFormat& f) {
  if (has_lane) {
    if (f.shmem_base && a >= f.shmem_base && a - f.shmem_base < kWindowBytes) return MemSpace::Shared;
    if (f.local_base && a >= f.local_base && a - f.local_base < kWindowBytes) return MemSpace::Local;
  }
  return MemSpace::Global;
}

// Register lists: `count` then that many names; at most `max` are kept.
uint8_t read_regs(Tokens& tk, const std::string& file, uint64_t line_no, const char* what, uint16_t* regs,
                  unsigned max) {
  std::string_view t;
  uint64_t count = 0;
  if (!tk.next(t)) bad(file, line_no, std::string("expected the ") + what + " register count, found end of line");
  if (!parse_udec(t, count) || count > 64)
    bad(file, line_no, std::string("expected the ") + what + " register count, found " + quote(t));
  unsigned kept = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!tk.next(t))
      bad(file, line_no, std::string("expected ") + std::to_string(count) + " " + what + " registers, found " +
                             std::to_string(i));
    uint16_t id = 0;
    switch (parse_reg(t, id)) {
      case Reg::Id:
        if (kept < max) regs[kept++] = id;
        break;
      case Reg::Bad: bad(file, line_no, "bad register " + quote(t));
      case Reg::None: break;
    }
  }
  return static_cast<uint8_t>(kept);
}

}  // namespace

OpcodeTable::OpcodeTable(std::vector<std::string>& names) : m_names(names) {
  if (m_names.empty()) m_names.emplace_back();
  for (size_t i = 0; i < m_names.size(); ++i) {
    m_store.push_back(m_names[i]);
    m_ids.emplace(m_store.back(), static_cast<uint16_t>(i));
  }
}

bool OpcodeTable::intern(std::string_view op, uint16_t& id) {
  auto it = m_ids.find(op);
  if (it != m_ids.end()) {
    id = it->second;
    return true;
  }
  if (m_names.size() >= 0xffff) return false;
  id = static_cast<uint16_t>(m_names.size());
  m_store.emplace_back(op);
  m_names.emplace_back(op);
  m_ids.emplace(m_store.back(), id);
  return true;
}

bool classify_memory(std::string_view opcode, bool has_lane, uint64_t first_addr, const LineFormat& fmt,
                     InstrClass& cls, MemSpace& space) {
  const std::string_view base = opcode.substr(0, opcode.find('.'));
  struct Entry {
    std::string_view name;
    InstrClass cls;
    MemSpace space;
  };
  static constexpr Entry kFixed[] = {
      {"LDG", InstrClass::Load, MemSpace::Global},     {"STG", InstrClass::Store, MemSpace::Global},
      {"ATOMG", InstrClass::Atomic, MemSpace::Global}, {"RED", InstrClass::Atomic, MemSpace::Global},
      {"REDG", InstrClass::Atomic, MemSpace::Global},  {"LDS", InstrClass::Load, MemSpace::Shared},
      {"STS", InstrClass::Store, MemSpace::Shared},    {"ATOMS", InstrClass::Atomic, MemSpace::Shared},
      {"LDSM", InstrClass::Load, MemSpace::Shared},    {"STSM", InstrClass::Store, MemSpace::Shared},
      {"LDL", InstrClass::Load, MemSpace::Local},      {"STL", InstrClass::Store, MemSpace::Local},
      {"LDC", InstrClass::Load, MemSpace::Const},      {"ULDC", InstrClass::Load, MemSpace::Const},
  };
  for (const Entry& e : kFixed) {
    if (base == e.name) {
      cls = e.cls;
      space = e.space;
      return true;
    }
  }
  if (base == "LDGSTS") {
    // The tracer records LDGSTS twice: once with the shared destination (a
    // shared-window offset, or a generic address in the window), once with
    // the global source. Only the global half reaches the GMMU.
    const bool shared = has_lane && (first_addr < kWindowBytes || by_window(true, first_addr, fmt) == MemSpace::Shared);
    cls = shared ? InstrClass::Store : InstrClass::Load;
    space = shared ? MemSpace::Shared : MemSpace::Global;
    return true;
  }
  // Generic opcodes (LD, ST, ATOM) and memory opcodes this table does not
  // know, decided by their leading letters; placed by the windows.
  auto sw = [&](std::string_view p) { return starts_with(base, p); };
  if (sw("LD") || sw("SULD")) cls = InstrClass::Load;
  else if (sw("ST") || sw("SUST")) cls = InstrClass::Store;
  else if (sw("ATOM") || sw("RED") || sw("SUATOM") || sw("SURED")) cls = InstrClass::Atomic;
  else return false;
  space = by_window(has_lane, first_addr, fmt);
  return true;
}

void decode_line(std::string_view line, const std::string& file, uint64_t line_no, const LineFormat& fmt,
                 OpcodeTable& opcodes, hw::WarpInstr& out) {
  static const hw::WarpInstr kBlank{};  // copied, not rebuilt, per line
  out = kBlank;
  Tokens tk(line);
  std::string_view t;
  auto need = [&](const char* what) {
    if (!tk.next(t)) bad(file, line_no, std::string("expected ") + what + ", found end of line");
    return t;
  };
  uint64_t v = 0;

  if (fmt.lineinfo && !parse_udec(need("a source line number"), v))
    bad(file, line_no, "expected a source line number, found " + quote(t));
  if (!parse_hex(need("a hex PC"), v) || v > UINT32_MAX) bad(file, line_no, "expected a hex PC, found " + quote(t));
  out.pc = static_cast<uint32_t>(v);
  if (!parse_hex(need("a hex active mask"), v) || v > UINT32_MAX)
    bad(file, line_no, "expected an 8-digit hex active mask, found " + quote(t));
  out.mask = static_cast<uint32_t>(v);

  out.ndst = read_regs(tk, file, line_no, "destination", out.dst, hw::kMaxDst);
  const std::string_view opcode = need("an opcode");
  const char c0 = opcode[0];
  if (!((c0 >= 'A' && c0 <= 'Z') || (c0 >= 'a' && c0 <= 'z')))
    bad(file, line_no, "expected an opcode, found " + quote(opcode));
  if (!opcodes.intern(opcode, out.opcode)) bad(file, line_no, "more than 65535 distinct opcodes");
  out.nsrc = read_regs(tk, file, line_no, "source", out.src, hw::kMaxSrc);

  uint64_t width = 0;
  if (!parse_udec(need("mem_width"), width)) bad(file, line_no, "expected mem_width (decimal), found " + quote(t));

  // Everything after mem_width: address mode and addresses (memory only),
  // then the immediate if the format has one. Counted first, so a wrong
  // count is reported as such; then read in order.
  const Tokens after_width = tk;
  size_t n = 0;
  std::string_view first, last;
  while (tk.next(t)) {
    if (n++ == 0) first = t;
    last = t;
  }
  const size_t imm = fmt.immediate ? 1 : 0;
  if (n < imm) bad(file, line_no, "expected an immediate after mem_width, found end of line");
  const size_t addr_fields = n - imm;

  if (width == 0) {
    if (addr_fields > 0 && fmt.immediate)
      bad(file, line_no, "expected only the immediate after mem_width 0, found " + std::to_string(n) + " fields");
    if (addr_fields > 0)
      bad(file, line_no, "unexpected field " + quote(first) +
                             " after mem_width 0 (the #traces format line declares no immediate)");
  } else {
    if (width != 1 && width != 2 && width != 4 && width != 8 && width != 16 && width != 32)
      bad(file, line_no, "bad mem_width " + std::to_string(width) + " (expected 1, 2, 4, 8, 16 or 32)");
    out.width = static_cast<uint8_t>(width);
    const unsigned lanes = static_cast<unsigned>(__builtin_popcount(out.mask));
    // A mask of 0 (all lanes predicated off) carries no usable address;
    // whatever the tracer wrote for it is skipped.
    if (lanes > 0) {
      uint64_t mode = 0;
      if (addr_fields == 0) bad(file, line_no, "expected an address mode after mem_width " + std::to_string(width));
      if (!parse_udec(first, mode) || mode > 2)
        bad(file, line_no, "unknown address mode " + quote(first) + " (expected 0, 1 or 2)");
      Tokens at = after_width;
      at.next(t);  // the mode
      auto field = [&] {
        at.next(t);  // present: the fields were counted
        return t;
      };
      auto addr = [&] {
        uint64_t a = 0;
        if (!parse_hex(field(), a)) bad(file, line_no, "expected a hex address, found " + quote(t));
        return a;
      };
      if (mode == 0) {  // one address per active lane, in lane order
        if (addr_fields != 1 + lanes)
          bad(file, line_no, "expected " + std::to_string(lanes) + " addresses for mask " + hex8(out.mask) +
                                 ", found " + std::to_string(addr_fields - 1));
        for (unsigned l = 0; l < hw::kWarpSize; ++l)
          if (out.mask >> l & 1u) out.addr[l] = addr();
      } else if (mode == 1) {  // base + i * stride for the i-th active lane
        if (addr_fields != 3)
          bad(file, line_no, "expected a base address and a stride for address mode 1, found " +
                                 std::to_string(addr_fields - 1) + " fields");
        const uint64_t base = addr();
        int64_t stride = 0;
        if (!parse_sdec(field(), stride)) bad(file, line_no, "expected a decimal stride, found " + quote(t));
        uint64_t i = 0;
        for (unsigned l = 0; l < hw::kWarpSize; ++l)
          if (out.mask >> l & 1u) out.addr[l] = base + (i++) * static_cast<uint64_t>(stride);
      } else {  // base, then each active lane relative to the previous one
        if (addr_fields < 2) bad(file, line_no, "expected a base address for address mode 2, found end of line");
        if (addr_fields != 1 + lanes)
          bad(file, line_no, "expected " + std::to_string(lanes - 1) + " address deltas for mask " +
                                 hex8(out.mask) + ", found " + std::to_string(addr_fields - 2));
        uint64_t a = addr();
        bool first_lane = true;
        for (unsigned l = 0; l < hw::kWarpSize; ++l) {
          if (!(out.mask >> l & 1u)) continue;
          if (!first_lane) {
            int64_t d = 0;
            if (!parse_sdec(field(), d)) bad(file, line_no, "expected a decimal address delta, found " + quote(t));
            a += static_cast<uint64_t>(d);
          }
          first_lane = false;
          out.addr[l] = a;
        }
      }
    }
  }
  int64_t imm_value = 0;
  if (fmt.immediate && !parse_sdec(last, imm_value))
    bad(file, line_no, "expected a decimal immediate at the end of the line, found " + quote(last));

  if (width == 0) return;  // compute (including LDC/ULDC without an address)
  const unsigned first_lane = out.mask ? static_cast<unsigned>(__builtin_ctz(out.mask)) : 0;
  if (!classify_memory(opcode, out.mask != 0, out.addr[first_lane], fmt, out.cls, out.space))
    bad(file, line_no, "unknown memory opcode " + quote(opcode) + " with mem_width " + std::to_string(width));
  // A wide load names only its first register (LDG.E.128 R4 fills R4..R7):
  // list the others too, so the instructions that read them wait.
  if (out.cls != hw::InstrClass::Store && out.ndst == 1 && out.dst[0] < hw::kUniformRegBase) {
    const unsigned regs = std::min<unsigned>(hw::kMaxDst, std::max<unsigned>(1, out.width / 4));
    for (unsigned i = 1; i < regs && out.dst[0] + i < 255; ++i) out.dst[out.ndst++] = static_cast<uint16_t>(out.dst[0] + i);
  }
}

}  // namespace hmmsim::workload::accelsim
