#pragma once
// Helpers for the native trace tests: a scratch directory, instruction
// builders and comparison, draining a kernel source into memory.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "workload/native/native_trace.h"

namespace hmmsim::workload::test {

class ScratchDir {
 public:
  ScratchDir() {
    std::string templ = ::testing::TempDir() + "hmm_native_XXXXXX";
    if (!::mkdtemp(templ.data())) throw std::runtime_error("mkdtemp failed");
    m_dir = templ;
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
  }
  std::string path(const std::string& name) const { return m_dir + "/" + name; }

 private:
  std::string m_dir;
};

inline std::string read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::ostringstream s;
  s << f.rdbuf();
  return s.str();
}

inline void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

inline bool same_instr(const hw::WarpInstr& a, const hw::WarpInstr& b) {
  if (a.cls != b.cls || a.space != b.space || a.width != b.width || a.ndst != b.ndst || a.nsrc != b.nsrc ||
      a.opcode != b.opcode || a.mask != b.mask || a.pc != b.pc || a.has_value != b.has_value ||
      a.value != b.value || a.stride != b.stride)
    return false;
  for (unsigned i = 0; i < hw::kMaxDst; ++i)
    if (a.dst[i] != b.dst[i]) return false;
  for (unsigned i = 0; i < hw::kMaxSrc; ++i)
    if (a.src[i] != b.src[i]) return false;
  // Only the active lanes of a memory instruction carry addresses (the
  // native reader leaves the others as they were).
  if (a.is_memory())
    for (unsigned i = 0; i < hw::kWarpSize; ++i)
      if ((a.mask >> i & 1) && a.addr[i] != b.addr[i]) return false;
  return true;
}

// A memory instruction whose active lanes access base + lane * stride.
inline hw::WarpInstr mem_instr(hw::InstrClass cls, hw::MemSpace space, uint8_t width, uint32_t mask,
                               uint64_t base, int64_t stride, uint32_t pc, uint16_t op) {
  hw::WarpInstr in;
  in.cls = cls;
  in.space = space;
  in.width = width;
  in.mask = mask;
  in.pc = pc;
  in.opcode = op;
  for (unsigned l = 0; l < hw::kWarpSize; ++l)
    if (mask >> l & 1) in.addr[l] = base + static_cast<uint64_t>(l) * static_cast<uint64_t>(stride);
  return in;
}

struct DrainedCta {
  hw::Dim3 id;
  std::vector<std::vector<hw::WarpInstr>> warps;
};

inline std::vector<DrainedCta> drain(hw::IKernelSource& src) {
  std::vector<DrainedCta> out;
  hw::CtaWork cta;
  while (src.next_cta(cta)) {
    DrainedCta d;
    d.id = cta.id;
    for (auto& w : cta.warps) {
      d.warps.emplace_back();
      hw::WarpInstr in;
      while (w->next(in)) d.warps.back().push_back(in);
    }
    out.push_back(std::move(d));
  }
  return out;
}

// Expects `what()` of the SourceError thrown by `fn` to contain `part`.
template <class F>
void expect_source_error(F&& fn, const std::string& part) {
  try {
    fn();
    ADD_FAILURE() << "no SourceError; expected one containing: " << part;
  } catch (const hw::SourceError& e) {
    EXPECT_NE(std::string(e.what()).find(part), std::string::npos) << "message: " << e.what() << "\nwanted: " << part;
  }
}

}  // namespace hmmsim::workload::test
