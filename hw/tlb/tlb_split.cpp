// One array per page size, probed in parallel: large pages never evict
// small ones and the reach of each size is fixed by its own array.
#include "hw/tlb/tlb_organisations.h"
#include "hw/tlb/tlb_set_array.h"

namespace hmmsim::hw {

namespace {

class SplitTlb : public ITlb {
 public:
  explicit SplitTlb(const TlbSpec& s)
      : m_a{TlbSetArray(s.entries, s.ways, s.replacement, s.seed),
            TlbSetArray(s.entries_64k, 0, s.replacement, s.seed + 1),
            TlbSetArray(s.entries_2m, 0, s.replacement, s.seed + 2)} {}

  const Translation* lookup(uint64_t va) override {
    return probe_sizes(c, va, [this](unsigned i) -> TlbSetArray& { return m_a[i]; });
  }
  void insert(uint64_t va, const Translation& t) override {
    const unsigned i = page_size_index(t.shift);
    ++c.fills[i];
    c.evictions += m_a[i].insert(va, t);
  }
  void invalidate(uint64_t va, uint64_t bytes) override {
    for (auto& a : m_a) c.invalidated += a.invalidate(va, bytes);
  }
  uint64_t valid_entries() const override { return m_a[0].valid() + m_a[1].valid() + m_a[2].valid(); }

 private:
  TlbSetArray m_a[kPageSizes];
};

}  // namespace

std::unique_ptr<ITlb> make_split_tlb(const TlbSpec& spec) { return std::make_unique<SplitTlb>(spec); }

}  // namespace hmmsim::hw
