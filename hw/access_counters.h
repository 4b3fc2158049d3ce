#pragma once
// Access counters (Volta and later): the GPU counts its own accesses to
// system memory per region and, every `threshold` accesses to a region,
// tells the driver, which may then migrate the region to VRAM. UVM's
// defaults: 2 MiB regions, threshold 256, a 32-bit mask of the 64 KiB
// sub-regions touched (open-gpu-kernel-modules uvm_gpu_access_counters.c).
//
// AccessCounterCore is plain C++ and keeps counters sparsely (a region
// costs memory only once accessed). AccessCounters wraps it: notifications
// become 32-byte entries (hwref/access_counter_entry.h) in a ring in host
// memory, written upstream like the fault unit's, plus an MSI.
#include <cstdint>
#include <optional>
#include <unordered_map>

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_initiator_socket.h>

#include "common/registry.h"
#include "hwref/page_table_format.h"

namespace hmmsim::hw {

struct AccessCounterSpec {
  uint64_t granularity_bytes = 2ull << 20;  // region size: a power of two, 64 KiB .. 2 MiB
  uint32_t threshold = 256;                 // accesses per notification, 1 .. 65535 (UVM's range)
  uint32_t ring_entries = 256;              // notification ring the driver allocates (UVM batch: 256)

  std::optional<common::SpecError> validate() const;
};

struct AccessNotification {
  uint64_t va;      // region base
  uint32_t count;   // accesses counted since the region's last notification
  uint32_t sub_mask;  // bit i: 64 KiB sub-region i accessed since then
};

class AccessCounterCore {
 public:
  // Throws std::invalid_argument when spec.validate() fails.
  explicit AccessCounterCore(const AccessCounterSpec& spec);

  // Contract: the caller reports each GPU access (e.g. one per coalesced
  // line) with the aperture its translation gave. Only system-memory
  // apertures count; anything else is ignored (s_ignored) and never
  // notifies. `count` accesses are added at once; when the region's counter
  // reaches the threshold, the counter and mask restart from zero and the
  // notification is returned.
  std::optional<AccessNotification> record(uint64_t va, hwref::pt::Aperture ap, uint32_t count = 1);
  // Forgets the counters of every region overlapping [va, va + len).
  void clear(uint64_t va, uint64_t len);
  void clear_all() { m_regions.clear(); }

  // Runtime reconfiguration (BAR0). Invalid values are refused (false) and
  // change nothing. A new granularity clears every counter: regions change.
  bool set_granularity(uint64_t bytes);
  bool set_threshold(uint32_t t);
  uint64_t granularity() const { return m_gran; }
  uint32_t threshold() const { return m_threshold; }

  uint32_t count(uint64_t va) const;
  uint32_t sub_mask(uint64_t va) const;
  size_t tracked_regions() const { return m_regions.size(); }

  uint64_t s_accesses = 0, s_ignored = 0, s_notifications = 0;

 private:
  struct Region {
    uint32_t count = 0;
    uint32_t mask = 0;
  };
  uint64_t m_gran;
  unsigned m_gran_log2;
  uint32_t m_threshold;
  std::unordered_map<uint64_t, Region> m_regions;  // key: va >> m_gran_log2
};

class AccessCounters : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<AccessCounters> host_socket;  // entries + MSI, upstream

  AccessCounters(sc_core::sc_module_name name, const AccessCounterSpec& spec);
  AccessCounterCore& core() { return m_core; }

  // From an SM thread after an access; `delay` is its local time offset.
  // Counting is off the access path: nothing is added to the access. Does
  // nothing while disabled.
  void record(uint64_t va, hwref::pt::Aperture ap, uint32_t count, const sc_core::sc_time& delay);

  // BAR0 side effects (hwref/access_counter_regs.h).
  void set_ring(uint64_t base, uint32_t entries);  // resets PUT and GET
  void set_get(uint32_t get) { m_get = get; }
  uint32_t put() const { return m_put; }
  uint32_t status() const { return m_overflow ? 1 : 0; }
  void clear_status() { m_overflow = false; }
  void set_msi(uint64_t addr) { m_msi_addr = addr; }
  void enable(bool on) { m_enabled = on; }
  bool enabled() const { return m_enabled; }
  bool set_granularity_log2(uint32_t log2);  // false (and no change) outside 16..21
  bool set_threshold(uint32_t t) { return m_core.set_threshold(t); }
  void clear(uint64_t va, uint64_t len) { m_core.clear(va, len); }
  void clear_all() { m_core.clear_all(); }
  // Interrupts as the fault unit's: one MSI, then none until acknowledged.
  void enable_irq(bool on, const sc_core::sc_time& delay);
  void ack_irq(const sc_core::sc_time& delay);  // re-arm; fires again if entries remain
  bool irq_latched() const { return m_irq_latched; }

  uint64_t s_written = 0, s_dropped = 0, s_msis = 0, s_write_errors = 0;

 private:
  void notify(const AccessNotification& n, const sc_core::sc_time& delay);
  void maybe_msi(const sc_core::sc_time& delay);
  void send_msi(sc_core::sc_time delay);

  AccessCounterCore m_core;
  bool m_enabled = false;
  uint64_t m_ring = 0;
  uint32_t m_entries = 0, m_put = 0, m_get = 0;
  bool m_overflow = false;
  bool m_irq_enabled = false, m_irq_armed = true, m_irq_latched = false;
  uint64_t m_msi_addr = 0;
};

}  // namespace hmmsim::hw
