// One array for every page size: a lookup probes once per size that has
// valid entries, so a TLB holding only 4 KiB pages pays one probe.
#include "hw/tlb/tlb_organisations.h"
#include "hw/tlb/tlb_set_array.h"

namespace hmmsim::hw {

namespace {

class UnifiedTlb : public ITlb {
 public:
  explicit UnifiedTlb(const TlbSpec& s) : m_a(s.entries, s.ways, s.replacement, s.seed) {}

  const Translation* lookup(uint64_t va) override { return probe_sizes(c, va, [this](unsigned) -> TlbSetArray& { return m_a; }); }
  void insert(uint64_t va, const Translation& t) override {
    ++c.fills[page_size_index(t.shift)];
    c.evictions += m_a.insert(va, t);
  }
  void invalidate(uint64_t va, uint64_t bytes) override { c.invalidated += m_a.invalidate(va, bytes); }
  uint64_t valid_entries() const override { return m_a.valid(); }

 private:
  TlbSetArray m_a;
};

}  // namespace

std::unique_ptr<ITlb> make_unified_tlb(const TlbSpec& spec) { return std::make_unique<UnifiedTlb>(spec); }

}  // namespace hmmsim::hw
