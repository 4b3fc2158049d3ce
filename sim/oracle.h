#pragma once
// The data oracle: the expected content of every tracked byte. CPU stores
// and GPU stores update it; every CPU and GPU load is checked against it, so
// a page lost or left stale by migration shows up as a mismatch.
#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "hw/access_observer.h"

namespace hmmsim::sim {

class DataOracle : public hw::IAccessObserver {
 public:
  void wrote(uint64_t va, const uint8_t* data, uint64_t len);
  // Compares `data` with the expectation; records the first differences.
  bool check(uint64_t va, const uint8_t* data, uint64_t len, const std::string& who);
  void expected(uint64_t va, uint8_t* out, uint64_t len) const;

  void on_access(unsigned sm, unsigned warp, const hw::WarpOp& op, const uint8_t* data,
                 uint64_t time_ps) override;
  void on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t time_ps) override;

  const std::vector<std::string>& messages() const { return m_msgs; }
  uint64_t s_checks = 0, s_checked_bytes = 0, s_mismatches = 0, s_gpu_fatal = 0;

 private:
  using Page = std::array<uint8_t, 4096>;
  void note(const std::string& m);
  std::map<uint64_t, Page> m_pages;  // untouched pages are expected to read zero
  std::vector<std::string> m_msgs;
};

}  // namespace hmmsim::sim
