#include "host/gpu_driver/placement_policy.h"

namespace hmmsim::host {

namespace {

Where by_hint(PreferredLocation pref, Where otherwise) {
  return pref == PreferredLocation::Host ? Where::Remote : pref == PreferredLocation::Device ? Where::Vram : otherwise;
}

class MigrateOnTouch : public IPlacementPolicy {
 public:
  Where on_fault(PreferredLocation pref) const override { return by_hint(pref, Where::Vram); }
};

class RemoteMap : public IPlacementPolicy {
 public:
  Where on_fault(PreferredLocation pref) const override { return by_hint(pref, Where::Remote); }
};

class AccessCounterMigration : public RemoteMap {
 public:
  bool migrates_on_access_counters() const override { return true; }
};

}  // namespace

PlacementRegistry& placement_registry() {
  static PlacementRegistry r = [] {
    PlacementRegistry reg("placement policy");
    reg.add("migrate", [](const PlacementSpec&) { return std::make_unique<MigrateOnTouch>(); });
    reg.add("remote_map", [](const PlacementSpec&) { return std::make_unique<RemoteMap>(); });
    reg.add("access_counter", [](const PlacementSpec&) { return std::make_unique<AccessCounterMigration>(); });
    return reg;
  }();
  return r;
}

}  // namespace hmmsim::host
