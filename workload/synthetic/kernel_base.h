#pragma once
// Building blocks shared by the synthetic kernels (internal to
// workload/synthetic): the kernel base class and its registry, counter-based
// hashing, a seeded bijection, grid-stride bookkeeping and instruction
// builders.
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "workload/synthetic/synthetic.h"

namespace hmmsim::workload::synth {

constexpr uint64_t kPage = 4096;
constexpr uint32_t kLanes = hw::kWarpSize;
constexpr uint32_t kInstrBytes = 16;  // pc step, as in SASS

// Opcode ids, the same in every synthetic kernel (KernelInfo::opcodes).
enum Op : uint16_t { kOpLdg = 1, kOpStg, kOpLds, kOpSts, kOpFfma, kOpIadd };
// Names for the table above; memory opcodes carry the access width.
std::vector<std::string> opcode_names(uint32_t width);

// Register conventions (documentation for trace readers, not a contract).
constexpr uint16_t kRegPtr = 1;   // pointer_chase: the chased pointer
constexpr uint16_t kRegAddr = 2;  // global address / loop index
constexpr uint16_t kRegShm = 3;   // shared-memory address
constexpr uint16_t kRegAcc = 4;   // accumulator fed by loads, read by stores
constexpr uint16_t kRegIdx = 6;   // graph: vertex index loaded from the edge list
constexpr uint16_t kRegVal = 8;   // first register that receives loaded values

// --- counter-based randomness: no shared state, so every warp's stream is
// independent of the order in which warps are drained.
inline uint64_t mix64(uint64_t z) {
  z += 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
inline uint64_t hash_of(uint64_t h) { return h; }
template <class... Rest>
uint64_t hash_of(uint64_t h, uint64_t v, Rest... rest) {
  return hash_of(mix64(h ^ mix64(v)), rest...);
}
// Uniform double in [0, 1) from the top 53 bits.
inline double unit_interval(uint64_t h) { return static_cast<double>(h >> 11) * 0x1.0p-53; }

// Salts so that different decisions drawn from the same counters differ.
enum Salt : uint64_t { kSaltWrite = 0x57, kSaltAddr = 0xad, kSaltPage = 0x9a, kSaltElem = 0xe1,
                       kSaltPerm = 0x9e };

// A seeded bijection on [0, n): a balanced Feistel network on the smallest
// even number of bits covering n, walked until it lands inside [0, n)
// (cycle walking keeps it a bijection; the domain is under 4n, so a few
// rounds on average).
class Permutation {
 public:
  Permutation(uint64_t n, uint64_t seed);
  uint64_t operator()(uint64_t x) const;
  uint64_t size() const { return m_n; }

 private:
  uint64_t feistel(uint64_t x) const;
  uint64_t m_n, m_seed;
  unsigned m_half;
  uint64_t m_mask;
};

// Position of instruction k in a warp whose program is `passes` x `steps`
// units of `ops` memory instructions, each followed by `c` compute ones.
struct Pos {
  uint64_t pass, step;  // step within the pass
  uint32_t op, sub;     // memory op in the unit; sub 0 = the memory op, 1..c = compute
  uint64_t mem;         // index of the memory op among the warp's memory ops
  uint32_t body;        // static position in the loop body (op * (c + 1) + sub)
};
Pos locate(uint64_t k, uint64_t steps, uint32_t ops, uint32_t c);

// Instruction builders. Each resets `o` first.
void set_mem(hw::WarpInstr& o, hw::InstrClass cls, hw::MemSpace space, uint16_t opcode,
             uint32_t width, uint32_t mask, uint32_t body);
void set_compute(hw::WarpInstr& o, uint16_t opcode, uint32_t mask, uint32_t body, uint16_t dst,
                 std::initializer_list<uint16_t> src);
void set_regs(hw::WarpInstr& o, std::initializer_list<uint16_t> dst, std::initializer_list<uint16_t> src);
// Compute after a load into `v`: the first folds v into the accumulator
// (and so waits for the load), the rest lengthen that chain.
void after_load(hw::WarpInstr& o, uint32_t sub, uint16_t v, uint32_t mask, uint32_t body);
// Compute after a store: loop-index arithmetic that the next address needs.
void after_store(hw::WarpInstr& o, uint32_t mask, uint32_t body);
inline uint32_t low_mask(uint64_t n) { return n >= 32 ? 0xffffffffu : (1u << n) - 1; }

[[noreturn]] void fail(const SyntheticSpec& s, const std::string& what);

// A kernel: validated spec, launch shape, data layout, and its instruction
// generator. Immutable once built, so many warp streams share it.
class SynthKernel {
 public:
  explicit SynthKernel(const SyntheticSpec& s);  // checks the common parameters
  virtual ~SynthKernel() = default;
  SynthKernel(const SynthKernel&) = delete;
  SynthKernel& operator=(const SynthKernel&) = delete;

  const SyntheticSpec& spec() const { return m_spec; }
  const hw::KernelInfo& info() const { return m_info; }
  const std::vector<SyntheticArray>& layout() const { return m_layout; }
  uint64_t ctas() const { return m_info.grid.count(); }

  // Instructions of warp `warp` of CTA `cta` (linear index, dispatch order).
  virtual uint64_t warp_length(uint64_t cta, unsigned warp) const = 0;
  // Its k-th instruction (k < warp_length).
  virtual void emit(uint64_t cta, unsigned warp, uint64_t k, hw::WarpInstr& out) const = 0;

 protected:
  // Appends a page-aligned array after the previous one; fails if the
  // footprint cannot hold it.
  uint64_t add_array(const std::string& name, uint64_t bytes, bool reads, bool writes);
  // Fixes grid and block from the spec; grid.x == 0 launches enough CTAs
  // for `threads_wanted` threads (at least one, at most kMaxDefaultCtas).
  void launch(uint64_t threads_wanted);
  void launch(hw::Dim3 grid, hw::Dim3 block);

  // Threads: thread t of the grid is lane t % 32 of warp (t % tpc) / 32 of CTA t / tpc.
  uint64_t first_thread(uint64_t cta, unsigned warp) const { return cta * m_tpc + uint64_t(warp) * kLanes; }
  uint32_t warp_lanes(unsigned warp) const;  // lanes that exist (the last warp may be partial)
  // Grid-stride loop over `units`: thread t takes units t, t + T, t + 2T...
  uint64_t gs_steps(uint64_t cta, unsigned warp, uint64_t units) const;
  uint32_t gs_mask(uint64_t cta, unsigned warp, uint64_t units, uint64_t step) const;
  uint64_t gs_unit(uint64_t cta, unsigned warp, unsigned lane, uint64_t step) const {
    return first_thread(cta, warp) + lane + step * m_threads;
  }
  // Per-instruction store decision for kernels that honour write_ratio.
  bool is_store(uint64_t cta, unsigned warp, uint64_t mem) const;

  // Kernels with one memory instruction per grid-stride step over `units`
  // (streaming_read, strided, random): iterations passes, each step a load
  // into a rotating value register (or, when `may_store` and is_store say
  // so, a store of the accumulator) followed by compute_per_access compute
  // instructions. `lane_addr(cta, warp, lane, pos)` places each active lane.
  // Instructions of a warp whose grid-stride steps hold `ops` memory
  // instructions, each followed by compute_per_access compute ones.
  uint64_t gs_length(uint64_t cta, unsigned warp, uint64_t units, uint64_t ops = 1) const {
    return m_spec.iterations * gs_steps(cta, warp, units) * ops * (m_c + 1);
  }
  template <class LaneAddr>
  void emit_gs(uint64_t cta, unsigned warp, uint64_t k, uint64_t units, bool may_store, hw::WarpInstr& o,
               LaneAddr lane_addr) const {
    const Pos p = locate(k, gs_steps(cta, warp, units), 1, m_c);
    const uint32_t mask = gs_mask(cta, warp, units, p.step);
    const uint16_t v = static_cast<uint16_t>(kRegVal + p.step % 4);
    const bool store = may_store && is_store(cta, warp, p.mem);
    if (p.sub != 0) return store ? after_store(o, mask, p.body) : after_load(o, p.sub, v, mask, p.body);
    set_mem(o, store ? hw::InstrClass::Store : hw::InstrClass::Load, hw::MemSpace::Global,
            store ? kOpStg : kOpLdg, m_spec.width, mask, p.body);
    if (store)
      set_regs(o, {}, {kRegAddr, kRegAcc});
    else
      set_regs(o, {v}, {kRegAddr});
    for (unsigned i = 0; i < kLanes; ++i)
      if (mask >> i & 1) o.addr[i] = lane_addr(cta, warp, i, p);
  }

  SyntheticSpec m_spec;
  hw::KernelInfo m_info;
  std::vector<SyntheticArray> m_layout;
  uint64_t m_elems = 0;      // footprint / width
  uint32_t m_tpc = 0;        // threads per CTA
  uint64_t m_threads = 0;    // threads in the grid
  uint32_t m_c = 0;          // compute_per_access

 private:
  uint64_t m_used = 0;       // bytes laid out so far
};

// --- registry: each kernel's file provides a register_<name>() that adds
// its factory; the list of those calls lives in registry.cpp (a static
// library drops object files nothing refers to, so self-registering
// globals would silently vanish).
using KernelFactory = std::shared_ptr<const SynthKernel> (*)(const SyntheticSpec&);

class Registry {
 public:
  void add(const std::string& name, KernelFactory f);
  KernelFactory find(const std::string& name) const;  // nullptr if unknown
  const std::vector<std::string>& names() const { return m_names; }

 private:
  std::map<std::string, KernelFactory> m_factories;
  std::vector<std::string> m_names;  // sorted
};

const Registry& registry();
std::shared_ptr<const SynthKernel> build_kernel(const SyntheticSpec& s);

void register_streaming_read(Registry& r);
void register_streaming_rw(Registry& r);
void register_strided(Registry& r);
void register_random(Registry& r);
void register_pointer_chase(Registry& r);
void register_stencil2d(Registry& r);
void register_gemm_tiled(Registry& r);
void register_graph(Registry& r);
void register_pingpong(Registry& r);
void register_tlb_chase(Registry& r);

}  // namespace hmmsim::workload::synth
