// --set into lists (an item by its index: workload.buffers.0.read_mostly=false)
// and the program buffers' read_mostly key: values land where they should,
// errors say where they come from, in the exact words.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "parse_helpers.h"
#include "sim/config.h"
#include "sim/config_reader.h"

namespace hmmsim::sim {
namespace {

ConfigDoc doc_of(const std::string& text) { return load_config_string(text, "test.yaml"); }

ConfigError error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e;
  }
  ADD_FAILURE() << "expected a ConfigError";
  return ConfigError("", 0, "", "(no error thrown)");
}
std::string what_of(const std::function<void()>& f) { return error_of(f).what(); }

const std::string kTwoBuffers =
    "workload:\n"
    "  buffers:\n"
    "    - {name: a, bytes: 4KiB}\n"
    "    - {name: b, bytes: 8KiB}\n";

// ---- --set: a list item by its index ------------------------------------------

TEST(ConfigListOverride, SetsAKeyOfOneItem) {
  ConfigDoc doc = doc_of(kTwoBuffers);
  apply_override(doc, "workload.buffers.1.bytes=16KiB");
  apply_override(doc, "workload.buffers.0.read_mostly=true");  // a key the item did not have
  std::vector<ConfigReader> bufs = ConfigReader::root(doc).child("workload").list("buffers");
  ASSERT_EQ(bufs.size(), 2u);
  EXPECT_EQ(bufs[0].str("name", ""), "a");
  EXPECT_EQ(bufs[0].bytes("bytes", 0, 0, 1 << 30), 4096u);
  EXPECT_TRUE(bufs[0].boolean("read_mostly", false));
  EXPECT_NO_THROW(bufs[0].finish());
  EXPECT_EQ(bufs[1].str("name", ""), "b");
  EXPECT_EQ(bufs[1].bytes("bytes", 0, 0, 1 << 30), 16384u);
  EXPECT_FALSE(bufs[1].boolean("read_mostly", false));
  EXPECT_NO_THROW(bufs[1].finish());
  EXPECT_EQ(doc.overridden,
            (std::set<std::string>{"workload.buffers[1].bytes", "workload.buffers[0].read_mostly"}));
}

TEST(ConfigListOverride, ReplacesAWholeItemAndNestsThroughLists) {
  ConfigDoc doc = doc_of("l: [1, 2, 3]\nm: [[1, 2], [3, 4]]\nitems: [{p: {q: 1}}]\n");
  apply_override(doc, "l.1=5");
  apply_override(doc, "m.1.0=9");
  apply_override(doc, "items.0.p.q=7");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64_list("l", {}), (std::vector<uint64_t>{1, 5, 3}));
  std::vector<ConfigReader> items = r.list("items");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].child("p").u64("q", 0, 0, 9), 7u);
  // m is a list of lists: check through YAML directly.
  EXPECT_EQ(doc.root["m"][1][0].as<int>(), 9);
  EXPECT_EQ(doc.root["m"][1][1].as<int>(), 4);
  EXPECT_EQ(doc.root["m"][0][0].as<int>(), 1);
}

TEST(ConfigListOverride, DoesNotLeakIntoAliasesOrEarlierCopies) {
  ConfigDoc doc = doc_of("a: &x [1, 2]\nb: *x\n");
  ConfigDoc before = doc;
  apply_override(doc, "a.0=9");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64_list("a", {}), (std::vector<uint64_t>{9, 2}));
  EXPECT_EQ(r.u64_list("b", {}), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(ConfigReader::root(before).u64_list("a", {}), (std::vector<uint64_t>{1, 2}));
}

TEST(ConfigListOverride, BadIndexesSayHowManyItemsThereAre) {
  ConfigDoc doc = doc_of(kTwoBuffers);
  const std::string two = "cannot set: 'workload.buffers' is a list of 2 items: name one by its index, 0 to 1";
  EXPECT_EQ(what_of([&] { apply_override(doc, "workload.buffers.2.read_mostly=true"); }),
            "--set: workload.buffers.2.read_mostly: " + two);
  EXPECT_EQ(what_of([&] { apply_override(doc, "workload.buffers.x.read_mostly=true"); }),
            "--set: workload.buffers.x.read_mostly: " + two);
  for (const char* bad : {"-1", "+1", "1x", "0x1", "99999999999999999999"}) {
    const std::string key = std::string("workload.buffers.") + bad + ".bytes";
    ConfigError e = error_of([&] { apply_override(doc, key + "=4KiB"); });
    EXPECT_EQ(e.file, "--set") << bad;
    EXPECT_EQ(e.line, 0) << bad;
    EXPECT_EQ(e.key, key) << bad;
    EXPECT_EQ(e.message, two) << bad;
  }
  EXPECT_NO_THROW(apply_override(doc, "workload.buffers=[1]"));  // the whole list: no index needed
}

TEST(ConfigListOverride, FailedOverridesChangeAndRecordNothing) {
  ConfigDoc doc = doc_of(kTwoBuffers);
  error_of([&] { apply_override(doc, "workload.buffers.5.bytes=1"); });
  EXPECT_TRUE(doc.overridden.empty());
  std::vector<ConfigReader> bufs = ConfigReader::root(doc).child("workload").list("buffers");
  ASSERT_EQ(bufs.size(), 2u);
  EXPECT_EQ(bufs[1].bytes("bytes", 0, 0, 1 << 30), 8192u);
}

// An empty list has no index to name ("0 to size() - 1" would wrap around).
TEST(ConfigListOverride, AnEmptyListHasNoIndexToName) {
  ConfigDoc doc = doc_of("l: []\n");
  const ConfigError e = error_of([&] { apply_override(doc, "l.0=1"); });
  EXPECT_EQ(e.file, "--set");
  EXPECT_EQ(e.key, "l.0");
  EXPECT_EQ(e.message, "cannot set: 'l' is an empty list");
  // "0 to 18446744073709551615" would be size() - 1 wrapping around.
  EXPECT_EQ(e.message.find("18446744073709551615"), std::string::npos) << e.message;
}

TEST(ConfigListOverride, ScalarsInsideAListItemAreStillNotMaps) {
  ConfigDoc doc = doc_of("l: [1, 2]\n");
  EXPECT_EQ(what_of([&] { apply_override(doc, "l.0.x=1"); }), "--set: l.0.x: cannot set: 'l.0' is not a map");
}

// A value set into a list item is reported as coming from --set, like any
// other overridden value, not as a line of the file.
// apply_override() records the path as readers name it,
// "workload.buffers[0].read_mostly", so is_overridden() matches.
TEST(ConfigListOverride, BadValueInAListItemIsBlamedOnSet) {
  ConfigDoc doc = doc_of(kTwoBuffers);
  apply_override(doc, "workload.buffers.0.read_mostly=maybe");
  std::vector<ConfigReader> bufs = ConfigReader::root(doc).child("workload").list("buffers");
  ASSERT_EQ(bufs.size(), 2u);
  const ConfigError e = error_of([&] { bufs[0].boolean("read_mostly", false); });
  EXPECT_EQ(e.file, "--set") << e.what();
  EXPECT_EQ(e.line, 0) << e.what();
  // An index written with a leading zero names the same item.
  ConfigDoc doc2 = doc_of(kTwoBuffers);
  apply_override(doc2, "workload.buffers.01.read_mostly=maybe");
  std::vector<ConfigReader> bufs2 = ConfigReader::root(doc2).child("workload").list("buffers");
  const ConfigError e2 = error_of([&] { bufs2[1].boolean("read_mostly", false); });
  EXPECT_EQ(e2.file, "--set") << e2.what();
}

// ---- read_mostly ---------------------------------------------------------------

using hmmsim::sim::testing::parse_text;

std::string program(const std::string& buffer_line) {
  return "workload:\n"
         "  kind: program\n"
         "  buffers:\n"
         "    - " + buffer_line + "\n"
         "  steps:\n"
         "    - cpu_write: t\n";
}

TEST(ReadMostlyConfig, ParsesOnManagedBuffers) {
  EXPECT_TRUE(parse_text(program("{name: t, bytes: 64KiB, read_mostly: true}")).workload.program.buffers.at(0).read_mostly);
  EXPECT_FALSE(parse_text(program("{name: t, bytes: 64KiB, read_mostly: false}")).workload.program.buffers.at(0).read_mostly);
  EXPECT_FALSE(parse_text(program("{name: t, bytes: 64KiB}")).workload.program.buffers.at(0).read_mostly);
  EXPECT_TRUE(parse_text(program("{name: t, bytes: 64KiB, placement: managed, read_mostly: true}"))
                  .workload.program.buffers.at(0)
                  .read_mostly);
  // With a device preference it still is managed memory.
  EXPECT_TRUE(parse_text(program("{name: t, bytes: 64KiB, preferred_location: device, read_mostly: true}"))
                  .workload.program.buffers.at(0)
                  .read_mostly);
}

TEST(ReadMostlyConfig, NeedsAManagedBuffer) {
  const std::string why = "needs a managed buffer (read duplicates are made on GPU faults)";
  const ConfigError host = error_of([] { parse_text(program("{name: t, bytes: 64KiB, placement: host, read_mostly: true}")); });
  EXPECT_EQ(host.file, "t.yaml");
  EXPECT_EQ(host.line, 4);
  EXPECT_EQ(host.key, "workload.buffers[0].read_mostly");
  EXPECT_EQ(std::string(host.what()), "t.yaml:4: workload.buffers[0].read_mostly: " + why);
  EXPECT_EQ(what_of([] { parse_text(program("{name: t, bytes: 64KiB, placement: device, read_mostly: true}")); }),
            "t.yaml:4: workload.buffers[0].read_mostly: " + why);
  // preferred_location: host makes a managed buffer a host one.
  EXPECT_EQ(what_of([] {
              parse_text(program("{name: t, bytes: 64KiB, preferred_location: host, read_mostly: true}"));
            }),
            "t.yaml:4: workload.buffers[0].read_mostly: " + why);
  EXPECT_EQ(what_of([] { parse_text(program("{name: t, bytes: 64KiB, read_mostly: often}")); }).rfind(
                "t.yaml:4: workload.buffers[0].read_mostly: ", 0),
            0u);
}

TEST(ReadMostlyConfig, SetCanTurnItOnAndOff) {
  ConfigDoc doc = load_config_string(program("{name: t, bytes: 64KiB, read_mostly: true}"), "t.yaml");
  apply_override(doc, "workload.buffers.0.read_mostly=false");
  EXPECT_FALSE(parse_config(doc).workload.program.buffers.at(0).read_mostly);
  apply_override(doc, "workload.buffers.0.read_mostly=true");
  EXPECT_TRUE(parse_config(doc).workload.program.buffers.at(0).read_mostly);
  // Turned on through --set for a host buffer: the error names --set.
  ConfigDoc host = load_config_string(program("{name: t, bytes: 64KiB, placement: host}"), "t.yaml");
  apply_override(host, "workload.buffers.0.read_mostly=true");
  const ConfigError e = error_of([&] { parse_config(host); });
  EXPECT_EQ(e.key, "workload.buffers[0].read_mostly");
  EXPECT_EQ(e.file, "--set") << e.what();
}

TEST(ReadMostlyConfig, TheExperimentFileParses) {
  const SimConfig c = parse_config(load_config_file(std::string(HMMSIM_SOURCE_DIR) +
                                                    "/configs/experiments/read_mostly.yaml"));
  ASSERT_EQ(c.workload.program.buffers.size(), 1u);
  EXPECT_TRUE(c.workload.program.buffers[0].read_mostly);
  EXPECT_EQ(c.workload.program.buffers[0].placement, Placement::Managed);
}

}  // namespace
}  // namespace hmmsim::sim
