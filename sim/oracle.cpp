#include "sim/oracle.h"

#include <algorithm>
#include <cstring>
#include <sstream>

#include "common/byte_runs.h"

namespace hmmsim::sim {

using common::DataMode;

void DataOracle::fill_version(uint8_t* buf, uint64_t va, uint64_t len, uint64_t version) {
  common::fill_word_pattern(buf, va, len, version);
}

void DataOracle::write_page(uint64_t page, uint64_t off, const uint8_t* data, uint64_t n) {
  if (m_mode == DataMode::Full) {
    auto [it, fresh] = m_pages.try_emplace(page);
    if (fresh) it->second.fill(0);
    std::memcpy(it->second.data() + off, data, n);
    return;
  }
  // Tag: the same folding as common::PageStore, so both sides agree.
  uint64_t& word = m_tags[page];
  uint8_t w[8];
  std::memcpy(w, &word, 8);
  for (uint64_t i = 0; i < n && i < 8; ++i) w[(off + i) & 7] = data[i];
  std::memcpy(&word, w, 8);
}

void DataOracle::read_page(uint64_t page, uint64_t off, uint8_t* out, uint64_t n) const {
  if (m_mode == DataMode::Full) {
    auto it = m_pages.find(page);
    if (it == m_pages.end())
      std::memset(out, 0, n);
    else
      std::memcpy(out, it->second.data() + off, n);
    return;
  }
  auto it = m_tags.find(page);
  fill_version(out, off, n, it == m_tags.end() ? 0 : it->second);
}

void DataOracle::wrote(uint64_t va, const uint8_t* data, uint64_t len) {
  if (m_mode == DataMode::Off) return;
  while (len) {
    const uint64_t off = va & 4095, n = std::min<uint64_t>(len, 4096 - off);
    write_page(va >> 12, off, data, n);
    va += n, data += n, len -= n;
  }
}

void DataOracle::forget(uint64_t va, uint64_t len) {
  if (m_mode == DataMode::Off) return;
  static const uint8_t kZero[4096] = {};
  while (len) {
    const uint64_t off = va & 4095, n = std::min<uint64_t>(len, 4096 - off);
    if (off == 0 && n == 4096) {
      m_pages.erase(va >> 12);
      m_tags.erase(va >> 12);
    } else {
      write_page(va >> 12, off, kZero, n);
    }
    va += n, len -= n;
  }
}

void DataOracle::expected(uint64_t va, uint8_t* out, uint64_t len) const {
  while (len) {
    const uint64_t off = va & 4095, n = std::min<uint64_t>(len, 4096 - off);
    read_page(va >> 12, off, out, n);
    va += n, out += n, len -= n;
  }
}

void DataOracle::note(const std::string& m) {
  if (m_msgs.size() < 20) m_msgs.push_back(m);
}

bool DataOracle::check(uint64_t va, const uint8_t* data, uint64_t len, const std::string& who) {
  if (m_mode == DataMode::Off) return true;
  ++s_checks;
  s_checked_bytes += len;
  m_exp.resize(len);
  expected(va, m_exp.data(), len);
  if (std::memcmp(m_exp.data(), data, len) == 0) return true;
  ++s_mismatches;
  uint64_t i = 0;
  while (m_exp[i] == data[i]) ++i;
  std::ostringstream os;
  os << who << ": data mismatch at va 0x" << std::hex << va + i << ": expected 0x" << int(m_exp[i])
     << ", read 0x" << int(data[i]);
  note(os.str());
  return false;
}

void DataOracle::on_load(unsigned sm, unsigned warp, uint64_t va, const uint8_t* data, uint32_t len) {
  if (m_mode == DataMode::Off) return;
  if (m_exp.size() < len) m_exp.resize(len);
  expected(va, m_exp.data(), len);
  if (std::memcmp(m_exp.data(), data, len) == 0) {  // the common case: no string built
    ++s_checks;
    s_checked_bytes += len;
    return;
  }
  check(va, data, len, "gpu sm" + std::to_string(sm) + " warp" + std::to_string(warp));
}

void DataOracle::on_store(unsigned, unsigned, uint64_t va, const uint8_t* data, const uint8_t* enable,
                          uint32_t len) {
  if (m_mode == DataMode::Off) return;
  common::for_each_enabled_run(enable, len, len, [&](uint64_t off, uint64_t n) { wrote(va + off, data + off, n); });
}

void DataOracle::on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t) {
  ++s_gpu_fatal;
  std::ostringstream os;
  os << "gpu sm" << sm << " warp" << warp << ": fatal fault at va 0x" << std::hex << va;
  note(os.str());
}

}  // namespace hmmsim::sim
