#pragma once
// What happened when, for timeline.json (sim/timeline.cpp writes it in the
// Chrome trace-event format that Perfetto and chrome://tracing open).
// Components of hw/, host/ and tlm_bridge/ hold a nullable pointer to one
// EventTrace and record finished slices on named tracks; sim/ decides where
// tracks go and writes the file. Plain C++: times are ps of simulated time.
//
// Recording is bounded: past `max_events` nothing more is kept, and the
// time the first lost event ended is remembered so the file can say where
// it was cut. A slice is recorded when it ends, so a cut never leaves a
// slice without its start. A few slices known in advance (the kernels,
// recorded when the run has ended) have room reserved, so a cut keeps them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deque>
#include <initializer_list>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace hmmsim::common {

class EventTrace {
 public:
  using Track = uint32_t;
  static constexpr uint32_t kNone = UINT32_MAX;  // a slice that was not kept

  struct Arg {
    enum class Kind : uint8_t { Num, Hex, Text };
    const char* key = nullptr;
    Kind kind = Kind::Num;
    uint64_t num = 0;
    const char* text = nullptr;  // static or interned
  };
  static Arg num(const char* key, uint64_t v) { return {key, Arg::Kind::Num, v, nullptr}; }
  static Arg hex(const char* key, uint64_t v) { return {key, Arg::Kind::Hex, v, nullptr}; }
  static Arg text(const char* key, const char* s) { return {key, Arg::Kind::Text, 0, s}; }
  static constexpr unsigned kMaxArgs = 4;

  struct Slice {
    uint64_t start_ps, end_ps;
    Track track;
    const char* name;  // static or interned
    uint8_t nargs;
    Arg args[kMaxArgs];
  };
  struct Flow {
    uint64_t id;
    uint32_t slice;
    bool out;  // true: the flow starts at this slice; false: it ends there
  };
  struct Counter {
    uint64_t ts_ps;
    Track track;
    const char* name;
    double value;
  };
  struct TrackInfo {
    std::string process, thread;
  };

  // ns of simulated time (as the plain-C++ models keep it) to ps.
  static uint64_t ps_of_ns(double ns) { return ns > 0 ? uint64_t(std::llround(ns * 1000.0)) : 0; }

  explicit EventTrace(uint64_t max_events) : m_max(max_events) {}

  // The track `thread` of `process` (created on first use; the order of
  // first use is the order they are shown in).
  Track track(const std::string& process, const std::string& thread);
  // A string that lives as long as this trace, for names made at run time.
  const char* intern(const std::string& s);

  // A finished slice; returns its index for flows, or kNone if not kept.
  uint32_t slice(Track t, const char* name, uint64_t start_ps, uint64_t end_ps, std::initializer_list<Arg> args = {});
  // Keeps room for `n` slices recorded later with reserved_slice(): they
  // are kept whatever came before (the bound still holds).
  void reserve(uint64_t n) { m_reserved = std::min(m_max, m_reserved + n); }
  uint32_t reserved_slice(Track t, const char* name, uint64_t start_ps, uint64_t end_ps);
  // Flow arrows: `id` starts at one slice and ends at another (any number
  // of flows may end at the same slice).
  void flow_out(uint32_t slice, uint64_t id) { add_flow(slice, id, true); }
  void flow_in(uint32_t slice, uint64_t id) { add_flow(slice, id, false); }
  void counter(Track t, const char* name, uint64_t ts_ps, double value);

  // Code that runs in more than one simulated thread (the driver's
  // migrate-back runs in the CPU thread that faulted) records on the track
  // bound to the context it runs in.
  void bind_context(const void* ctx, Track t) { m_contexts[ctx] = t; }
  // When the context ends: a process made later may reuse its address.
  void unbind_context(const void* ctx) { m_contexts.erase(ctx); }
  Track context_track(const void* ctx, Track fallback) const;

  const std::vector<TrackInfo>& tracks() const { return m_tracks; }
  const std::vector<Slice>& slices() const { return m_slices; }
  const std::vector<Flow>& flows() const { return m_flows; }
  const std::vector<Counter>& counters() const { return m_counters; }
  uint64_t max_events() const { return m_max; }
  uint64_t kept() const { return m_slices.size() + m_flows.size() + m_counters.size(); }
  uint64_t dropped() const { return m_dropped; }
  // Where the timeline stops: the end of the first event not kept (events
  // are recorded as they end, so what ends later is missing too). Valid
  // when dropped() > 0.
  uint64_t cut_ps() const { return m_cut_ps; }

 private:
  bool room(uint64_t end_ps);
  void add_flow(uint32_t slice, uint64_t id, bool out);

  const uint64_t m_max;
  std::vector<TrackInfo> m_tracks;
  std::map<std::pair<std::string, std::string>, Track> m_track_ids;
  std::deque<std::string> m_strings;
  std::unordered_map<std::string, const char*> m_interned;
  std::unordered_map<const void*, Track> m_contexts;
  std::vector<Slice> m_slices;
  std::vector<Flow> m_flows;
  std::vector<Counter> m_counters;
  uint64_t m_dropped = 0, m_cut_ps = 0, m_reserved = 0;
};

}  // namespace hmmsim::common
