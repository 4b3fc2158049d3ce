#pragma once
// A kernel whose instructions are given as lists, for hw tests: one CTA per
// entry of `ctas`, each a list of warps, each a list of instructions.
#include <cstring>
#include <memory>
#include <vector>

#include "hw/kernel/kernel_source.h"

namespace hmmsim::sctest {

using Warp = std::vector<hw::WarpInstr>;

class ListKernel : public hw::IKernelSource {
 public:
  explicit ListKernel(std::vector<std::vector<Warp>> ctas, unsigned warps_per_cta = 0) : m_ctas(std::move(ctas)) {
    size_t w = warps_per_cta;
    for (auto& c : m_ctas) w = std::max(w, c.size());
    m_info.name = "list";
    m_info.grid = {static_cast<uint32_t>(m_ctas.size()), 1, 1};
    m_info.block = {static_cast<uint32_t>(w * 32), 1, 1};
  }
  const hw::KernelInfo& info() const override { return m_info; }
  bool next_cta(hw::CtaWork& out) override {
    if (m_next == m_ctas.size()) return false;
    out.id = {static_cast<uint32_t>(m_next), 0, 0};
    out.warps.clear();
    for (auto& w : m_ctas[m_next]) out.warps.push_back(std::make_unique<Stream>(w));
    ++m_next;
    return true;
  }

 private:
  struct Stream : hw::IWarpStream {
    explicit Stream(Warp w) : ops(std::move(w)) {}
    bool next(hw::WarpInstr& out) override {
      if (i == ops.size()) return false;
      out = ops[i++];
      return true;
    }
    Warp ops;
    size_t i = 0;
  };
  std::vector<std::vector<Warp>> m_ctas;
  size_t m_next = 0;
  hw::KernelInfo m_info;
};

// `bytes` at `va` as 4-byte lanes (bytes / 4 lanes, at most 32).
inline hw::WarpInstr mem(hw::InstrClass cls, uint64_t va, uint32_t bytes) {
  hw::WarpInstr in;
  in.cls = cls;
  in.width = 4;
  const unsigned lanes = bytes / 4;
  in.mask = lanes >= 32 ? ~0u : (1u << lanes) - 1;
  for (unsigned i = 0; i < lanes && i < 32; ++i) in.addr[i] = va + 4 * i;
  return in;
}
inline hw::WarpInstr ld(uint64_t va, uint32_t bytes) { return mem(hw::InstrClass::Load, va, bytes); }
inline hw::WarpInstr st(uint64_t va, uint32_t bytes, uint32_t value, uint32_t stride) {
  hw::WarpInstr in = mem(hw::InstrClass::Store, va, bytes);
  in.has_value = true;
  in.value = value;
  in.stride = stride;
  return in;
}

}  // namespace hmmsim::sctest
