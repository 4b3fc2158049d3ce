#pragma once
// Checks a document against the Chrome trace-event format as Perfetto and
// chrome://tracing read it (the JSON Object Format: "traceEvents" plus
// optional "displayTimeUnit" and "otherData"). Returns what is wrong, one
// message per problem; empty when the trace is valid. Beyond the field
// types it checks what a viewer needs to draw the trace faithfully:
//   - complete events (X) of one thread nest properly (a slice that starts
//     inside another ends inside it too);
//   - every flow point lies inside a complete event of its thread, every
//     flow end has its start, and flow ids are not reused;
//   - every thread and process used is named by metadata.
// `allow_open_flows`: a trace cut short may hold flow starts whose end was
// not kept.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace hmmsim::testing {

inline std::vector<std::string> check_trace_events(const nlohmann::json& doc, bool allow_open_flows = false) {
  std::vector<std::string> bad;
  auto fail = [&](size_t i, const std::string& why) {
    if (bad.size() < 20) bad.push_back("traceEvents[" + std::to_string(i) + "]: " + why);
  };
  if (!doc.is_object() || !doc.contains("traceEvents") || !doc["traceEvents"].is_array())
    return {"not an object with a traceEvents array"};
  // Perfetto has read "ns" here as the unit of ts, not only of display.
  if (doc.contains("displayTimeUnit") && doc["displayTimeUnit"] != "ms")
    bad.push_back("displayTimeUnit other than \"ms\" is read differently by different viewers");
  if (doc.contains("otherData") && !doc["otherData"].is_object()) bad.push_back("otherData must be an object");

  using Thread = std::pair<int64_t, int64_t>;
  // In whole ns, as Perfetto reads µs (rounded to the nearest ns).
  auto ns = [](double us) { return int64_t(std::llround(us * 1000.0)); };
  struct Slice {
    int64_t ts, end;
  };
  std::map<Thread, std::vector<Slice>> slices;
  std::set<int64_t> named_pids, used_pids;
  std::set<Thread> named_threads, used_threads;
  struct FlowPoint {
    size_t index;
    Thread thread;
    int64_t ts;
  };
  std::map<std::tuple<std::string, std::string, std::string>, std::vector<FlowPoint>> starts, ends;
  std::vector<FlowPoint> flow_points;

  const auto& events = doc["traceEvents"];
  for (size_t i = 0; i < events.size(); ++i) {
    const auto& e = events[i];
    if (!e.is_object()) {
      fail(i, "not an object");
      continue;
    }
    if (!e.contains("ph") || !e["ph"].is_string() || e["ph"].get<std::string>().size() != 1) {
      fail(i, "ph must be a one-letter string");
      continue;
    }
    const char ph = e["ph"].get<std::string>()[0];
    if (!e.contains("name") || !e["name"].is_string()) fail(i, "name must be a string");
    if (!e.contains("ts") || !e["ts"].is_number() || e["ts"].get<double>() < 0) fail(i, "ts must be a number >= 0");
    if (e.contains("args") && !e["args"].is_object()) fail(i, "args must be an object");
    const bool global = ph == 'i' && e.value("s", "t") == "g";
    if (!e.contains("pid") || !e["pid"].is_number_integer()) {
      fail(i, "pid must be an integer");
      continue;
    }
    if (!global && (!e.contains("tid") || !e["tid"].is_number_integer())) {
      fail(i, "tid must be an integer");
      continue;
    }
    const Thread th{e["pid"].get<int64_t>(), e.value("tid", int64_t(0))};
    const int64_t ts = ns(e.value("ts", 0.0));
    switch (ph) {
      case 'M': {
        const std::string n = e.value("name", "");
        const auto& a = e.value("args", nlohmann::json::object());
        if (n == "process_name" || n == "thread_name") {
          if (!a.contains("name") || !a["name"].is_string()) fail(i, n + " needs args.name, a string");
          if (n == "process_name") named_pids.insert(th.first);
          else named_threads.insert(th);
        } else if (n == "process_sort_index" || n == "thread_sort_index") {
          if (!a.contains("sort_index") || !a["sort_index"].is_number_integer())
            fail(i, n + " needs args.sort_index, an integer");
        } else {
          fail(i, "unknown metadata event " + n);
        }
        break;
      }
      case 'X':
        if (!e.contains("dur") || !e["dur"].is_number() || e["dur"].get<double>() < 0) {
          fail(i, "a complete event needs dur >= 0");
          break;
        }
        slices[th].push_back({ts, ts + ns(e["dur"].get<double>())});
        used_threads.insert(th);
        used_pids.insert(th.first);
        break;
      case 's':
      case 'f': {
        if (!e.contains("id") || !(e["id"].is_number_integer() || e["id"].is_string())) {
          fail(i, "a flow event needs an id");
          break;
        }
        if (!e.contains("cat") || !e["cat"].is_string()) fail(i, "a flow event needs a cat");
        if (ph == 'f' && e.contains("bp") && e["bp"] != "e") fail(i, "bp must be \"e\"");
        const auto key = std::make_tuple(e.value("cat", ""), e.value("name", ""), e["id"].dump());
        (ph == 's' ? starts : ends)[key].push_back({i, th, ts});
        flow_points.push_back({i, th, ts});
        used_threads.insert(th);
        used_pids.insert(th.first);
        break;
      }
      case 'C':
        if (!e.contains("args") || !e["args"].is_object() || e["args"].empty()) {
          fail(i, "a counter needs args");
          break;
        }
        for (const auto& [k, v] : e["args"].items())
          if (!v.is_number()) fail(i, "counter value " + k + " is not a number");
        used_pids.insert(th.first);
        break;
      case 'i':
        if (!global) used_threads.insert(th);
        break;
      default:
        fail(i, std::string("phase ") + ph + " is not one this trace should use");
    }
  }

  // Proper nesting per thread: sorted by start (longer first), each slice
  // closes inside the innermost one still open.
  for (auto& [th, v] : slices) {
    std::sort(v.begin(), v.end(), [](const Slice& a, const Slice& b) {
      return a.ts != b.ts ? a.ts < b.ts : a.end > b.end;
    });
    std::vector<int64_t> open;
    for (const Slice& s : v) {
      while (!open.empty() && open.back() <= s.ts) open.pop_back();
      if (!open.empty() && s.end > open.back()) {
        if (bad.size() < 20)
          bad.push_back("pid " + std::to_string(th.first) + " tid " + std::to_string(th.second) + ": slice at " +
                        std::to_string(s.ts) + " ns overlaps its parent without nesting");
      }
      open.push_back(s.end);
    }
  }
  for (const auto& fp : flow_points) {
    const auto& v = slices[fp.thread];
    const bool inside = std::any_of(v.begin(), v.end(), [&](const Slice& s) { return s.ts <= fp.ts && fp.ts < s.end; });
    if (!inside) fail(fp.index, "flow point is inside no slice of its thread");
  }
  for (const auto& [key, v] : starts)
    if (v.size() > 1) fail(v[1].index, "flow id " + std::get<2>(key) + " starts twice");
  for (const auto& [key, v] : ends)
    if (!starts.count(key)) fail(v[0].index, "flow id " + std::get<2>(key) + " ends but never starts");
  if (!allow_open_flows)
    for (const auto& [key, v] : starts)
      if (!ends.count(key)) fail(v[0].index, "flow id " + std::get<2>(key) + " never ends");
  for (const auto& th : used_threads)
    if (!named_threads.count(th))
      bad.push_back("pid " + std::to_string(th.first) + " tid " + std::to_string(th.second) + " has no thread_name");
  for (int64_t pid : used_pids)
    if (!named_pids.count(pid)) bad.push_back("pid " + std::to_string(pid) + " has no process_name");
  return bad;
}

// The complete event (its index in traceEvents) that the flow point at
// `flow` binds to: the innermost slice of its thread open at its time. Not
// relying on the file's order among events of one timestamp (a viewer may
// sort them), every slice that starts at that time counts as open, and the
// innermost is the one that starts last, then ends first. -1 when no slice
// is open there, -2 when two slices with the same bounds make it ambiguous.
inline long flow_binding(const nlohmann::json& doc, size_t flow) {
  const auto& ev = doc["traceEvents"];
  auto ns = [](const nlohmann::json& v) { return int64_t(std::llround(v.get<double>() * 1000.0)); };
  const auto& f = ev[flow];
  const int64_t ts = ns(f["ts"]);
  long best = -1;
  int64_t best_start = -1, best_end = 0;
  bool tie = false;
  for (size_t i = 0; i < ev.size(); ++i) {
    const auto& e = ev[i];
    if (e["ph"] != "X" || e["pid"] != f["pid"] || e["tid"] != f["tid"]) continue;
    const int64_t s = ns(e["ts"]), end = s + ns(e["dur"]);
    if (!(s <= ts && ts < end)) continue;
    if (best >= 0 && s == best_start && end == best_end) {
      tie = true;
    } else if (best < 0 || s > best_start || (s == best_start && end < best_end)) {
      best = long(i), best_start = s, best_end = end, tie = false;
    }
  }
  return tie ? -2 : best;
}

}  // namespace hmmsim::testing
