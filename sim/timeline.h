#pragma once
// timeline.json: the run's event trace (common/event_trace.h) in the Chrome
// trace-event format, which Perfetto (ui.perfetto.dev) and chrome://tracing
// open. Each component track becomes a thread of its process (GPU, PCIe,
// Host); where slices of one track overlap without nesting (copies of
// several CPU threads' evictions, say), the track is split into as many
// rows as it needs, named "<track> (2)" and so on, so every row nests
// properly. Times are written in µs with ns precision.
#include <cstdint>
#include <iosfwd>
#include <string>

#include "common/event_trace.h"

namespace hmmsim::sim {

struct TimelineInfo {
  std::string config;   // the config file the run came from
  std::string version;  // hmmsim version and commit
  double sim_ns = 0;    // simulated time at the end of the run
};

void write_timeline_json(const common::EventTrace& trace, const TimelineInfo& info, std::ostream& out);

}  // namespace hmmsim::sim
