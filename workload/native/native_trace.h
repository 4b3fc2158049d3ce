#pragma once
// hmmsim's native trace format: a whole traced program (host-to-device
// copies and kernels, in order) in one compact binary file, with a text
// form for humans that converts back to the identical bytes.
//
// Binary layout, version 1. varint = unsigned LEB128 (at most 10 bytes,
// minimal length); zvarint = varint of a zigzag-encoded signed value;
// string = varint length + bytes; u16/u64 = little endian.
//
//   file    := "HMMTRACE" u16 version(=1) u16 flags(=0) record* 'E' <end of file>
//   record  := 'M' varint dst varint bytes                 MemcpyHtoD
//            | 'K' u64 body_len kernel                     body_len = bytes of `kernel`
//   kernel  := string name
//              varint grid.x grid.y grid.z block.x block.y block.z
//              varint shmem_bytes nregs shmem_base local_base
//              varint n_opcodes string*n_opcodes          KernelInfo::opcodes, entry 0 first
//              varint n_ctas cta*n_ctas                   in dispatch order
//   cta     := varint id.x id.y id.z varint n_warps        n_warps <= ceil(block threads / 32)
//              (varint n_instrs varint n_bytes)*n_warps   so each warp's offset is known
//              stream*n_warps                             back to back, warp 0 first
//   stream  := instr*n_instrs                             exactly n_bytes long
//
// Each warp stream is decoded on its own with a delta state that starts at
// zero: previous pc, previous pc step, previous opcode, and a history of 4
// first-active-lane addresses, each with the delta that last moved it
// (all 0; most recently used order 0,1,2,3). An address is encoded against
// the nearest entry (smallest zigzag delta; ties: the lowest entry), and
// not at all (SAME_DELTA) if it moved by that entry's last delta. Then, if
// within 1 MiB of it (zigzag delta < 2^21), it replaces that entry and its
// delta; otherwise it replaces the least recently used entry, with delta 0.
// The entry written becomes the most recently used. Interleaved arrays in
// a grid-stride loop (c[i] = a[i] + b[i]) thus cost no address delta.
//
//   instr   := u16 header
//              [u8 width]          width code 6
//              [varint mask]       unless FULL
//              [zvarint pc step]   unless SAME_STEP (pc - previous pc, 32-bit)
//              [varint opcode]     unless SAME_OPCODE
//              [u8 ndst<<4|nsrc, varint reg*(ndst+nsrc)]   if REGS
//              [varint value, zvarint stride]              if VALUE
//              addresses           memory instructions with a non-empty mask:
//                [zvarint (first active lane - history entry REF)] unless SAME_DELTA, then
//                UNIFORM: zvarint stride, addr[l] = addr[first] + (l - first) * stride
//                else:    zvarint (addr - previous active lane's addr) per further active lane
//   header  := bits 0-1 class (Compute, Load, Store, Atomic), 2-3 space (Global,
//              Shared, Local, Const), 4-6 width code (0,1,2,4,8,16 bytes; 6 =
//              explicit byte; 7 invalid), 7 FULL mask, 8 SAME_STEP, 9 SAME_OPCODE,
//              10 REGS, 11 VALUE, 12 UNIFORM, 13-14 REF (history entry), 15
//              SAME_DELTA (REF and SAME_DELTA are 0 without addresses).
//
// Address arithmetic is modulo 2^64, pc arithmetic modulo 2^32; the mask
// and value fit 32 bits, the value stride is a zigzag of its int32 form.
// The encoding is canonical: the writer sets a flag whenever it applies
// (UNIFORM whenever all active lanes, at least two, are equally spaced by
// lane index; REF as above) and the reader rejects anything else, so
// binary -> text -> binary reproduces the bytes. Inactive lanes' addresses,
// and the value and stride of instructions without has_value, are not
// stored (read back as 0); neither are addresses of compute instructions.
//
// Reading: the program scan skips kernels by body_len; a kernel source
// reads one CTA table at a time and gives each warp its own cursor with a
// buffer of at most 1 KiB, so memory is bounded by the warps in flight.
// Every malformed input throws hw::SourceError "<file>: byte <offset>: ...".
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "workload/io/trace_file.h"
#include "workload/io/trace_program.h"
#include "workload/native/native_codec.h"

namespace hmmsim::workload {

// Writes a program incrementally. Misuse (wrong call order, an instruction
// the format cannot hold) throws std::logic_error / std::invalid_argument;
// I/O errors throw hw::SourceError naming the file.
class NativeWriter {
 public:
  // A CTA's encoded streams are buffered up to `cta_buffer` bytes, then
  // spilled to an unlinked temporary file.
  explicit NativeWriter(const std::string& path, size_t cta_buffer = size_t(1) << 20);
  ~NativeWriter();  // without close(): the file lacks its end record (detectably truncated)
  NativeWriter(const NativeWriter&) = delete;
  NativeWriter& operator=(const NativeWriter&) = delete;

  void memcpy_htod(uint64_t dst, uint64_t bytes);
  // `ctas` CTAs must follow before end_kernel().
  void begin_kernel(const hw::KernelInfo& info, uint64_t ctas);
  // One complete CTA: its warps' instructions in order.
  void write_cta(const hw::Dim3& id, const std::vector<std::vector<hw::WarpInstr>>& warps);
  // The same, streamed: add() takes warps in nondecreasing order (a warp
  // skipped has no instructions), so memory stays bounded.
  void begin_cta(const hw::Dim3& id, unsigned warps);
  void add(unsigned warp, const hw::WarpInstr& in);
  void end_cta();
  // For converters that place warp streams themselves: writes the CTA's
  // header and table, reserves the streams' bytes and returns the offset of
  // warp 0's stream. The caller fills them with write_at() before close().
  uint64_t reserve_cta(const hw::Dim3& id, const std::vector<native::WarpExtent>& warps);
  void write_at(uint64_t off, const std::string& bytes);
  // A CTA already encoded (header, table and streams, as a kernel body
  // holds it), for recorders that encode while warps run; it may come in
  // several parts, `last` on the final one.
  void append_encoded_cta(const std::string& part, bool last = true);
  void end_kernel();
  void close();  // writes the end record

  const std::string& path() const { return m_path; }
  uint64_t size() const { return m_pos; }
  size_t opcode_count() const { return m_opcodes; }

 private:
  enum class State { Top, Kernel, Cta, Closed };
  void require(State s, const char* call) const;
  void put(const std::string& bytes);
  void flush();
  void pwrite_all(const char* p, size_t n, uint64_t off);
  void spill();
  [[noreturn]] void io_fail(const std::string& what) const;

  std::string m_path;
  int m_fd = -1;
  State m_state = State::Top;
  uint64_t m_pos = 0;  // end of the file as written so far (incl. m_out)
  std::string m_out;   // bytes not yet written; they end at m_pos
  // kernel
  uint64_t m_body_len_at = 0, m_ctas = 0, m_ctas_done = 0;
  size_t m_opcodes = 0;
  uint64_t m_max_warps = 0;
  // CTA being streamed
  hw::Dim3 m_cta_id;
  std::vector<native::WarpExtent> m_ext;
  unsigned m_warp = 0;
  native::WarpCodec m_codec;
  size_t m_cta_buffer;
  std::string m_cta_buf;
  int m_spill_fd = -1;
  uint64_t m_spilled = 0;
};

// Drains `src` CTA by CTA into the writer as one kernel. The source's
// opcode table must be complete when it starts; for sources that name
// opcodes as they decode (Accel-Sim), use NativeRecorder.
void write_kernel(NativeWriter& w, hw::IKernelSource& src);

// A native trace opened for reading. Kernels are numbered in file order;
// the k-th Kernel command of program() is kernel k.
class NativeTrace {
 public:
  explicit NativeTrace(const std::string& path);
  explicit NativeTrace(std::shared_ptr<const TraceFile> file);
  const TraceProgram& program() const { return m_program; }
  size_t kernel_count() const { return m_kernels.size(); }
  std::unique_ptr<hw::IKernelSource> open_kernel(size_t index) const;
  const std::shared_ptr<const TraceFile>& file() const { return m_file; }

 private:
  struct Kernel {
    uint64_t meta, end;  // offsets of the kernel's metadata and of its end
  };
  void scan();
  std::shared_ptr<const TraceFile> m_file;
  TraceProgram m_program;
  std::vector<Kernel> m_kernels;
};

// One-shot helpers. The returned program's Kernel commands name `path`.
TraceProgram load_native_program(const std::string& path);
std::unique_ptr<hw::IKernelSource> open_native_kernel(const std::string& path, size_t kernel_index);

// Text form: binary -> text and text -> binary (identical bytes). Text
// errors throw hw::SourceError "<file>:<line>: ...".
void write_native_text(const std::string& binary_path, const std::string& text_path);
// One instruction as the text form writes it ("load global w4 pc=0x10 ...").
std::string format_native_instr(const hw::WarpInstr& in);
void write_native_binary(const std::string& text_path, const std::string& binary_path);

}  // namespace hmmsim::workload
