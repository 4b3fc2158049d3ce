#pragma once
// Internal pieces of hmmsim's native trace format shared by the writer, the
// reader, the text form and the NVBit converter: varints, the per-warp
// instruction codec and a bounded byte reader. The layout itself is
// documented in native_trace.h.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "workload/io/trace_file.h"

namespace hmmsim::workload::native {

constexpr char kMagic[8] = {'H', 'M', 'M', 'T', 'R', 'A', 'C', 'E'};
constexpr uint16_t kVersion = 1;
constexpr size_t kFileHeaderBytes = 12;  // magic, u16 version, u16 flags
constexpr uint8_t kTagMemcpy = 'M', kTagKernel = 'K', kTagEnd = 'E';

// Instruction header bits (u16, little endian).
constexpr uint16_t kHdrClassMask = 0x3;       // bits 0-1: InstrClass
constexpr unsigned kHdrSpaceShift = 2;        // bits 2-3: MemSpace
constexpr unsigned kHdrWidthShift = 4;        // bits 4-6: width code
constexpr uint16_t kHdrFullMask = 1u << 7;    // mask == all 32 lanes: no mask field
constexpr uint16_t kHdrSameStep = 1u << 8;    // pc advanced by the previous step: no pc field
constexpr uint16_t kHdrSameOpcode = 1u << 9;  // opcode as before: no opcode field
constexpr uint16_t kHdrRegs = 1u << 10;       // register list present
constexpr uint16_t kHdrValue = 1u << 11;      // has_value: value and stride present
constexpr uint16_t kHdrUniform = 1u << 12;    // active lanes equally spaced: one stride
constexpr unsigned kHdrRefShift = 13;         // bits 13-14: address history entry the delta is from
constexpr uint16_t kHdrSameDelta = 1u << 15;  // first lane moved as last time from its entry
constexpr unsigned kWidthExplicit = 6;        // width code: a width byte follows

inline uint64_t zigzag(int64_t v) { return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63); }
inline int64_t unzigzag(uint64_t u) { return static_cast<int64_t>(u >> 1) ^ -static_cast<int64_t>(u & 1); }

void put_varint(std::string& out, uint64_t v);
void put_u16le(std::string& out, uint16_t v);
void put_u64le(std::string& out, uint64_t v);
void put_string(std::string& out, const std::string& s);  // varint length + bytes
size_t varint_size(uint64_t v);

// Delta state of one warp's stream: each field starts at 0.
struct WarpCodec {
  uint32_t pc = 0, step = 0;  // previous pc and the step that reached it
  uint16_t opcode = 0;
  // Recent first-active-lane addresses. A kernel interleaves a few arrays
  // (a[i] = b[i] + c[i]); each tends to keep its own entry, so a delta is
  // taken from the nearest entry rather than from the last access.
  uint64_t addr[4] = {};
  uint64_t delta[4] = {};         // the last delta that moved each entry
  uint8_t mru[4] = {0, 1, 2, 3};  // entries, most recently used first
};
constexpr unsigned kAddrHistory = 4;
// The entry an address is encoded against: the nearest (ties: lowest).
unsigned addr_ref(const WarpCodec& st, uint64_t a);
// Records address `a` encoded against entry `ref`.
void note_addr(WarpCodec& st, unsigned ref, uint64_t a);

// True if the instruction's active lanes (at least two) are equally spaced
// by lane index: addr[l] = addr[first] + (l - first) * stride.
bool uniform_stride(const hw::WarpInstr& in, int64_t& stride);
// The canonical header of `in` given the warp state before it.
uint16_t instr_header(const WarpCodec& st, const hw::WarpInstr& in);
// Appends the encoding of `in` and advances `st`. The caller has checked
// the instruction with check_instr.
void encode_instr(WarpCodec& st, const hw::WarpInstr& in, std::string& out);
// Empty if `in` can be written for a kernel with `opcodes` opcode names,
// else what is wrong with it.
std::string check_instr(const hw::WarpInstr& in, size_t opcodes);

struct WarpExtent {
  uint64_t instrs = 0, bytes = 0;
};

// Kernel metadata after the body length field, and a CTA's header + table.
void encode_kernel_meta(const hw::KernelInfo& info, uint64_t ctas, std::string& out);
void encode_cta_header(const hw::Dim3& id, const std::vector<WarpExtent>& warps, std::string& out);
std::string check_kernel_info(const hw::KernelInfo& info);  // empty if fine

// Reads [off, end) of a trace file through a small buffer. Every failure
// throws hw::SourceError "<file>: byte <offset>: <what>".
class ByteCursor {
 public:
  // `region` names what ends at `end`, for messages ("file", "warp stream").
  ByteCursor(std::shared_ptr<const TraceFile> file, uint64_t off, uint64_t end, size_t buffer,
             std::string region);
  uint64_t offset() const { return m_pos; }
  uint64_t end() const { return m_end; }
  uint64_t left() const { return m_end - m_pos; }
  const TraceFile& file() const { return *m_file; }
  const std::shared_ptr<const TraceFile>& file_ptr() const { return m_file; }

  uint8_t byte(const char* what);
  uint16_t u16le(const char* what);
  uint64_t u64le(const char* what);
  // Most varints are one byte (a canonical one-byte varint is any byte
  // below 0x80): that case inline, the rest out of line.
  uint64_t varint(const char* what) {
    if (m_pos >= m_buf_off && m_pos < m_buf_off + m_len) {
      const uint8_t b = m_buf[static_cast<size_t>(m_pos - m_buf_off)];
      if (!(b & 0x80)) {
        ++m_pos;
        return b;
      }
    }
    return varint_long(what);
  }
  uint32_t varint32(const char* what);  // a varint that must fit 32 bits
  std::string string(const char* what);
  void seek(uint64_t off);  // within [current region start, end]
  [[noreturn]] void fail(uint64_t at, const std::string& what) const;

 private:
  void fill(const char* what);
  uint64_t varint_long(const char* what);
  std::shared_ptr<const TraceFile> m_file;
  uint64_t m_pos, m_end;
  size_t m_cap;
  std::string m_region;
  std::vector<uint8_t> m_buf;
  uint64_t m_buf_off = 0;
  size_t m_len = 0;
};

// Decodes one instruction, rejecting any encoding the writer would not
// have produced (so that every accepted file has exactly one encoding).
void decode_instr(WarpCodec& st, ByteCursor& c, size_t opcodes, hw::WarpInstr& out);
// Reads the kernel metadata written by encode_kernel_meta; the cursor's
// end bounds the counts.
void decode_kernel_meta(ByteCursor& c, hw::KernelInfo& info, uint64_t& ctas);

std::string hex(uint64_t v);

}  // namespace hmmsim::workload::native
