#pragma once
// One warp instruction as the SM executes it, whatever produced it (a
// synthetic kernel, an Accel-Sim or NVBit trace, hmmsim's own format).
// Plain C++: trace readers and generators build these without SystemC.
#include <cstdint>
#include <type_traits>

namespace hmmsim::hw {

constexpr unsigned kWarpSize = 32;

enum class InstrClass : uint8_t {
  Compute,  // no memory access: costs issue and latency cycles only
  Load,
  Store,
  Atomic,   // read-modify-write (atomics and reductions)
};

// Only Global is translated by the GMMU; the others cost time only.
enum class MemSpace : uint8_t { Global, Shared, Local, Const };

constexpr unsigned kMaxDst = 4, kMaxSrc = 6;
// Register ids: R0..R254 are 0..254, uniform registers UR0..UR63 are
// 256..319. The zero registers (R255, URZ) carry no dependency and are not
// listed.
constexpr uint16_t kRegCount = 320;
constexpr uint16_t kUniformRegBase = 256;

struct WarpInstr {
  InstrClass cls = InstrClass::Compute;
  MemSpace space = MemSpace::Global;
  uint8_t width = 0;         // bytes per lane (1 to 32), memory only
  uint8_t ndst = 0, nsrc = 0;
  uint16_t dst[kMaxDst] = {};
  uint16_t src[kMaxSrc] = {};
  uint16_t opcode = 0;       // index into KernelInfo::opcodes (0 = unnamed)
  uint32_t mask = 0;         // active lanes (bit i = lane i)
  uint32_t pc = 0;
  // Store data in `full` data mode, for kernels whose values mean something
  // (e.g. out[k] = in[k] + 1): the 32-bit word at address a gets value +
  // (a - first active lane's address) / 4 * stride. Without it the SM
  // writes a fresh version word repeated (what `tag` mode keeps per page).
  bool has_value = false;
  uint32_t value = 0, stride = 0;
  uint64_t addr[kWarpSize] = {};  // per-lane byte address; only active lanes are meaningful

  bool is_memory() const { return cls != InstrClass::Compute; }
  bool is_global() const { return is_memory() && space == MemSpace::Global; }
  bool writes_memory() const { return cls == InstrClass::Store || cls == InstrClass::Atomic; }
};
// Decoders reset everything before `addr` by copying bytes and leave the
// inactive lanes as they were: keep `addr` last and the type plain.
static_assert(std::is_trivially_copyable_v<WarpInstr> && std::is_standard_layout_v<WarpInstr>);

}  // namespace hmmsim::hw
