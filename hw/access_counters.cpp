#include "hw/access_counters.h"

#include <algorithm>
#include <stdexcept>

#include "hwref/access_counter_entry.h"
#include "hwref/access_counter_regs.h"

namespace hmmsim::hw {

using sc_core::sc_time;
namespace pt = hwref::pt;

namespace {

constexpr uint64_t kMinGran = 64ull << 10, kMaxGran = 2ull << 20;  // mask: at most 32 x 64 KiB

bool valid_gran(uint64_t g) { return g >= kMinGran && g <= kMaxGran && !(g & (g - 1)); }
bool valid_threshold(uint32_t t) { return t >= 1 && t <= 65535; }

unsigned log2_of(uint64_t pow2) { return static_cast<unsigned>(__builtin_ctzll(pow2)); }

const AccessCounterSpec& checked(const AccessCounterSpec& s) {
  if (auto e = s.validate()) throw std::invalid_argument("access_counters." + e->key + ": " + e->message);
  return s;
}

}  // namespace

std::optional<common::SpecError> AccessCounterSpec::validate() const {
  if (!valid_gran(granularity_bytes))
    return common::SpecError{"granularity", "must be a power of two from 64 KiB to 2 MiB"};
  if (!valid_threshold(threshold)) return common::SpecError{"threshold", "must be 1 .. 65535"};
  if (ring_entries < 2) return common::SpecError{"ring_entries", "must be at least 2 (one slot stays empty)"};
  return std::nullopt;
}

AccessCounterCore::AccessCounterCore(const AccessCounterSpec& spec)
    : m_gran(checked(spec).granularity_bytes), m_gran_log2(log2_of(m_gran)), m_threshold(spec.threshold) {}

std::optional<AccessNotification> AccessCounterCore::record(uint64_t va, pt::Aperture ap, uint32_t count) {
  if (ap != pt::Aperture::SysCoherent && ap != pt::Aperture::SysNonCoherent) {
    ++s_ignored;
    return std::nullopt;
  }
  s_accesses += count;
  const uint64_t key = va >> m_gran_log2;
  Region& r = m_regions[key];
  r.count = static_cast<uint32_t>(std::min<uint64_t>(uint64_t(r.count) + count, UINT32_MAX));
  r.mask |= 1u << ((va & (m_gran - 1)) >> hwref::kAccessCounterSubRegionLog2);
  if (r.count < m_threshold) return std::nullopt;
  const AccessNotification n{key << m_gran_log2, r.count, r.mask};
  m_regions.erase(key);  // restarts from zero; erased keeps the map as small as the active set
  ++s_notifications;
  return n;
}

void AccessCounterCore::clear(uint64_t va, uint64_t len) {
  if (!len) return;
  const uint64_t end = va + len - 1 < va ? ~0ull : va + len - 1;  // clamp a range past 2^64
  const uint64_t first = va >> m_gran_log2, last = end >> m_gran_log2;
  if (last - first >= m_regions.size()) {  // wide range: walk the (sparse) map instead
    for (auto it = m_regions.begin(); it != m_regions.end();)
      it = it->first >= first && it->first <= last ? m_regions.erase(it) : std::next(it);
  } else {
    for (uint64_t k = first; k <= last; ++k) m_regions.erase(k);
  }
}

bool AccessCounterCore::set_granularity(uint64_t bytes) {
  if (!valid_gran(bytes)) return false;
  m_gran = bytes;
  m_gran_log2 = log2_of(bytes);
  m_regions.clear();
  return true;
}

bool AccessCounterCore::set_threshold(uint32_t t) {
  if (!valid_threshold(t)) return false;
  m_threshold = t;  // counters above it notify on their next access
  return true;
}

uint32_t AccessCounterCore::count(uint64_t va) const {
  auto it = m_regions.find(va >> m_gran_log2);
  return it == m_regions.end() ? 0 : it->second.count;
}

uint32_t AccessCounterCore::sub_mask(uint64_t va) const {
  auto it = m_regions.find(va >> m_gran_log2);
  return it == m_regions.end() ? 0 : it->second.mask;
}

AccessCounters::AccessCounters(sc_core::sc_module_name name, const AccessCounterSpec& spec)
    : sc_module(name), host_socket("host_socket"), m_core(spec) {}

void AccessCounters::record(uint64_t va, pt::Aperture ap, uint32_t count, const sc_time& delay) {
  if (!m_enabled) return;
  if (auto n = m_core.record(va, ap, count)) notify(*n, delay);
}

void AccessCounters::notify(const AccessNotification& n, const sc_time& delay) {
  if (m_entries == 0 || (m_put + 1) % m_entries == m_get) {
    // Full ring: the notification is lost (its counter already restarted).
    ++s_dropped;
    m_overflow = true;
    maybe_msi(delay);
    return;
  }
  hwref::AccessCounterEntry e;
  e.va = n.va;
  e.timestamp_ps = (sc_core::sc_time_stamp() + delay).value();  // resolution is 1 ps
  e.count = n.count;
  e.sub_mask = n.sub_mask;
  e.granularity_log2 = static_cast<uint8_t>(log2_of(m_core.granularity()));
  e.valid = 1;
  uint8_t raw[hwref::kAccessCounterEntryBytes];
  hwref::encode(e, raw);
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(m_ring + uint64_t(m_put) * hwref::kAccessCounterEntryBytes);
  t.set_data_ptr(raw);
  t.set_data_length(sizeof raw);
  t.set_streaming_width(sizeof raw);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  sc_time d = delay;  // posted
  host_socket->b_transport(t, d);
  if (!t.is_response_ok()) ++s_write_errors;
  ++s_written;
  m_put = (m_put + 1) % m_entries;
  maybe_msi(delay);
}

void AccessCounters::maybe_msi(const sc_time& delay) {
  if (!m_irq_enabled || !m_irq_armed) return;
  m_irq_armed = false;
  send_msi(delay);
}

void AccessCounters::send_msi(sc_time delay) {
  ++s_msis;
  m_irq_latched = true;
  uint32_t vector = hwref::kMsiVectorAccessCounter;
  tlm::tlm_generic_payload t;
  t.set_command(tlm::TLM_WRITE_COMMAND);
  t.set_address(m_msi_addr);
  t.set_data_ptr(reinterpret_cast<unsigned char*>(&vector));
  t.set_data_length(4);
  t.set_streaming_width(4);
  t.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  host_socket->b_transport(t, delay);
}

void AccessCounters::set_ring(uint64_t base, uint32_t entries) {
  m_ring = base;
  m_entries = entries;
  m_put = m_get = 0;
}

bool AccessCounters::set_granularity_log2(uint32_t log2) {
  return log2 < 64 && m_core.set_granularity(1ull << log2);
}

void AccessCounters::enable_irq(bool on, const sc_time& delay) {
  m_irq_enabled = on;
  if (on) ack_irq(delay);
}

void AccessCounters::ack_irq(const sc_time& delay) {
  m_irq_armed = true;
  m_irq_latched = false;
  if (m_put != m_get || m_overflow) maybe_msi(delay);
}

}  // namespace hmmsim::hw
