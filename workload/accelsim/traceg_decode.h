#pragma once
// Decoding of one Accel-Sim `.traceg` instruction line into a WarpInstr:
//   [line_num] PC mask dest_num [dests] opcode src_num [srcs] mem_width
//   [address mode + addresses] [immediate]
// Which optional fields exist is a property of the file (its header), so
// it is passed in as a LineFormat.
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::workload::accelsim {

struct LineFormat {
  bool lineinfo = false;   // `-enable lineinfo = 1`: a source line number comes first
  bool immediate = false;  // the `#traces format` line ends in `immediate`
  // Windows of generic LD/ST/ATOM: [base, base + 16 MiB); 0 = not given.
  uint64_t shmem_base = 0, local_base = 0;
};

constexpr uint64_t kWindowBytes = 16ull << 20;

// Interns opcode strings (with modifiers) into KernelInfo::opcodes; the
// vector is the kernel's, this only adds a fast lookup next to it.
class OpcodeTable {
 public:
  explicit OpcodeTable(std::vector<std::string>& names);
  OpcodeTable(const OpcodeTable&) = delete;
  OpcodeTable& operator=(const OpcodeTable&) = delete;
  // The opcode's index; false if the table is full (65535 names).
  bool intern(std::string_view op, uint16_t& id);

 private:
  std::vector<std::string>& m_names;
  std::deque<std::string> m_store;  // stable storage for the map's keys
  std::unordered_map<std::string_view, uint16_t> m_ids;
};

// What a memory opcode does and where. `first_addr` is the first active
// lane's address (generic opcodes are placed by it); `has_lane` is false
// for a mask of 0. Returns false for an opcode it cannot place.
bool classify_memory(std::string_view opcode, bool has_lane, uint64_t first_addr, const LineFormat& fmt,
                     hw::InstrClass& cls, hw::MemSpace& space);

// Decodes `line` into `out` (fully overwritten). Throws hw::SourceError
// "<file>:<line_no>: <what was expected>" on malformed input.
void decode_line(std::string_view line, const std::string& file, uint64_t line_no, const LineFormat& fmt,
                 OpcodeTable& opcodes, hw::WarpInstr& out);

}  // namespace hmmsim::workload::accelsim
