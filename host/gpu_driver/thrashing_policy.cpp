#include "host/gpu_driver/thrashing_policy.h"

namespace hmmsim::host {

namespace {

class UvmThrashing : public IThrashingPolicy {
 public:
  UvmThrashing(const ThrashingSpec& s, bool throttle, bool pin) : m_spec(s), m_throttle(throttle), m_pin(pin) {}

  void on_migration(uint64_t va, Processor to, uint64_t now_ps) override {
    ++m_stats.s_events;
    // Like UVM, track a page only once a second processor wants it: a page
    // only the GPU migrates (first touch, eviction and refault) costs nothing.
    auto it = m_pages.find(va);
    if (it == m_pages.end() && to == Processor::Gpu) return;
    Page& p = it != m_pages.end() ? it->second : m_pages[va];
    const double now = double(now_ps) / 1000.0;
    if (p.events && now - p.last_ns > m_spec.epoch_ns) p = Page{};
    if (p.events && now - p.last_ns <= m_spec.lapse_ns && to != p.last_to)
      ++p.consecutive;
    else
      p.consecutive = 1;
    ++p.events;
    p.last_ns = now;
    p.last_to = to;
    if (p.consecutive == m_spec.threshold) ++m_stats.s_detected;
  }

  ThrashHint on_gpu_fault(uint64_t va, uint64_t now_ps) override {
    auto it = m_pages.find(va);
    if (it == m_pages.end()) return ThrashHint::None;
    Page& p = it->second;
    const double now = double(now_ps) / 1000.0;
    if (now < p.pinned_until) {
      ++m_stats.s_pinned_faults;
      return ThrashHint::Pin;
    }
    if (!thrashing(p, now)) return ThrashHint::None;
    if (m_pin && (!m_throttle || p.throttles >= m_spec.pin_threshold)) {
      p.pinned_until = now + m_spec.pin_ns;
      p.throttles = 0;
      p.consecutive = 0;  // a pinned page starts afresh when the pin ends
      ++m_stats.s_pinned;
      ++m_stats.s_pinned_faults;
      return ThrashHint::Pin;
    }
    if (!m_throttle) return ThrashHint::None;
    if (now >= p.throttled_until) {
      // A new throttle period; the fault that ends one is serviced.
      if (p.throttled_until > 0) {
        p.throttled_until = 0;
        return ThrashHint::None;
      }
      p.throttled_until = now + m_spec.nap_ns;
      ++p.throttles;
    }
    ++m_stats.s_throttled;
    return ThrashHint::Throttle;
  }

  bool is_thrashing(uint64_t va, uint64_t now_ps) const override {
    auto it = m_pages.find(va);
    return it != m_pages.end() && thrashing(it->second, double(now_ps) / 1000.0);
  }

 private:
  struct Page {
    uint64_t events = 0;
    uint32_t consecutive = 0, throttles = 0;
    double last_ns = 0, throttled_until = 0, pinned_until = 0;
    Processor last_to = Processor::Cpu;
  };
  // A pinned page counts as thrashing while pinned (prefetchers must not move it).
  bool thrashing(const Page& p, double now) const {
    return now < p.pinned_until || (p.consecutive >= m_spec.threshold && now - p.last_ns <= m_spec.epoch_ns);
  }
  const ThrashingSpec m_spec;
  const bool m_throttle, m_pin;
  std::unordered_map<uint64_t, Page> m_pages;  // pages that have migrated
};

}  // namespace

ThrashingRegistry& thrashing_registry() {
  static ThrashingRegistry r = [] {
    ThrashingRegistry reg("thrashing policy");
    auto add = [&](const char* name, bool throttle, bool pin) {
      reg.add(name, [=](const ThrashingSpec& s) { return std::make_unique<UvmThrashing>(s, throttle, pin); });
    };
    add("none", false, false);
    add("throttle", true, false);
    add("pin", false, true);
    add("uvm", true, true);
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
