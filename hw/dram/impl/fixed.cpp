// "fixed": every access waits a fixed latency, then its bytes cross its
// channel at the channel bandwidth (channels interleave as in the Spec's
// chunks; no banks, no rows). A baseline for sensitivity studies.
#include <algorithm>
#include <stdexcept>
#include <vector>

#include "hw/dram/impl/register.h"

namespace hmmsim::hw::dram_impl {
namespace {

class Fixed final : public IDramTiming {
 public:
  explicit Fixed(const DramSpec& s) : m_spec(s), m_bus_free(s.channels, 0) {}

  double access(uint64_t pa, uint64_t len, bool write, double t) override {
    const uint64_t il = m_spec.interleave_bytes;
    double done = t;
    for (uint64_t a = pa; a < pa + len;) {
      const uint64_t n = std::min(pa + len - a, il - a % il);
      double& bus = m_bus_free[(a / il) % m_spec.channels];
      bus = std::max(t + m_spec.latency_ns, bus) + double(n) / m_spec.channel_gbps;
      done = std::max(done, bus);
      ++(write ? m_counters.writes : m_counters.reads);
      (write ? m_counters.bytes_written : m_counters.bytes_read) += n;
      a += n;
    }
    return done;
  }

 private:
  const DramSpec m_spec;
  std::vector<double> m_bus_free;
};

}  // namespace

std::unique_ptr<IDramTiming> make_fixed(const DramSpec& s) {
  if (auto e = check_dram_spec(s)) throw std::invalid_argument("DRAM spec: " + e->key + ": " + e->message);
  return std::make_unique<Fixed>(s);
}

}  // namespace hmmsim::hw::dram_impl
