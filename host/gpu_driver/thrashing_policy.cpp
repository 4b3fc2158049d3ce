#include "host/gpu_driver/thrashing_policy.h"

#include <cassert>
#include <unordered_map>

#include "common/block_table.h"

namespace hmmsim::host {

namespace {

class UvmThrashing : public IThrashingPolicy {
 public:
  UvmThrashing(const ThrashingSpec& s, bool throttle, bool pin) : m_spec(s), m_throttle(throttle), m_pin(pin) {}

  // `va` is a page address: pages are kept by page number.
  void on_migration(uint64_t va, Processor to, uint64_t now_ps) override {
    assert(!(va & 4095));
    ++m_stats.s_events;
    // Like UVM, track a page only once a second processor wants it: a page
    // only the GPU migrates (first touch, eviction and refault) costs nothing.
    const uint64_t vpn = va >> 12;
    Page* p = m_pages.find(vpn);
    if (!p && to == Processor::Gpu) return;
    bool seen = p != nullptr;
    if (!p) p = &m_pages[vpn];
    const double now = double(now_ps) / 1000.0;
    if (seen && now - p->last_ns > m_spec.epoch_ns) {
      *p = Page{};
      m_holds.erase(vpn);
      seen = false;
    }
    if (seen && now - p->last_ns <= m_spec.lapse_ns && to != p->last_to)
      ++p->consecutive;
    else
      p->consecutive = 1;
    p->last_ns = now;
    p->last_to = to;
    if (p->consecutive == m_spec.threshold) ++m_stats.s_detected;
  }

  ThrashHint on_gpu_fault(uint64_t va, uint64_t now_ps) override {
    assert(!(va & 4095));
    const uint64_t vpn = va >> 12;
    Page* p = m_pages.find(vpn);
    if (!p) return ThrashHint::None;
    auto h = m_holds.find(vpn);
    const Hold held = h == m_holds.end() ? Hold{} : h->second;
    const double now = double(now_ps) / 1000.0;
    if (now < held.pinned_until) {
      ++m_stats.s_pinned_faults;
      return ThrashHint::Pin;
    }
    if (!thrashing(*p, held, now)) return ThrashHint::None;
    if (m_pin && (!m_throttle || held.throttles >= m_spec.pin_threshold)) {
      Hold& w = m_holds[vpn];
      w.pinned_until = now + m_spec.pin_ns;
      w.throttles = 0;
      p->consecutive = 0;  // a pinned page starts afresh when the pin ends
      ++m_stats.s_pinned;
      ++m_stats.s_pinned_faults;
      return ThrashHint::Pin;
    }
    if (!m_throttle) return ThrashHint::None;
    if (now >= held.throttled_until) {
      // A new throttle period; the fault that ends one is serviced.
      if (held.throttled_until > 0) {
        h->second.throttled_until = 0;
        return ThrashHint::None;
      }
      Hold& w = m_holds[vpn];
      w.throttled_until = now + m_spec.nap_ns;
      ++w.throttles;
    }
    ++m_stats.s_throttled;
    return ThrashHint::Throttle;
  }

  bool is_thrashing(uint64_t va, uint64_t now_ps) const override {
    const Page* p = m_pages.find(va >> 12);
    if (!p) return false;
    auto h = m_holds.find(va >> 12);
    return thrashing(*p, h == m_holds.end() ? Hold{} : h->second, double(now_ps) / 1000.0);
  }

 private:
  // Every page that has migrated to the CPU has one (16 bytes): a long run
  // evicts millions.
  struct Page {
    double last_ns = 0;
    uint32_t consecutive = 0;
    Processor last_to = Processor::Cpu;
  };
  // Throttle and pin state, for the few pages that were ever throttled or pinned.
  struct Hold {
    uint32_t throttles = 0;
    double throttled_until = 0, pinned_until = 0;
  };
  // A pinned page counts as thrashing while pinned (prefetchers must not move it).
  bool thrashing(const Page& p, const Hold& h, double now) const {
    return now < h.pinned_until || (p.consecutive >= m_spec.threshold && now - p.last_ns <= m_spec.epoch_ns);
  }
  const ThrashingSpec m_spec;
  const bool m_throttle, m_pin;
  common::BlockTable<Page> m_pages;  // pages that have migrated, by page number
  std::unordered_map<uint64_t, Hold> m_holds;
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
