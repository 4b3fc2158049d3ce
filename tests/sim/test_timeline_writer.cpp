// timeline.json from an event trace (sim/timeline.cpp): rows, nesting,
// flows, the size bound and escaping, checked against the trace-event format.
#include <sstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/event_trace.h"
#include "sim/timeline.h"
#include "tests/common/trace_event_format.h"

namespace hmmsim::sim {
namespace {

using common::EventTrace;
using nlohmann::json;

json write(const EventTrace& t) {
  std::ostringstream os;
  write_timeline_json(t, TimelineInfo{"test.yaml", "0 (test)", 0}, os);
  return json::parse(os.str());
}

std::map<std::string, std::pair<int, int>> rows_by_name(const json& doc) {
  std::map<std::string, std::pair<int, int>> rows;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == "M" && e["name"] == "thread_name") rows[e["args"]["name"]] = {e["pid"], e["tid"]};
  return rows;
}

std::vector<json> events(const json& doc, const std::string& ph) {
  std::vector<json> v;
  for (const auto& e : doc["traceEvents"])
    if (e["ph"] == ph) v.push_back(e);
  return v;
}

TEST(TimelineWriter, NestedSlicesShareARowAndOverlappingOnesGetAnother) {
  EventTrace t(1000);
  const auto drv = t.track("Host", "driver");
  t.slice(drv, "batch", 1'000'000, 9'000'000);
  t.slice(drv, "fetch", 1'000'000, 3'000'000);    // inside the batch
  t.slice(drv, "copy", 3'000'000, 9'000'000);     // inside, ends with it
  t.slice(drv, "evict", 8'000'000, 12'000'000);   // starts inside, ends after: a row of its own
  const json doc = write(t);
  EXPECT_EQ(testing::check_trace_events(doc), std::vector<std::string>{});
  const auto rows = rows_by_name(doc);
  ASSERT_TRUE(rows.count("driver") && rows.count("driver (2)"));
  for (const auto& e : events(doc, "X")) {
    const auto row = std::make_pair(e["pid"].get<int>(), e["tid"].get<int>());
    EXPECT_EQ(row, e["name"] == "evict" ? rows.at("driver (2)") : rows.at("driver")) << e.dump();
  }
}

TEST(TimelineWriter, TimesAreMicrosecondsWithNanosecondPrecision) {
  EventTrace t(10);
  t.slice(t.track("GPU", "walker 0"), "walk", 1'234'567, 2'345'678);  // ps
  const json doc = write(t);
  const auto x = events(doc, "X");
  ASSERT_EQ(x.size(), 1u);
  EXPECT_DOUBLE_EQ(x[0]["ts"].get<double>(), 1.234);   // 1234 ns
  EXPECT_DOUBLE_EQ(x[0]["dur"].get<double>(), 1.111);  // 2345 - 1234 ns
  EXPECT_FALSE(doc.contains("displayTimeUnit"));  // ts is in µs, the format's default
}

TEST(TimelineWriter, FlowsLinkAFaultToTheReplayThatReleasesIt) {
  EventTrace t(1000);
  const auto sm = t.track("GPU", "SM 0"), replays = t.track("GPU", "GMMU replays");
  // Two faults in the same ns: instants drawn 1 ns wide, nested, each with its own flow.
  const uint32_t f1 = t.slice(sm, "fault", 5'000'000, 5'000'000, {EventTrace::num("fault", 1)});
  const uint32_t f2 = t.slice(sm, "fault", 5'000'400, 5'000'400, {EventTrace::num("fault", 2)});
  t.flow_out(f1, 1);
  t.flow_out(f2, 2);
  const uint32_t r = t.slice(replays, "replay", 20'000'000, 20'100'000);
  t.flow_in(r, 1);
  t.flow_in(r, 2);
  const json doc = write(t);
  EXPECT_EQ(testing::check_trace_events(doc), std::vector<std::string>{});
  EXPECT_EQ(events(doc, "s").size(), 2u);
  const auto ends = events(doc, "f");
  ASSERT_EQ(ends.size(), 2u);
  for (const auto& e : ends) {
    EXPECT_EQ(e["bp"], "e");
    EXPECT_DOUBLE_EQ(e["ts"].get<double>(), 20.0);
  }
  // A viewer binds each flow start to its own fault, not to the other one.
  const auto& ev = doc["traceEvents"];
  for (size_t i = 0; i < ev.size(); ++i)
    if (ev[i]["ph"] == "s") {
      const long b = testing::flow_binding(doc, i);
      ASSERT_GE(b, 0);
      EXPECT_EQ(ev[size_t(b)]["args"]["fault"], ev[i]["id"]);
    }
}

TEST(TimelineWriter, AFlowSliceIsTheInnermostSliceAtItsStart) {
  EventTrace t(1000);
  const auto sm = t.track("GPU", "SM 0");
  // Same start and end as another flow slice; a slice without a flow that
  // starts with a flow slice and ends inside it; a flow slice sharing both
  // bounds with a longer-lived parent's start only.
  uint64_t id = 0;
  for (uint64_t at : {1'000'000ull, 1'000'000ull, 1'000'300ull}) {
    const uint32_t s = t.slice(sm, "fault", at, at, {EventTrace::num("fault", ++id)});
    t.flow_out(s, id);
  }
  t.slice(sm, "stage", 1'000'000, 1'000'500);     // no flow, inside the 1 ns faults' span
  const uint32_t p = t.slice(sm, "batch", 1'000'000, 9'000'000);  // a parent starting with them
  const uint32_t in = t.slice(sm, "fault", 1'000'000, 1'000'000, {EventTrace::num("fault", 9)});
  t.flow_out(in, 9);
  const auto replays = t.track("GPU", "GMMU replays");
  const uint32_t r = t.slice(replays, "replay", 20'000'000, 20'100'000);
  for (uint64_t f : {1, 2, 3, 9}) t.flow_in(r, f);
  (void)p;
  const json doc = write(t);
  EXPECT_EQ(testing::check_trace_events(doc), std::vector<std::string>{});
  const auto& ev = doc["traceEvents"];
  size_t starts = 0;
  for (size_t i = 0; i < ev.size(); ++i)
    if (ev[i]["ph"] == "s") {
      ++starts;
      const long b = testing::flow_binding(doc, i);
      ASSERT_GE(b, 0) << ev[i];
      EXPECT_EQ(ev[size_t(b)]["args"]["fault"], ev[i]["id"]) << ev[i];
    } else if (ev[i]["ph"] == "f") {
      const long b = testing::flow_binding(doc, i);
      ASSERT_GE(b, 0) << ev[i];
      EXPECT_EQ(ev[size_t(b)]["name"], "replay");
    }
  EXPECT_EQ(starts, 4u);
}

TEST(TimelineWriter, ReservedSlicesAreKeptThroughACut) {
  EventTrace t(5);
  const auto k = t.track("GPU", "kernels"), tr = t.track("PCIe", "down (host to device)");
  t.reserve(2);
  for (uint64_t i = 0; i < 20; ++i) t.slice(tr, "write", i * 1'000'000, i * 1'000'000 + 500'000);
  EXPECT_EQ(t.kept(), 3u);  // the bound less the room kept
  EXPECT_NE(t.reserved_slice(k, "k0", 0, 30'000'000), EventTrace::kNone);
  EXPECT_NE(t.reserved_slice(k, "k1", 30'000'000, 40'000'000), EventTrace::kNone);
  EXPECT_EQ(t.reserved_slice(k, "k2", 40'000'000, 50'000'000), EventTrace::kNone);  // only 2 were reserved
  EXPECT_EQ(t.kept(), 5u);
  EXPECT_EQ(t.cut_ps(), 3'500'000u);
}

TEST(TimelineWriter, ACutTraceSaysWhereAndStaysValid) {
  EventTrace t(5);
  const auto tr = t.track("PCIe", "down (host to device)");
  for (uint64_t i = 0; i < 20; ++i) t.slice(tr, "write", i * 1'000'000, i * 1'000'000 + 500'000);
  EXPECT_EQ(t.kept(), 5u);
  EXPECT_EQ(t.dropped(), 15u);
  EXPECT_EQ(t.cut_ps(), 5'500'000u);  // the end of the first slice lost
  const json doc = write(t);
  EXPECT_EQ(testing::check_trace_events(doc, true), std::vector<std::string>{});
  EXPECT_EQ(events(doc, "X").size(), 5u);
  EXPECT_EQ(doc["otherData"]["truncated"], true);
  EXPECT_EQ(doc["otherData"]["events_dropped"], 15);
  EXPECT_NE(doc["otherData"]["note"].get<std::string>().find("missing from 5500 ns on"), std::string::npos);
  const auto cut = events(doc, "i");
  ASSERT_EQ(cut.size(), 1u);
  EXPECT_EQ(cut[0]["s"], "g");
  EXPECT_DOUBLE_EQ(cut[0]["ts"].get<double>(), 5.5);  // the end of the first slice lost
}

TEST(TimelineWriter, NamesFromInputAreEscapedAndArgsTyped) {
  EventTrace t(10);
  const auto k = t.track("GPU", "kernels \"main\"");
  t.slice(k, t.intern("k0: my\"kernel\\\n"), 0, 1000,
          {EventTrace::hex("va", 0x7f0000001000), EventTrace::num("pages", 3), EventTrace::text("step", "a\"b")});
  const json doc = write(t);  // parses: the quotes and backslash were escaped
  EXPECT_EQ(testing::check_trace_events(doc), std::vector<std::string>{});
  const auto x = events(doc, "X");
  ASSERT_EQ(x.size(), 1u);
  EXPECT_EQ(x[0]["name"], "k0: my\"kernel\\\n");
  EXPECT_EQ(x[0]["args"]["va"], "0x7f0000001000");
  EXPECT_EQ(x[0]["args"]["pages"], 3);
  EXPECT_EQ(x[0]["args"]["step"], "a\"b");
  EXPECT_TRUE(rows_by_name(doc).count("kernels \"main\""));
}

TEST(TimelineWriter, EmptyTracksMakeNoRowsAndOrderIsDeterministic) {
  auto make = [] {
    EventTrace t(100);
    t.track("GPU", "SM 0");  // nothing happens on it
    const auto w = t.track("GPU", "walker 0");
    t.slice(w, "walk", 3000, 9000);
    t.slice(w, "walk", 1000, 2000);
    t.counter(t.track("GPU", "VRAM"), "VRAM in use (bytes)", 4000, 8192);
    std::ostringstream os;
    write_timeline_json(t, TimelineInfo{"x", "v", 0}, os);
    return os.str();
  };
  const std::string a = make();
  EXPECT_EQ(a, make());
  const json doc = json::parse(a);
  EXPECT_EQ(testing::check_trace_events(doc), std::vector<std::string>{});
  EXPECT_FALSE(rows_by_name(doc).count("SM 0"));
  const auto x = events(doc, "X");
  ASSERT_EQ(x.size(), 2u);
  EXPECT_LT(x[0]["ts"].get<double>(), x[1]["ts"].get<double>());
  const auto c = events(doc, "C");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0]["args"]["value"], 8192);
}

// The checker itself must catch what a viewer would draw wrongly.
TEST(TraceEventChecker, FindsBadNestingUnnamedThreadsAndDanglingFlows) {
  const json doc = json::parse(R"({"traceEvents":[
    {"ph":"M","name":"process_name","pid":1,"tid":0,"ts":0,"args":{"name":"GPU"}},
    {"ph":"M","name":"thread_name","pid":1,"tid":1,"ts":0,"args":{"name":"a"}},
    {"ph":"X","name":"p","pid":1,"tid":1,"ts":1,"dur":5},
    {"ph":"X","name":"c","pid":1,"tid":1,"ts":3,"dur":5},
    {"ph":"X","name":"u","pid":1,"tid":2,"ts":1,"dur":1},
    {"ph":"f","cat":"x","name":"n","id":7,"pid":1,"tid":1,"ts":2,"bp":"e"},
    {"ph":"s","cat":"x","name":"n","id":8,"pid":1,"tid":1,"ts":20}]})");
  const auto bad = testing::check_trace_events(doc);
  auto has = [&](const std::string& what) {
    return std::any_of(bad.begin(), bad.end(), [&](const std::string& b) { return b.find(what) != std::string::npos; });
  };
  EXPECT_TRUE(has("overlaps its parent"));
  EXPECT_TRUE(has("tid 2 has no thread_name"));
  EXPECT_TRUE(has("ends but never starts"));
  EXPECT_TRUE(has("never ends"));
  EXPECT_TRUE(has("inside no slice"));
}

}  // namespace
}  // namespace hmmsim::sim
