#include "host/gpu_driver/prefetch_policy.h"

namespace hmmsim::host {

namespace {

PageMask widen_to_big_pages(const PageMask& pages) {
  PageMask out;
  for (size_t b = 0; b < kBlockPages; b += kBigPagePages)
    for (size_t i = b; i < b + kBigPagePages; ++i)
      if (pages.test(i)) {
        out |= page_range(b, kBigPagePages);
        break;
      }
  return out;
}

size_t count_range(const PageMask& m, size_t first, size_t n) {
  size_t c = 0;
  for (size_t i = first; i < first + n; ++i) c += m.test(i);
  return c;
}

PageMask finish(PageMask want, const PrefetchQuery& q) { return want & q.eligible & ~q.resident & ~q.faulted; }

class NoPrefetch : public IPrefetchPolicy {
 public:
  PageMask select(const PrefetchQuery&) const override { return {}; }
};

class Sequential64k : public IPrefetchPolicy {
 public:
  PageMask select(const PrefetchQuery& q) const override { return finish(widen_to_big_pages(q.faulted), q); }
};

// UVM: leaves are 4 KiB pages. For each faulted page, walk from its leaf to
// the 2 MiB root; every node strictly more than `threshold` set is a
// candidate and the largest one is the region (compute_prefetch_region).
class UvmTree : public IPrefetchPolicy {
 public:
  explicit UvmTree(double t) : m_threshold(t) {}
  PageMask select(const PrefetchQuery& q) const override {
    const PageMask big = widen_to_big_pages(q.faulted) & (q.eligible | q.faulted);
    const PageMask set = q.resident | q.faulted | big;
    // Prefix counts: any subtree's population in O(1).
    uint16_t before[kBlockPages + 1];
    before[0] = 0;
    for (size_t i = 0; i < kBlockPages; ++i) before[i + 1] = uint16_t(before[i] + set.test(i));
    PageMask want = big;
    for (size_t p = 0; p < kBlockPages; ++p) {
      if (!q.faulted.test(p)) continue;
      size_t best_first = p, best_n = 0;
      for (size_t n = 1; n <= kBlockPages; n *= 2) {
        const size_t first = p / n * n;
        if (double(before[first + n] - before[first]) > m_threshold * double(n)) best_first = first, best_n = n;
      }
      if (best_n) want |= page_range(best_first, best_n);
    }
    return finish(want, q);
  }

 private:
  double m_threshold;
};

// UVMSmart: the faulted 64 KiB basic blocks are taken whole; then, level by
// level from the leaves up, a node with more than `threshold` of its leaves
// valid gets all of them.
class TreeNeighbourhood : public IPrefetchPolicy {
 public:
  explicit TreeNeighbourhood(double t) : m_threshold(t) {}
  PageMask select(const PrefetchQuery& q) const override {
    constexpr size_t kLeaves = kBlockPages / kBigPagePages;
    bool valid[kLeaves];
    const PageMask set = q.resident | widen_to_big_pages(q.faulted);
    for (size_t l = 0; l < kLeaves; ++l) valid[l] = count_range(set, l * kBigPagePages, kBigPagePages) > 0;
    for (size_t n = 2; n <= kLeaves; n *= 2)
      for (size_t first = 0; first < kLeaves; first += n) {
        size_t c = 0;
        for (size_t l = first; l < first + n; ++l) c += valid[l];
        if (double(c) > m_threshold * double(n))
          for (size_t l = first; l < first + n; ++l) valid[l] = true;
      }
    PageMask want;
    for (size_t l = 0; l < kLeaves; ++l)
      if (valid[l]) want |= page_range(l * kBigPagePages, kBigPagePages);
    return finish(want, q);
  }

 private:
  double m_threshold;
};

}  // namespace

PrefetchRegistry& prefetch_registry() {
  static PrefetchRegistry r = [] {
    PrefetchRegistry reg("prefetcher");
    reg.add("none", [](const PrefetchSpec&) { return std::make_unique<NoPrefetch>(); });
    reg.add("uvm_tree", [](const PrefetchSpec& s) { return std::make_unique<UvmTree>(s.threshold); });
    reg.add("seq64k", [](const PrefetchSpec&) { return std::make_unique<Sequential64k>(); });
    reg.add("tbn", [](const PrefetchSpec& s) { return std::make_unique<TreeNeighbourhood>(s.threshold); });
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
