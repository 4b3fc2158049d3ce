#include "host/gpu_driver/replay_policy.h"

namespace hmmsim::host {

namespace {

class Replay : public IReplayPolicy {
 public:
  enum Kind { Block, Batch, BatchFlush, Once };
  Replay(Kind k, double ratio) : m_kind(k), m_ratio(ratio) {}
  bool after_block() const override { return m_kind == Block; }
  bool after_batch() const override { return m_kind == Batch || m_kind == BatchFlush; }
  FlushMode flush(const BatchSummary& b) const override {
    if (m_kind != BatchFlush) return FlushMode::None;
    return double(b.duplicates) > m_ratio * double(b.fetched) ? FlushMode::UpdatePut : FlushMode::CachedPut;
  }
  bool at_end() const override { return m_kind == Once; }

 private:
  Kind m_kind;
  double m_ratio;
};

}  // namespace

ReplayRegistry& replay_registry() {
  static ReplayRegistry r = [] {
    ReplayRegistry reg("replay policy");
    auto add = [&](const char* name, Replay::Kind k) {
      reg.add(name, [k](const ReplaySpec& s) { return std::make_unique<Replay>(k, s.update_put_ratio); });
    };
    add("block", Replay::Block);
    add("batch", Replay::Batch);
    add("batch_flush", Replay::BatchFlush);
    add("once", Replay::Once);
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
