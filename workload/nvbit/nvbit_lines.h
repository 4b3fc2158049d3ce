#pragma once
// Lines of NVBit's mem_trace output (internal to the NVBit reader).
//
// New style (NVBit >= 1.5, each line printed with a "MEMTRACE: " prefix):
//   MEMTRACE: CTX 0x<ctx> - LAUNCH - Kernel pc 0x<pc> - Kernel name <name> - grid launch id <N>
//             [- grid size x,y,z - block size x,y,z - nregs R - shmem S - cuda stream id I]
//   MEMTRACE: CTX 0x<ctx> - grid_launch_id <N> - CTA x,y,z - warp W - <OPCODE> - 0x<addr> x32
// Old style (2019 tools, no prefix, no launch id):
//   Kernel <name> - grid size x,y,z - block size x,y,z - nregs R - shmem S - cuda stream id I
//   CTA x,y,z - warp W - <OPCODE> - 0x<addr> x32
// Anything else (the application's own output, NVBit's banner, verbose
// messages) is not part of the trace and is skipped.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload::nvbit {

struct LaunchLine {
  bool new_style = false;
  uint64_t id = 0;  // grid launch id (new style)
  std::string name;
  bool has_dims = false;  // grid and block given
  hw::Dim3 grid, block;
  uint32_t nregs = 0, shmem = 0;
};

struct RecordLine {
  bool new_style = false;
  uint64_t launch = 0;  // grid launch id (new style)
  hw::Dim3 cta{0, 0, 0};
  uint32_t warp = 0;    // as printed: the hardware warp slot (%warpid)
  std::string_view opcode;
  uint64_t addr[hw::kWarpSize] = {};  // 0 = inactive lane
};

enum class LineKind { Other, Launch, Record };

// Parses lines of one file; errors are hw::SourceError "<file>:<line>: ...".
class LineParser {
 public:
  explicit LineParser(std::string path) : m_path(std::move(path)) {}
  // A line that starts like a trace line must parse completely.
  LineKind parse(std::string_view line, uint64_t line_no, LaunchLine& launch, RecordLine& rec);
  [[noreturn]] void fail(uint64_t line_no, const std::string& what) const;
  const std::string& path() const { return m_path; }

 private:
  void tokenize(std::string_view s);
  const std::string_view& tok(size_t i, const char* what);
  void expect(size_t i, const char* word);
  uint64_t number(size_t i, const char* what, uint64_t max);
  hw::Dim3 dims(size_t i, const char* what, uint32_t min);
  void parse_record(size_t first, RecordLine& rec);
  void parse_launch_tail(size_t first, LaunchLine& l);

  std::string m_path;
  uint64_t m_line = 0;
  std::vector<std::string_view> m_tok;
};

struct OpcodeInfo {
  hw::InstrClass cls = hw::InstrClass::Load;
  hw::MemSpace space = hw::MemSpace::Global;
  uint8_t width = 4;
};
// SASS memory opcode -> class, space and width; false if not a memory
// opcode this reader knows.
bool classify_opcode(std::string_view opcode, OpcodeInfo& out);

}  // namespace hmmsim::workload::nvbit
