#include "sim/oracle.h"

#include <algorithm>
#include <cstring>
#include <sstream>

namespace hmmsim::sim {

void DataOracle::wrote(uint64_t va, const uint8_t* data, uint64_t len) {
  while (len) {
    const uint64_t off = va & 4095, n = std::min<uint64_t>(len, 4096 - off);
    auto [it, fresh] = m_pages.try_emplace(va >> 12);
    if (fresh) it->second.fill(0);
    std::memcpy(it->second.data() + off, data, n);
    va += n, data += n, len -= n;
  }
}

void DataOracle::expected(uint64_t va, uint8_t* out, uint64_t len) const {
  while (len) {
    const uint64_t off = va & 4095, n = std::min<uint64_t>(len, 4096 - off);
    auto it = m_pages.find(va >> 12);
    if (it == m_pages.end())
      std::memset(out, 0, n);
    else
      std::memcpy(out, it->second.data() + off, n);
    va += n, out += n, len -= n;
  }
}

void DataOracle::note(const std::string& m) {
  if (m_msgs.size() < 20) m_msgs.push_back(m);
}

bool DataOracle::check(uint64_t va, const uint8_t* data, uint64_t len, const std::string& who) {
  ++s_checks;
  s_checked_bytes += len;
  std::vector<uint8_t> exp(len);
  expected(va, exp.data(), len);
  if (std::memcmp(exp.data(), data, len) == 0) return true;
  ++s_mismatches;
  uint64_t i = 0;
  while (exp[i] == data[i]) ++i;
  std::ostringstream os;
  os << who << ": data mismatch at va 0x" << std::hex << va + i << ": expected 0x" << int(exp[i])
     << ", read 0x" << int(data[i]);
  note(os.str());
  return false;
}

void DataOracle::on_access(unsigned sm, unsigned warp, const hw::WarpOp& op, const uint8_t* data,
                           uint64_t) {
  if (op.write) {
    wrote(op.va, data, op.bytes);
    return;
  }
  check(op.va, data, op.bytes, "gpu sm" + std::to_string(sm) + " warp" + std::to_string(warp));
}

void DataOracle::on_fatal(unsigned sm, unsigned warp, uint64_t va, uint64_t) {
  ++s_gpu_fatal;
  std::ostringstream os;
  os << "gpu sm" << sm << " warp" << warp << ": fatal fault at va 0x" << std::hex << va;
  note(os.str());
}

}  // namespace hmmsim::sim
