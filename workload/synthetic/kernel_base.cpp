#include "workload/synthetic/kernel_base.h"

#include <algorithm>
#include <stdexcept>

namespace hmmsim::workload::synth {

std::vector<std::string> opcode_names(uint32_t width) {
  // SASS spells the access size as a suffix; 32 bits is the default.
  const char* sfx = width == 1 ? ".U8" : width == 2 ? ".U16" : width == 8 ? ".64" : width == 16 ? ".128" : "";
  std::string s(sfx);
  return {"", "LDG.E" + s, "STG.E" + s, "LDS" + s, "STS" + s, "FFMA", "IADD3"};
}

// --- Permutation

Permutation::Permutation(uint64_t n, uint64_t seed) : m_n(n), m_seed(mix64(seed ^ kSaltPerm)) {
  unsigned bits = 2;
  while (bits < 64 && (uint64_t(1) << bits) < n) ++bits;
  bits += bits & 1;  // balanced halves
  m_half = bits / 2;
  m_mask = (uint64_t(1) << m_half) - 1;
}

uint64_t Permutation::feistel(uint64_t x) const {
  uint64_t l = x >> m_half, r = x & m_mask;
  for (uint64_t round = 0; round < 4; ++round) {
    uint64_t f = hash_of(m_seed, round, r) & m_mask;
    uint64_t nl = r;
    r = l ^ f;
    l = nl;
  }
  return (l << m_half) | r;
}

uint64_t Permutation::operator()(uint64_t x) const {
  if (m_n <= 1) return 0;
  do x = feistel(x);
  while (x >= m_n);
  return x;
}

// --- instruction position and builders

Pos locate(uint64_t k, uint64_t steps, uint32_t ops, uint32_t c) {
  const uint64_t per_op = uint64_t(c) + 1, per_step = per_op * ops, per_pass = per_step * steps;
  Pos p;
  p.pass = k / per_pass;
  uint64_t rem = k % per_pass;
  p.step = rem / per_step;
  rem %= per_step;
  p.op = static_cast<uint32_t>(rem / per_op);
  p.sub = static_cast<uint32_t>(rem % per_op);
  p.mem = (p.pass * steps + p.step) * ops + p.op;
  p.body = static_cast<uint32_t>(rem);
  return p;
}

void set_mem(hw::WarpInstr& o, hw::InstrClass cls, hw::MemSpace space, uint16_t opcode,
             uint32_t width, uint32_t mask, uint32_t body) {
  o = hw::WarpInstr{};
  o.cls = cls;
  o.space = space;
  o.width = static_cast<uint8_t>(width);
  o.opcode = opcode;
  o.mask = mask;
  o.pc = body * kInstrBytes;
}

void set_regs(hw::WarpInstr& o, std::initializer_list<uint16_t> dst, std::initializer_list<uint16_t> src) {
  o.ndst = 0;
  for (uint16_t r : dst) o.dst[o.ndst++] = r;
  o.nsrc = 0;
  for (uint16_t r : src) o.src[o.nsrc++] = r;
}

void set_compute(hw::WarpInstr& o, uint16_t opcode, uint32_t mask, uint32_t body, uint16_t dst,
                 std::initializer_list<uint16_t> src) {
  o = hw::WarpInstr{};
  o.cls = hw::InstrClass::Compute;
  o.opcode = opcode;
  o.mask = mask;
  o.pc = body * kInstrBytes;
  set_regs(o, {dst}, src);
}

void after_load(hw::WarpInstr& o, uint32_t sub, uint16_t v, uint32_t mask, uint32_t body) {
  if (sub == 1)
    set_compute(o, kOpFfma, mask, body, kRegAcc, {v, kRegAcc});
  else
    set_compute(o, kOpFfma, mask, body, kRegAcc, {kRegAcc});
}

void after_store(hw::WarpInstr& o, uint32_t mask, uint32_t body) {
  set_compute(o, kOpIadd, mask, body, kRegAddr, {kRegAddr});
}

void fail(const SyntheticSpec& s, const std::string& what) {
  throw std::invalid_argument("synthetic kernel '" + s.kernel + "': " + what);
}

// --- SynthKernel

SynthKernel::SynthKernel(const SyntheticSpec& s) : m_spec(s) {
  const uint32_t w = s.width;
  if (w != 1 && w != 2 && w != 4 && w != 8 && w != 16)
    fail(s, "width " + std::to_string(w) + " not allowed (1, 2, 4, 8 or 16 bytes)");
  if (s.footprint == 0 || s.footprint % kPage != 0)
    fail(s, "footprint " + std::to_string(s.footprint) + " must be a positive multiple of 4096 bytes");
  if (s.base_va % (uint64_t(2) << 20) != 0)
    fail(s, "base_va " + std::to_string(s.base_va) + " must be 2 MiB aligned");
  if (s.base_va + s.footprint < s.base_va)
    fail(s, "base_va + footprint overflows the address space");
  if (s.iterations == 0) fail(s, "iterations must be at least 1");
  if (!(s.write_ratio >= 0 && s.write_ratio <= 1))
    fail(s, "write_ratio " + std::to_string(s.write_ratio) + " must be in [0, 1]");
  if (s.compute_per_access > 4096)
    fail(s, "compute_per_access " + std::to_string(s.compute_per_access) + " is above 4096");
  m_elems = s.footprint / w;
  m_c = s.compute_per_access;
  m_info.name = s.kernel;
  m_info.opcodes = opcode_names(w);
  m_info.nregs = 32;
}

uint64_t SynthKernel::add_array(const std::string& name, uint64_t bytes, bool reads, bool writes) {
  const uint64_t off = m_used;
  if (bytes == 0 || bytes > m_spec.footprint - off)
    fail(m_spec, "footprint " + std::to_string(m_spec.footprint) + " too small for array '" + name + "'");
  m_layout.push_back({name, off, bytes, reads, writes});
  m_used = off + (bytes + kPage - 1) / kPage * kPage;
  if (m_used > m_spec.footprint) m_used = m_spec.footprint;
  return off;
}

void SynthKernel::launch(uint64_t threads_wanted) {
  const hw::Dim3& b = m_spec.block;
  if (b.x == 0 || b.y == 0 || b.z == 0 || b.count() > 1024)
    fail(m_spec, "block must have 1 to 1024 threads (every dimension at least 1)");
  hw::Dim3 g = m_spec.grid;
  if (g.x == 0) {
    if (g.y != 1 || g.z != 1) fail(m_spec, "grid.y and grid.z must be 1 when grid.x is 0 (automatic)");
    uint64_t ctas = (threads_wanted + b.count() - 1) / b.count();
    g.x = static_cast<uint32_t>(ctas == 0 ? 1 : ctas > kMaxDefaultCtas ? kMaxDefaultCtas : ctas);
  }
  launch(g, b);
}

void SynthKernel::launch(hw::Dim3 grid, hw::Dim3 block) {
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.count() > (uint64_t(1) << 32))
    fail(m_spec, "grid must have 1 to 2^32 CTAs (every dimension at least 1)");
  m_info.grid = grid;
  m_info.block = block;
  m_tpc = static_cast<uint32_t>(block.count());
  m_threads = grid.count() * m_tpc;
}

uint32_t SynthKernel::warp_lanes(unsigned warp) const {
  const uint64_t first = uint64_t(warp) * kLanes;
  return first >= m_tpc ? 0 : static_cast<uint32_t>(std::min<uint64_t>(kLanes, m_tpc - first));
}

uint64_t SynthKernel::gs_steps(uint64_t cta, unsigned warp, uint64_t units) const {
  // Lane 0 has the smallest thread index: the warp loops while it has work.
  const uint64_t t0 = first_thread(cta, warp);
  return t0 < units ? (units - t0 + m_threads - 1) / m_threads : 0;
}

uint32_t SynthKernel::gs_mask(uint64_t cta, unsigned warp, uint64_t units, uint64_t step) const {
  const uint64_t u0 = gs_unit(cta, warp, 0, step);
  if (u0 >= units) return 0;
  return low_mask(std::min<uint64_t>(warp_lanes(warp), units - u0));
}

bool SynthKernel::is_store(uint64_t cta, unsigned warp, uint64_t mem) const {
  if (m_spec.write_ratio <= 0) return false;
  return unit_interval(hash_of(m_spec.seed, kSaltWrite, cta, warp, mem)) < m_spec.write_ratio;
}

}  // namespace hmmsim::workload::synth
