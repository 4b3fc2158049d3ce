#include "workload/native/native_codec.h"

#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/bits.h"

namespace hmmsim::workload::native {

namespace {

constexpr uint8_t kWidths[6] = {0, 1, 2, 4, 8, 16};

unsigned width_code(uint8_t width) {
  for (unsigned i = 0; i < 6; ++i)
    if (kWidths[i] == width) return i;
  return kWidthExplicit;
}

int popcount(uint32_t m) { return common::popcount32(m); }

}  // namespace

std::string hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(0x80 | (v & 0x7F)));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

size_t varint_size(uint64_t v) {
  size_t n = 1;
  while (v >= 0x80) {
    v >>= 7;
    ++n;
  }
  return n;
}

void put_u16le(std::string& out, uint16_t v) {
  out.push_back(static_cast<char>(v & 0xFF));
  out.push_back(static_cast<char>(v >> 8));
}

void put_u64le(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}

void put_string(std::string& out, const std::string& s) {
  put_varint(out, s.size());
  out += s;
}

bool uniform_stride(const hw::WarpInstr& in, int64_t& stride) {
  uint32_t m = in.mask;
  if (popcount(m) < 2) return false;
  unsigned l0 = static_cast<unsigned>(__builtin_ctz(m));
  unsigned l1 = static_cast<unsigned>(__builtin_ctz(m & (m - 1)));
  int64_t d = static_cast<int64_t>(in.addr[l1] - in.addr[l0]);
  int64_t span = static_cast<int64_t>(l1 - l0);
  if (d % span != 0) return false;
  stride = d / span;
  for (unsigned l = l1 + 1; l < hw::kWarpSize; ++l) {
    if (!(m >> l & 1)) continue;
    // Modular arithmetic: the decoder computes the same expression.
    uint64_t want = in.addr[l0] + static_cast<uint64_t>(l - l0) * static_cast<uint64_t>(stride);
    if (in.addr[l] != want) return false;
  }
  return true;
}

unsigned addr_ref(const WarpCodec& st, uint64_t a) {
  unsigned best = 0;
  for (unsigned r = 1; r < kAddrHistory; ++r)
    if (zigzag(static_cast<int64_t>(a - st.addr[r])) < zigzag(static_cast<int64_t>(a - st.addr[best]))) best = r;
  return best;
}

void note_addr(WarpCodec& st, unsigned ref, uint64_t a) {
  // Near its reference (within 1 MiB): the same array moving on, so it
  // takes that entry over; otherwise a new array replaces the oldest entry.
  uint64_t d = a - st.addr[ref];
  bool near = zigzag(static_cast<int64_t>(d)) < (uint64_t(1) << 21);
  unsigned slot = near ? ref : st.mru[kAddrHistory - 1];
  st.addr[slot] = a;
  st.delta[slot] = near ? d : 0;
  unsigned i = 0;
  while (st.mru[i] != slot) ++i;
  for (; i > 0; --i) st.mru[i] = st.mru[i - 1];
  st.mru[0] = static_cast<uint8_t>(slot);
}

namespace {
// `uniform`: whether in's lanes have a uniform stride, when the caller
// knows it already (the decoder, which built them so); -1: find out.
uint16_t instr_header_with(const WarpCodec& st, const hw::WarpInstr& in, int uniform);
}  // namespace

uint16_t instr_header(const WarpCodec& st, const hw::WarpInstr& in) { return instr_header_with(st, in, -1); }

namespace {
uint16_t instr_header_with(const WarpCodec& st, const hw::WarpInstr& in, int uniform) {
  uint16_t h = static_cast<uint16_t>(static_cast<unsigned>(in.cls) & 3);
  h |= static_cast<uint16_t>((static_cast<unsigned>(in.space) & 3) << kHdrSpaceShift);
  h |= static_cast<uint16_t>(width_code(in.width) << kHdrWidthShift);
  if (in.mask == 0xFFFFFFFFu) h |= kHdrFullMask;
  if (static_cast<uint32_t>(in.pc - st.pc) == st.step) h |= kHdrSameStep;
  if (in.opcode == st.opcode) h |= kHdrSameOpcode;
  if (in.ndst || in.nsrc) h |= kHdrRegs;
  if (in.has_value) h |= kHdrValue;
  int64_t stride;
  if (in.is_memory() && (uniform >= 0 ? uniform == 1 : uniform_stride(in, stride))) h |= kHdrUniform;
  if (in.is_memory() && in.mask != 0) {
    uint64_t a = in.addr[__builtin_ctz(in.mask)];
    unsigned ref = addr_ref(st, a);
    h |= static_cast<uint16_t>(ref << kHdrRefShift);
    if (a - st.addr[ref] == st.delta[ref]) h |= kHdrSameDelta;
  }
  return h;
}
}  // namespace

std::string check_instr(const hw::WarpInstr& in, size_t opcodes) {
  if (static_cast<unsigned>(in.cls) > 3) return "invalid instruction class";
  if (static_cast<unsigned>(in.space) > 3) return "invalid memory space";
  if (in.ndst > hw::kMaxDst || in.nsrc > hw::kMaxSrc) return "too many registers";
  for (unsigned i = 0; i < in.ndst; ++i)
    if (in.dst[i] >= hw::kRegCount) return "register id out of range";
  for (unsigned i = 0; i < in.nsrc; ++i)
    if (in.src[i] >= hw::kRegCount) return "register id out of range";
  if (in.opcode >= opcodes) return "opcode " + std::to_string(in.opcode) + " not in the kernel's opcode table";
  return {};
}

void encode_instr(WarpCodec& st, const hw::WarpInstr& in, std::string& out) {
  uint16_t h = instr_header(st, in);
  put_u16le(out, h);
  if (((h >> kHdrWidthShift) & 7) == kWidthExplicit) out.push_back(static_cast<char>(in.width));
  if (!(h & kHdrFullMask)) put_varint(out, in.mask);
  uint32_t step = in.pc - st.pc;
  if (!(h & kHdrSameStep)) put_varint(out, zigzag(static_cast<int32_t>(step)));
  if (!(h & kHdrSameOpcode)) put_varint(out, in.opcode);
  if (h & kHdrRegs) {
    out.push_back(static_cast<char>(in.ndst << 4 | in.nsrc));
    for (unsigned i = 0; i < in.ndst; ++i) put_varint(out, in.dst[i]);
    for (unsigned i = 0; i < in.nsrc; ++i) put_varint(out, in.src[i]);
  }
  if (h & kHdrValue) {
    put_varint(out, in.value);
    put_varint(out, zigzag(static_cast<int32_t>(in.stride)));
  }
  if (in.is_memory() && in.mask != 0) {
    unsigned l0 = static_cast<unsigned>(__builtin_ctz(in.mask));
    unsigned ref = (h >> kHdrRefShift) & 3;
    if (!(h & kHdrSameDelta)) put_varint(out, zigzag(static_cast<int64_t>(in.addr[l0] - st.addr[ref])));
    note_addr(st, ref, in.addr[l0]);
    if (h & kHdrUniform) {
      int64_t stride = 0;
      uniform_stride(in, stride);
      put_varint(out, zigzag(stride));
    } else {
      uint64_t prev = in.addr[l0];
      for (unsigned l = l0 + 1; l < hw::kWarpSize; ++l) {
        if (!(in.mask >> l & 1)) continue;
        put_varint(out, zigzag(static_cast<int64_t>(in.addr[l] - prev)));
        prev = in.addr[l];
      }
    }
  }
  st.pc = in.pc;
  st.step = step;
  st.opcode = in.opcode;
}

std::string check_kernel_info(const hw::KernelInfo& info) {
  const hw::Dim3* dims[2] = {&info.grid, &info.block};
  for (const hw::Dim3* d : dims)
    if (d->x == 0 || d->y == 0 || d->z == 0) return "grid and block dimensions must be at least 1";
  return {};
}

void encode_kernel_meta(const hw::KernelInfo& info, uint64_t ctas, std::string& out) {
  put_string(out, info.name);
  for (uint32_t v : {info.grid.x, info.grid.y, info.grid.z, info.block.x, info.block.y, info.block.z})
    put_varint(out, v);
  put_varint(out, info.shmem_bytes);
  put_varint(out, info.nregs);
  put_varint(out, info.shmem_base);
  put_varint(out, info.local_base);
  put_varint(out, info.opcodes.size());
  for (const std::string& s : info.opcodes) put_string(out, s);
  put_varint(out, ctas);
}

void encode_cta_header(const hw::Dim3& id, const std::vector<WarpExtent>& warps, std::string& out) {
  put_varint(out, id.x);
  put_varint(out, id.y);
  put_varint(out, id.z);
  put_varint(out, warps.size());
  for (const WarpExtent& w : warps) {
    put_varint(out, w.instrs);
    put_varint(out, w.bytes);
  }
}

// ---------------------------------------------------------------- reading

ByteCursor::ByteCursor(std::shared_ptr<const TraceFile> file, uint64_t off, uint64_t end, size_t buffer,
                       std::string region)
    : m_file(std::move(file)), m_pos(off), m_end(end), m_cap(std::max<size_t>(buffer, 16)),
      m_region(std::move(region)) {}

void ByteCursor::fail(uint64_t at, const std::string& what) const {
  throw hw::SourceError(m_file->path() + ": byte " + std::to_string(at) + ": " + what);
}

void ByteCursor::fill(const char* what) {
  if (m_pos >= m_end) fail(m_pos, std::string("expected ") + what + ", found the end of the " + m_region);
  size_t want = static_cast<size_t>(std::min<uint64_t>(m_cap, m_end - m_pos));
  if (m_buf.size() < want) m_buf.resize(want);
  m_len = m_file->pread(m_buf.data(), want, m_pos);
  m_buf_off = m_pos;
  if (m_len == 0) fail(m_pos, std::string("expected ") + what + ", found the end of the file");
}

uint8_t ByteCursor::byte(const char* what) {
  if (m_pos < m_buf_off || m_pos >= m_buf_off + m_len) fill(what);
  return m_buf[static_cast<size_t>(m_pos++ - m_buf_off)];
}

uint16_t ByteCursor::u16le(const char* what) {
  uint16_t lo = byte(what);
  return static_cast<uint16_t>(lo | byte(what) << 8);
}

uint64_t ByteCursor::u64le(const char* what) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(byte(what)) << (8 * i);
  return v;
}

uint64_t ByteCursor::varint_long(const char* what) {
  uint64_t start = m_pos, v = 0;
  for (unsigned i = 0;; ++i) {
    uint8_t b = byte(what);
    if (i == 9 && b > 1) fail(start, std::string("corrupt varint (") + what + "): more than 64 bits");
    v |= static_cast<uint64_t>(b & 0x7F) << (7 * i);
    if (!(b & 0x80)) {
      if (b == 0 && i > 0) fail(start, std::string("non-canonical varint (") + what + ")");
      return v;
    }
  }
}

uint32_t ByteCursor::varint32(const char* what) {
  uint64_t start = m_pos, v = varint(what);
  if (v > 0xFFFFFFFFu) fail(start, std::string(what) + " " + std::to_string(v) + " does not fit 32 bits");
  return static_cast<uint32_t>(v);
}

std::string ByteCursor::string(const char* what) {
  uint64_t start = m_pos, n = varint(what);
  if (n > left())
    fail(start, std::string(what) + " of " + std::to_string(n) + " bytes runs past the end of the " + m_region);
  std::string s;
  s.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) s.push_back(static_cast<char>(byte(what)));
  return s;
}

void ByteCursor::seek(uint64_t off) {
  if (off > m_end) fail(m_pos, "seek past the end of the " + m_region);
  m_pos = off;
}

void decode_instr(WarpCodec& st, ByteCursor& c, size_t opcodes, hw::WarpInstr& out) {
  uint64_t at = c.offset();
  uint16_t h = c.u16le("instruction header");
  // Everything but the lane addresses back to its default: only active
  // lanes are meaningful, and clearing all 32 every instruction was a
  // tenth of a TLB-resident run.
  static const hw::WarpInstr blank{};
  std::memcpy(static_cast<void*>(&out), &blank, offsetof(hw::WarpInstr, addr));
  out.cls = static_cast<hw::InstrClass>(h & kHdrClassMask);
  out.space = static_cast<hw::MemSpace>((h >> kHdrSpaceShift) & 3);
  unsigned wcode = (h >> kHdrWidthShift) & 7;
  if (wcode == 7) c.fail(at, "invalid width code 7");
  out.width = wcode == kWidthExplicit ? c.byte("width") : kWidths[wcode];
  out.mask = (h & kHdrFullMask) ? 0xFFFFFFFFu : c.varint32("lane mask");
  uint32_t step = st.step;
  if (!(h & kHdrSameStep)) {
    uint64_t z = c.varint("pc delta");
    if (z > 0xFFFFFFFFu) c.fail(at, "pc delta out of range");
    step = static_cast<uint32_t>(static_cast<int32_t>(unzigzag(z)));
  }
  out.pc = st.pc + step;
  if (h & kHdrSameOpcode) {
    out.opcode = st.opcode;
  } else {
    uint64_t op = c.varint("opcode");
    if (op >= opcodes)
      c.fail(at, "opcode " + std::to_string(op) + " not in the kernel's table of " + std::to_string(opcodes));
    out.opcode = static_cast<uint16_t>(op);
  }
  if (h & kHdrRegs) {
    uint8_t n = c.byte("register counts");
    out.ndst = n >> 4;
    out.nsrc = n & 15;
    if (out.ndst > hw::kMaxDst || out.nsrc > hw::kMaxSrc || n == 0)
      c.fail(at, "invalid register counts " + hex(n));
    for (unsigned i = 0; i < out.ndst + out.nsrc; ++i) {
      uint64_t r = c.varint("register");
      if (r >= hw::kRegCount) c.fail(at, "register id " + std::to_string(r) + " out of range");
      (i < out.ndst ? out.dst[i] : out.src[i - out.ndst]) = static_cast<uint16_t>(r);
    }
  }
  if (h & kHdrValue) {
    out.has_value = true;
    out.value = c.varint32("store value");
    uint64_t z = c.varint("value stride");
    if (z > 0xFFFFFFFFu) c.fail(at, "value stride out of range");
    out.stride = static_cast<uint32_t>(static_cast<int32_t>(unzigzag(z)));
  }
  int uniform = -1;  // known once the lanes are decoded with a uniform stride
  if (out.is_memory() && out.mask != 0) {
    unsigned l0 = static_cast<unsigned>(__builtin_ctz(out.mask));
    unsigned ref = (h >> kHdrRefShift) & 3;
    out.addr[l0] = st.addr[ref] + ((h & kHdrSameDelta) ? st.delta[ref]
                                                       : static_cast<uint64_t>(unzigzag(c.varint("first lane address delta"))));
    if (h & kHdrUniform) {
      if (common::popcount32(out.mask) < 2) c.fail(at, "uniform address stride with fewer than 2 active lanes");
      uint64_t stride = static_cast<uint64_t>(unzigzag(c.varint("address stride")));
      if (out.mask == 0xFFFFFFFFu) {
        uint64_t a = out.addr[0];  // a running sum (the same modulo 2^64): vectorizes
        for (unsigned l = 1; l < hw::kWarpSize; ++l) out.addr[l] = a += stride;
      } else {
        for (unsigned l = l0 + 1; l < hw::kWarpSize; ++l)
          if (out.mask >> l & 1) out.addr[l] = out.addr[l0] + static_cast<uint64_t>(l - l0) * stride;
      }
      // What uniform_stride would find, without its scan: the lanes were
      // built from `stride`, so they follow the stride the first two imply
      // exactly when that stride is `stride` (the canonical one).
      const unsigned l1 = static_cast<unsigned>(__builtin_ctz(out.mask & (out.mask - 1)));
      const int64_t d = static_cast<int64_t>(out.addr[l1] - out.addr[l0]), span = int64_t(l1 - l0);
      if (d % span != 0 || static_cast<uint64_t>(d / span) != stride) c.fail(at, "non-canonical address stride");
      uniform = 1;
    } else {
      uint64_t prev = out.addr[l0];
      for (unsigned l = l0 + 1; l < hw::kWarpSize; ++l) {
        if (!(out.mask >> l & 1)) continue;
        prev += static_cast<uint64_t>(unzigzag(c.varint("lane address delta")));
        out.addr[l] = prev;
      }
    }
  }
  uint16_t want = instr_header_with(st, out, uniform);
  if (want != h) c.fail(at, "non-canonical instruction encoding (header " + hex(h) + ", expected " + hex(want) + ")");
  if (out.is_memory() && out.mask != 0) note_addr(st, (h >> kHdrRefShift) & 3, out.addr[__builtin_ctz(out.mask)]);
  st.pc = out.pc;
  st.step = step;
  st.opcode = out.opcode;
}

void decode_kernel_meta(ByteCursor& c, hw::KernelInfo& info, uint64_t& ctas) {
  info = hw::KernelInfo{};
  info.name = c.string("kernel name");
  uint64_t at = c.offset();
  uint32_t* dims[6] = {&info.grid.x, &info.grid.y, &info.grid.z, &info.block.x, &info.block.y, &info.block.z};
  for (uint32_t* d : dims) *d = c.varint32("grid and block dimensions");
  std::string bad = check_kernel_info(info);
  if (!bad.empty()) c.fail(at, bad);
  info.shmem_bytes = c.varint32("shared memory size");
  info.nregs = c.varint32("register count");
  info.shmem_base = c.varint("shared window base");
  info.local_base = c.varint("local window base");
  at = c.offset();
  uint64_t n = c.varint("opcode count");
  // Each name takes at least its length byte: a corrupt count cannot make
  // us reserve more than the kernel's bytes.
  if (n > c.left()) c.fail(at, "opcode count " + std::to_string(n) + " exceeds the kernel's remaining bytes");
  info.opcodes.clear();
  info.opcodes.reserve(static_cast<size_t>(n));
  for (uint64_t i = 0; i < n; ++i) info.opcodes.push_back(c.string("opcode name"));
  at = c.offset();
  ctas = c.varint("CTA count");
  if (ctas > c.left() / 4)  // a CTA takes at least 4 bytes (id and warp count)
    c.fail(at, "CTA count " + std::to_string(ctas) + " exceeds what the kernel's remaining bytes can hold");
}

}  // namespace hmmsim::workload::native
