#pragma once
// The data oracle: the expected content of every page the program wrote.
// CPU stores and GPU stores update it; every CPU and GPU load is checked
// against it, so a page lost or left stale by migration, eviction, fork or
// copy-on-write shows up as a mismatch. It keeps contents the way the run's
// data mode does (common/page_store.h): full bytes (about 4 KiB per page
// written) or one version word per page (about 50 bytes per page written,
// hash-map overhead included); in `off` mode it checks nothing.
#include <array>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/page_store.h"
#include "hw/access_observer.h"

namespace hmmsim::sim {

class DataOracle : public hw::IAccessObserver {
 public:
  explicit DataOracle(common::DataMode mode = common::DataMode::Full) : m_mode(mode) {}
  common::DataMode mode() const { return m_mode; }

  void wrote(uint64_t va, const uint8_t* data, uint64_t len);
  // The range was discarded (munmap, MADV_DONTNEED): it reads zeros again.
  void forget(uint64_t va, uint64_t len);
  // Compares `data` with the expectation; records the first differences.
  bool check(uint64_t va, const uint8_t* data, uint64_t len, const std::string& who);
  void expected(uint64_t va, uint8_t* out, uint64_t len) const;

  // What a writer stores in `tag` mode (and may store in `full` mode): the
  // 64-bit `version` repeated, byte i of the range being byte (va + i) % 8.
  static void fill_version(uint8_t* buf, uint64_t va, uint64_t len, uint64_t version);

  void on_load(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, uint32_t len) override;
  void on_store(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, const uint8_t* enable,
                uint32_t len) override;
  void on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t time_ps) override;

  const std::vector<std::string>& messages() const { return m_msgs; }
  uint64_t pages_tracked() const { return m_mode == common::DataMode::Tag ? m_tags.size() : m_pages.size(); }
  uint64_t s_checks = 0, s_checked_bytes = 0, s_mismatches = 0, s_gpu_fatal = 0;

 private:
  using Page = std::array<uint8_t, 4096>;
  void write_page(uint64_t page, uint64_t off, const uint8_t* data, uint64_t n);
  void read_page(uint64_t page, uint64_t off, uint8_t* out, uint64_t n) const;
  void note(const std::string& m);
  const common::DataMode m_mode;
  std::unordered_map<uint64_t, Page> m_pages;     // full: untouched pages read zero
  std::unordered_map<uint64_t, uint64_t> m_tags;  // tag: one word per page
  std::vector<std::string> m_msgs;
  std::vector<uint8_t> m_exp;
};

}  // namespace hmmsim::sim
