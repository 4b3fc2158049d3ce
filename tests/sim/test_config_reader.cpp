// Tests for sim/config_reader: typed reads, exact error messages and
// locations, includes, --set overrides and hostile input.
#include "sim/config_reader.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

namespace hmmsim::sim {
namespace {

namespace fs = std::filesystem;

ConfigDoc doc_of(const std::string& text) { return load_config_string(text, "test.yaml"); }

// Runs `f`, which must throw ConfigError, and returns the error.
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

// A fresh directory per test for include files.
class ConfigFiles : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::path(::testing::TempDir()) / "hmmsim_config_reader" / info->name();
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  std::string write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// ---- ConfigError ------------------------------------------------------------

TEST(ConfigErrorTest, FormatsFileLineKeyAndMessage) {
  ConfigError e("a.yaml", 3, "gpu.tlb.entries", "bad");
  EXPECT_STREQ(e.what(), "a.yaml:3: gpu.tlb.entries: bad");
  EXPECT_EQ(e.file, "a.yaml");
  EXPECT_EQ(e.line, 3);
  EXPECT_EQ(e.key, "gpu.tlb.entries");
  EXPECT_EQ(e.message, "bad");
  EXPECT_STREQ(ConfigError("--set", 0, "gpu.x", "bad").what(), "--set: gpu.x: bad");
  EXPECT_STREQ(ConfigError("a.yaml", 2, "", "bad").what(), "a.yaml:2: bad");
}

// ---- loading ------------------------------------------------------------------

TEST(ConfigLoadTest, SyntaxErrorNamesFileAndLine) {
  ConfigError e = error_of([] { load_config_string("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml"); });
  EXPECT_EQ(e.file, "bad.yaml");
  EXPECT_EQ(e.key, "");
  EXPECT_GE(e.line, 2);  // the parser notices at or after the unclosed '['
  EXPECT_EQ(std::string(e.what()).rfind("bad.yaml:" + std::to_string(e.line) + ": ", 0), 0u)
      << e.what();
}

TEST(ConfigLoadTest, MultipleDocumentsRejected) {
  EXPECT_EQ(what_of([] { load_config_string("a: 1\n---\nb: 2\n", "m.yaml"); }),
            "m.yaml:3: more than one YAML document");
}

TEST_F(ConfigFiles, MissingFileNamesThePath) {
  std::string p = path("nope.yaml");
  ConfigError e = error_of([&] { load_config_file(p); });
  EXPECT_EQ(e.file, p);
  EXPECT_EQ(e.line, 0);
  EXPECT_STREQ(e.what(), (p + ": cannot open file: No such file or directory").c_str());
}

TEST(ConfigLoadTest, DuplicateKeyRejectedWithBothLines) {
  EXPECT_EQ(what_of([] { doc_of("a: 1\nb: 2\na: 3\n"); }),
            "test.yaml:3: a: duplicate key (first given at line 1)");
  EXPECT_EQ(what_of([] { doc_of("gpu:\n  x: 1\n  y: 2\n  x: 3\n"); }),
            "test.yaml:4: gpu.x: duplicate key (first given at line 2)");
  EXPECT_EQ(what_of([] { doc_of("l:\n  - {p: 1, p: 2}\n"); }),
            "test.yaml:2: l[0].p: duplicate key (first given at line 2)");
}

TEST(ConfigLoadTest, NonStringKeyRejected) {
  EXPECT_EQ(what_of([] { doc_of("? [1, 2]\n: 3\n"); }),
            "test.yaml:1: map keys must be strings, got '[1, 2]'");
}

// ---- typed reads ----------------------------------------------------------------

TEST(ConfigReaderTest, ReadsEveryKindAndFinishPasses) {
  ConfigDoc doc = doc_of(
      "count: 12\n"
      "offset: -7\n"
      "ratio: 0.25\n"
      "enabled: true\n"
      "name: gpu0\n"
      "policy: fifo\n"
      "size: 2 MiB\n"
      "latency: 45us\n"
      "sizes: [4096, 0x10, 7]\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64("count", 0, 0, 100), 12u);
  EXPECT_EQ(r.i64("offset", 0, -10, 10), -7);
  EXPECT_DOUBLE_EQ(r.real("ratio", 0, 0, 1), 0.25);
  EXPECT_TRUE(r.boolean("enabled", false));
  EXPECT_EQ(r.str("name", ""), "gpu0");
  EXPECT_EQ(r.choice("policy", "lru", {"lru", "fifo"}), "fifo");
  EXPECT_EQ(r.bytes("size", 0, 0, UINT64_MAX), 2u << 20);
  EXPECT_DOUBLE_EQ(r.time_ns("latency", 0, 0, 1e12), 45000.0);
  EXPECT_EQ(r.u64_list("sizes", {}), (std::vector<uint64_t>{4096, 16, 7}));
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReaderTest, AbsentKeysAndChildrenGiveDefaults) {
  ConfigDoc doc = doc_of("");  // an empty file is an empty map
  ConfigReader r = ConfigReader::root(doc);
  ConfigReader tlb = r.child("gpu").child("tlb");
  EXPECT_EQ(tlb.path(), "gpu.tlb");
  EXPECT_EQ(tlb.u64("entries", 32, 1, 64), 32u);  // defaults are not range-checked against input
  EXPECT_EQ(tlb.str("name", "l1"), "l1");
  EXPECT_EQ(tlb.u64_list("sizes", {1, 2}), (std::vector<uint64_t>{1, 2}));
  EXPECT_FALSE(tlb.has("entries"));
  EXPECT_NO_THROW(tlb.finish());
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReaderTest, NullChildReadsAsEmptyMap) {
  ConfigDoc doc = doc_of("gpu:\nother: 1\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_TRUE(r.has("gpu"));
  EXPECT_EQ(r.child("gpu").u64("sms", 8, 1, 64), 8u);
  r.mark_used("other");
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigReaderTest, KeyPathJoinsMapPath) {
  ConfigDoc doc = doc_of("gpu:\n  tlb: {}\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.key_path("gpu"), "gpu");
  ConfigReader tlb = r.child("gpu").child("tlb");
  EXPECT_EQ(tlb.key_path("entries"), "gpu.tlb.entries");
  EXPECT_TRUE(tlb.node().IsMap());
}

// ---- unknown keys -------------------------------------------------------------------

TEST(ConfigReaderTest, FinishRejectsUnknownKeyListingAllowedSorted) {
  ConfigDoc doc = doc_of("gpu:\n  tlb:\n    entries: 4\n    entires: 5\n");
  ConfigReader r = ConfigReader::root(doc);
  ConfigReader tlb = r.child("gpu").child("tlb");
  tlb.u64("ways", 4, 1, 16);
  tlb.u64("entries", 8, 1, 64);
  EXPECT_EQ(what_of([&] { tlb.finish(); }),
            "test.yaml:4: gpu.tlb.entires: unknown key; allowed keys here: entries, ways");
}

TEST(ConfigReaderTest, FinishReportsFirstUnknownInDocumentOrder) {
  ConfigDoc doc = doc_of("zz: 1\nkeep: 2\naa: 3\n");
  ConfigReader r = ConfigReader::root(doc);
  r.u64("keep", 0, 0, 10);
  EXPECT_EQ(what_of([&] { r.finish(); }),
            "test.yaml:1: zz: unknown key; allowed keys here: keep");
}

TEST(ConfigReaderTest, FinishWithNothingAskedSaysNone) {
  ConfigDoc doc = doc_of("x: 1\n");
  EXPECT_EQ(what_of([&] { ConfigReader::root(doc).finish(); }),
            "test.yaml:1: x: unknown key; allowed keys here: (none)");
}

TEST(ConfigReaderTest, MarkUsedAndChildCountAsRead) {
  ConfigDoc doc = doc_of("raw: [1, {a: b}]\nsub:\n  k: 1\n");
  ConfigReader r = ConfigReader::root(doc);
  r.mark_used("raw");
  ConfigReader sub = r.child("sub");
  EXPECT_NO_THROW(r.finish());
  // The child's own keys are its own business.
  EXPECT_EQ(what_of([&] { sub.finish(); }),
            "test.yaml:3: sub.k: unknown key; allowed keys here: (none)");
}

TEST(ConfigReaderTest, HasDoesNotMarkKeyAsRead) {
  ConfigDoc doc = doc_of("a: 1\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_TRUE(r.has("a"));
  EXPECT_FALSE(r.has("b"));
  EXPECT_THROW(r.finish(), ConfigError);
}

// ---- wrong types --------------------------------------------------------------------

TEST(ConfigReaderTest, WrongTypesNameExpectedKindAndText) {
  ConfigDoc doc = doc_of(
      "s: many\n"       // 1
      "neg: -3\n"       // 2
      "frac: 1.5\n"     // 3
      "m: {a: 1}\n"     // 4
      "b: yes please\n" // 5
      "r: fast\n"       // 6
      "i: 1.0\n"        // 7
      "l: [1, 2]\n"     // 8
      "n: null\n");     // 9
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.u64("s", 0, 0, 10); }),
            "test.yaml:1: s: expected unsigned integer, got 'many'");
  EXPECT_EQ(what_of([&] { r.u64("neg", 0, 0, 10); }),
            "test.yaml:2: neg: expected unsigned integer, got '-3'");
  EXPECT_EQ(what_of([&] { r.u64("frac", 0, 0, 10); }),
            "test.yaml:3: frac: expected unsigned integer, got '1.5'");
  EXPECT_EQ(what_of([&] { r.str("m", ""); }), "test.yaml:4: m: expected string, got '{a: 1}'");
  EXPECT_EQ(what_of([&] { r.boolean("b", false); }),
            "test.yaml:5: b: expected boolean (true/false), got 'yes please'");
  EXPECT_EQ(what_of([&] { r.real("r", 0, 0, 1); }), "test.yaml:6: r: expected number, got 'fast'");
  EXPECT_EQ(what_of([&] { r.i64("i", 0, -5, 5); }), "test.yaml:7: i: expected integer, got '1.0'");
  EXPECT_EQ(what_of([&] { r.u64("l", 0, 0, 5); }),
            "test.yaml:8: l: expected unsigned integer, got '[1, 2]'");
  EXPECT_EQ(what_of([&] { r.u64("n", 0, 0, 5); }),
            "test.yaml:9: n: expected unsigned integer, got 'null'");
}

TEST(ConfigReaderTest, BooleanSpellings) {
  ConfigDoc doc = doc_of("a: yes\nb: Off\nc: TRUE\nd: false\ne: 1\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_TRUE(r.boolean("a", false));
  EXPECT_FALSE(r.boolean("b", true));
  EXPECT_TRUE(r.boolean("c", false));
  EXPECT_FALSE(r.boolean("d", true));
  EXPECT_THROW(r.boolean("e", false), ConfigError);  // no numeric booleans
}

TEST(ConfigReaderTest, ChildThatIsNotAMap) {
  ConfigDoc doc = doc_of("x: 1\ngpu: 5\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.child("gpu"); }), "test.yaml:2: gpu: expected a map, got '5'");
}

TEST(ConfigReaderTest, RootMustBeAMap) {
  ConfigDoc doc = doc_of("- 1\n- 2\n");
  EXPECT_EQ(what_of([&] { ConfigReader::root(doc); }),
            "test.yaml:1: top level must be a map, got '[1, 2]'");
}

TEST(ConfigReaderTest, ChoiceErrorListsAllowed) {
  ConfigDoc doc = doc_of("policy: mru\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.choice("policy", "lru", {"lru", "fifo", "random"}); }),
            "test.yaml:1: policy: expected one of [lru, fifo, random], got 'mru'");
}

// ---- integers and ranges -------------------------------------------------------------

TEST(ConfigReaderTest, RangeErrors) {
  ConfigDoc doc = doc_of("a: 9\nb: -20\nc: 1.5\nd: 0\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.u64("a", 1, 1, 8); }), "test.yaml:1: a: value 9 out of range [1, 8]");
  EXPECT_EQ(what_of([&] { r.i64("b", 0, -10, 10); }),
            "test.yaml:2: b: value -20 out of range [-10, 10]");
  EXPECT_EQ(what_of([&] { r.real("c", 0, 0, 1); }), "test.yaml:3: c: value 1.5 out of range [0, 1]");
  EXPECT_EQ(what_of([&] { r.u64("d", 1, 1, 8); }), "test.yaml:4: d: value 0 out of range [1, 8]");
}

TEST(ConfigReaderTest, HexAndIntegerLimits) {
  ConfigDoc doc = doc_of(
      "h: 0x1F\n"
      "nh: -0x10\n"
      "umax: 18446744073709551615\n"
      "uover: 18446744073709551616\n"
      "imin: -9223372036854775808\n"
      "iover: 9223372036854775808\n"
      "junk: 0x1G\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64("h", 0, 0, 100), 31u);
  EXPECT_EQ(r.i64("nh", 0, -100, 100), -16);
  EXPECT_EQ(r.u64("umax", 0, 0, UINT64_MAX), UINT64_MAX);
  EXPECT_EQ(what_of([&] { r.u64("uover", 0, 0, UINT64_MAX); }),
            "test.yaml:4: uover: value 18446744073709551616 out of range [0, 18446744073709551615]");
  EXPECT_EQ(r.i64("imin", 0, INT64_MIN, INT64_MAX), INT64_MIN);
  EXPECT_EQ(what_of([&] { r.i64("iover", 0, INT64_MIN, INT64_MAX); }),
            "test.yaml:6: iover: value 9223372036854775808 out of range "
            "[-9223372036854775808, 9223372036854775807]");
  EXPECT_EQ(what_of([&] { r.u64("junk", 0, 0, 100); }),
            "test.yaml:7: junk: expected unsigned integer, got '0x1G'");
}

// ---- bytes and time -------------------------------------------------------------------

TEST(ConfigReaderTest, ByteUnits) {
  const std::vector<std::pair<std::string, uint64_t>> cases = {
      {"4096", 4096},          {"0x1000", 4096},       {"512B", 512},
      {"4KiB", 4096},          {"64K", 64 << 10},      {"2 MiB", 2u << 20},
      {"1GiB", 1ull << 30},    {"1G", 1ull << 30},     {"8KiB", 8192},  // "8KB": ambiguous (test_config_units.cpp)
      {"1.5KiB", 1536},        {"3TiB", 3ull << 40},   {"0.5M", 512 << 10},
      {"16kib", 16384},        {"1EiB", 1ull << 60}};
  for (const auto& [text, want] : cases) {
    ConfigDoc doc = doc_of("size: " + text + "\n");
    ConfigReader r = ConfigReader::root(doc);
    EXPECT_EQ(r.bytes("size", 0, 0, UINT64_MAX), want) << text;
  }
}

TEST(ConfigReaderTest, ByteErrors) {
  for (const std::string bad : {"4 parsecs", "-4K", "1.1KiB", "1.5", "K", "4.K", "0x10K", "1e3"}) {
    ConfigDoc doc = doc_of("size: '" + bad + "'\n");
    ConfigReader r = ConfigReader::root(doc);
    EXPECT_EQ(what_of([&] { r.bytes("size", 0, 0, UINT64_MAX); }),
              "test.yaml:1: size: expected byte size (e.g. 4096, 64KiB, 2MiB), got '" + bad + "'");
  }
  ConfigDoc doc = doc_of("big: 2GiB\nsmall: 100\nhuge: 16EiB\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.bytes("big", 4096, 4096, 1ull << 30); }),
            "test.yaml:1: big: value 2GiB out of range [4KiB, 1GiB]");
  EXPECT_EQ(what_of([&] { r.bytes("small", 4096, 4096, 1ull << 30); }),
            "test.yaml:2: small: value 100 out of range [4KiB, 1GiB]");
  EXPECT_EQ(what_of([&] { r.bytes("huge", 0, 0, UINT64_MAX); }),
            "test.yaml:3: huge: value 16EiB out of range [0, 18446744073709551615]");
}

TEST(ConfigReaderTest, TimeUnits) {
  const std::vector<std::pair<std::string, double>> cases = {
      {"250", 250},  {"45us", 45000},  {"1.5ms", 1.5e6}, {"100ns", 100},
      {"2s", 2e9},   {"500ps", 0.5},   {"1 ms", 1e6},    {"2.5", 2.5},
      {"3µs", 3000}, {"1e3ns", 1000}};
  for (const auto& [text, want] : cases) {
    ConfigDoc doc = doc_of("t: " + text + "\n");
    ConfigReader r = ConfigReader::root(doc);
    EXPECT_DOUBLE_EQ(r.time_ns("t", 0, 0, 1e12), want) << text;
  }
}

TEST(ConfigReaderTest, TimeErrors) {
  for (const std::string bad : {"fast", "5 parsecs", "ms", "1.5 MS", ".inf", "nan", "0x10"}) {
    ConfigDoc doc = doc_of("t: '" + bad + "'\n");
    ConfigReader r = ConfigReader::root(doc);
    EXPECT_EQ(what_of([&] { r.time_ns("t", 0, 0, 1e12); }),
              "test.yaml:1: t: expected time (e.g. 100ns, 45us, 1.5ms), got '" + bad + "'");
  }
  ConfigDoc doc = doc_of("t: 2ms\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.time_ns("t", 0, 0, 1e6); }),
            "test.yaml:1: t: value 2ms out of range [0ns, 1ms]");
}

TEST(ConfigReaderTest, U64ListErrorsPointAtTheElement) {
  ConfigDoc doc = doc_of("sizes:\n  - 1\n  - x\nscalar: 5\n");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.u64_list("sizes", {}); }),
            "test.yaml:3: sizes[1]: expected unsigned integer, got 'x'");
  EXPECT_EQ(what_of([&] { r.u64_list("scalar", {}); }),
            "test.yaml:4: scalar: expected list of unsigned integers, got '5'");
}

TEST(ConfigReaderTest, FailHelperLocatesKeyOrMap) {
  ConfigDoc doc = doc_of("a: 1\ngpu:\n  sms: 3\n");
  ConfigReader r = ConfigReader::root(doc);
  ConfigReader gpu = r.child("gpu");
  EXPECT_EQ(what_of([&] { gpu.fail("sms", "must be even"); }), "test.yaml:3: gpu.sms: must be even");
  EXPECT_EQ(what_of([&] { gpu.fail("", "inconsistent"); }), "test.yaml:2: gpu: inconsistent");
  // A key that is not there is reported at its map.
  EXPECT_EQ(what_of([&] { gpu.fail("ways", "required"); }), "test.yaml:2: gpu.ways: required");
}

TEST(ConfigReaderTest, AssigningReadersDoesNotTouchTheDocument) {
  ConfigDoc doc = doc_of("a: {x: 1}\nb: {x: 2}\n");
  ConfigReader r = ConfigReader::root(doc);
  ConfigReader c = r.child("a");
  c = r.child("b");  // yaml-cpp's Node::operator= would overwrite map "a" here
  EXPECT_EQ(c.u64("x", 0, 0, 9), 2u);
  EXPECT_EQ(r.child("a").u64("x", 0, 0, 9), 1u);
}

// ---- includes -----------------------------------------------------------------------

TEST_F(ConfigFiles, IncludeDeepMergesAndIncluderWins) {
  write("base.yaml",
        "gpu:\n  sms: 4\n  tlb:\n    entries: 32\n    ways: 4\nmode: fast\nlist: [1, 2, 3]\n");
  std::string main = write("main.yaml",
                           "include: [base.yaml]\ngpu:\n  tlb:\n    entries: 64\nlist: [9]\n");
  ConfigDoc doc = load_config_file(main);
  ConfigReader r = ConfigReader::root(doc);
  ConfigReader gpu = r.child("gpu");
  EXPECT_EQ(gpu.u64("sms", 0, 0, 100), 4u);
  ConfigReader tlb = gpu.child("tlb");
  EXPECT_EQ(tlb.u64("entries", 0, 0, 100), 64u);
  EXPECT_EQ(tlb.u64("ways", 0, 0, 100), 4u);
  EXPECT_EQ(r.str("mode", ""), "fast");
  EXPECT_EQ(r.u64_list("list", {}), (std::vector<uint64_t>{9}));  // sequences replace
  EXPECT_NO_THROW(tlb.finish());
  EXPECT_NO_THROW(gpu.finish());
  EXPECT_NO_THROW(r.finish());  // `include` itself is consumed by the loader
}

TEST_F(ConfigFiles, IncludesApplyInOrderRelativeToIncludingFile) {
  write("inc/a.yaml", "include: [b.yaml]\nv: a\nonly_a: 1\n");  // b.yaml is inc/b.yaml
  write("inc/b.yaml", "v: b\nonly_b: 2\n");
  write("c.yaml", "v: c\n");
  std::string main = write("main.yaml", "include:\n  - inc/a.yaml\n  - c.yaml\n");
  ConfigDoc doc = load_config_file(main);
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.str("v", ""), "c");
  EXPECT_EQ(r.u64("only_a", 0, 0, 9), 1u);
  EXPECT_EQ(r.u64("only_b", 0, 0, 9), 2u);
  EXPECT_NO_THROW(r.finish());
}

TEST_F(ConfigFiles, ErrorsNameTheFileTheValueCameFrom) {
  std::string base = write("base.yaml", "gpu:\n  sms: many\n  typo: 1\n");
  std::string main = write("main.yaml", "include: [base.yaml]\n\ngpu:\n  tlb: 7\n");
  ConfigDoc doc = load_config_file(main);
  ConfigReader gpu = ConfigReader::root(doc).child("gpu");
  EXPECT_EQ(what_of([&] { gpu.u64("sms", 0, 0, 9); }),
            base + ":2: gpu.sms: expected unsigned integer, got 'many'");
  EXPECT_EQ(what_of([&] { gpu.child("tlb"); }), main + ":4: gpu.tlb: expected a map, got '7'");
  gpu.mark_used("sms");
  EXPECT_EQ(what_of([&] { gpu.finish(); }),
            base + ":3: gpu.typo: unknown key; allowed keys here: sms, tlb");
}

TEST_F(ConfigFiles, IncludeCycleDetected) {
  std::string a = write("a.yaml", "include: [b.yaml]\nx: 1\n");
  std::string b = write("b.yaml", "y: 2\ninclude: [a.yaml]\n");
  ConfigError e = error_of([&] { load_config_file(a); });
  EXPECT_EQ(e.file, b);
  EXPECT_EQ(e.line, 2);
  EXPECT_EQ(e.key, "include");
  EXPECT_EQ(e.message, "include cycle: " + a + " -> " + b + " -> " + a);

  std::string self = write("self.yaml", "include: self.yaml\n");
  EXPECT_EQ(what_of([&] { load_config_file(self); }),
            self + ":1: include: include cycle: " + self + " -> " + self);
}

TEST_F(ConfigFiles, DiamondIncludeIsNotACycle) {
  write("common.yaml", "c: 1\n");
  write("left.yaml", "include: [common.yaml]\nl: 1\n");
  write("right.yaml", "include: [common.yaml]\nr: 1\n");
  std::string main = write("main.yaml", "include: [left.yaml, right.yaml]\n");
  ConfigDoc doc = load_config_file(main);
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64("c", 0, 0, 9) + r.u64("l", 0, 0, 9) + r.u64("r", 0, 0, 9), 3u);
}

TEST_F(ConfigFiles, IncludeErrors) {
  std::string missing = write("missing.yaml", "a: 1\ninclude: [nope.yaml]\n");
  EXPECT_EQ(what_of([&] { load_config_file(missing); }),
            missing + ":2: include: cannot read '" + path("nope.yaml") +
                "': No such file or directory");
  std::string bad = write("bad.yaml", "include: {a: 1}\n");
  EXPECT_EQ(what_of([&] { load_config_file(bad); }),
            bad + ":1: include: expected a file name or a list of file names, got '{a: 1}'");
  std::string list = write("list.yaml", "- 1\n");
  std::string inc_list = write("inc_list.yaml", "include: [list.yaml]\n");
  EXPECT_EQ(what_of([&] { load_config_file(inc_list); }),
            list + ":1: top level of an included file must be a map, got '[1]'");
}

// ---- --set overrides -----------------------------------------------------------------

TEST(ConfigOverrideTest, ReplacesValueAndErrorsSaySet) {
  ConfigDoc doc = doc_of("gpu:\n  tlb:\n    entries: 32\n");
  apply_override(doc, "gpu.tlb.entries=64");
  EXPECT_EQ(doc.overridden, (std::set<std::string>{"gpu.tlb.entries"}));
  {
    ConfigReader tlb = ConfigReader::root(doc).child("gpu").child("tlb");
    EXPECT_EQ(tlb.u64("entries", 0, 1, 64), 64u);
  }
  apply_override(doc, "gpu.tlb.entries=999");
  ConfigReader tlb = ConfigReader::root(doc).child("gpu").child("tlb");
  ConfigError e = error_of([&] { tlb.u64("entries", 0, 1, 64); });
  EXPECT_EQ(e.file, "--set");
  EXPECT_EQ(e.line, 0);
  EXPECT_STREQ(e.what(), "--set: gpu.tlb.entries: value 999 out of range [1, 64]");
}

TEST(ConfigOverrideTest, ValuesInsideAnOverriddenMapOrListSaySet) {
  ConfigDoc doc = doc_of("gpu:\n  sms: 4\nl: [1]\n");
  apply_override(doc, "gpu={sms: 99}");
  apply_override(doc, "l=[1, x]");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(what_of([&] { r.child("gpu").u64("sms", 0, 0, 64); }),
            "--set: gpu.sms: value 99 out of range [0, 64]");
  EXPECT_EQ(what_of([&] { r.u64_list("l", {}); }),
            "--set: l[1]: expected unsigned integer, got 'x'");
}

TEST(ConfigOverrideTest, CreatesNestedMaps) {
  ConfigDoc doc = doc_of("other: 1\n");
  apply_override(doc, "a.b.c=4");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.child("a").child("b").u64("c", 0, 0, 9), 4u);
  EXPECT_EQ(r.u64("other", 0, 0, 9), 1u);
  EXPECT_NO_THROW(r.finish());
  // The created map "a" is recorded too: everything under it came from --set.
  EXPECT_EQ(doc.overridden, (std::set<std::string>{"a", "a.b.c"}));

  ConfigDoc empty = doc_of("");
  apply_override(empty, "x.y=true");
  EXPECT_TRUE(ConfigReader::root(empty).child("x").boolean("y", false));
}

TEST(ConfigOverrideTest, ValuesParseAsYaml) {
  ConfigDoc doc = doc_of("");
  apply_override(doc, "n=4");
  apply_override(doc, "flag = true");
  apply_override(doc, "list=[1, 2]");
  apply_override(doc, "size=2MiB");
  apply_override(doc, "sub={p: 1}");
  apply_override(doc, "name=");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.u64("n", 0, 0, 9), 4u);
  EXPECT_TRUE(r.boolean("flag", false));
  EXPECT_EQ(r.u64_list("list", {}), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(r.bytes("size", 0, 0, UINT64_MAX), 2u << 20);
  EXPECT_EQ(r.child("sub").u64("p", 0, 0, 9), 1u);
  EXPECT_EQ(r.str("name", "default"), "");
  EXPECT_NO_THROW(r.finish());
}

TEST(ConfigOverrideTest, MalformedAssignments) {
  ConfigDoc doc = doc_of("a: 5\n");
  EXPECT_EQ(what_of([&] { apply_override(doc, "novalue"); }),
            "--set: expected key=value, got 'novalue'");
  EXPECT_EQ(what_of([&] { apply_override(doc, "=4"); }), "--set: empty key in '=4'");
  EXPECT_EQ(what_of([&] { apply_override(doc, "x..y=1"); }),
            "--set: x..y: empty path component in 'x..y'");
  EXPECT_EQ(what_of([&] { apply_override(doc, "x.=1"); }),
            "--set: x.: empty path component in 'x.'");
  EXPECT_EQ(what_of([&] { apply_override(doc, "a.b=1"); }),
            "--set: a.b: cannot set: 'a' is not a map");
  EXPECT_EQ(what_of([&] { apply_override(doc, "m={k: 1, k: 2}"); }),
            "--set: m.k: invalid value '{k: 1, k: 2}': duplicate key");
  ConfigError e = error_of([&] { apply_override(doc, "l=[1,"); });
  EXPECT_EQ(e.file, "--set");
  EXPECT_EQ(e.key, "l");
  EXPECT_EQ(e.message.rfind("invalid value '[1,': ", 0), 0u) << e.message;
  EXPECT_TRUE(doc.overridden.empty());  // failed overrides record nothing
}

TEST(ConfigOverrideTest, UnknownOverriddenKeyReportsSet) {
  ConfigDoc doc = doc_of("gpu:\n  sms: 4\n");
  apply_override(doc, "gpu.bogus.deep=1");
  EXPECT_EQ(doc.overridden, (std::set<std::string>{"gpu.bogus", "gpu.bogus.deep"}));
  ConfigReader gpu = ConfigReader::root(doc).child("gpu");
  gpu.u64("sms", 0, 0, 9);
  EXPECT_EQ(what_of([&] { gpu.finish(); }),
            "--set: gpu.bogus: unknown key; allowed keys here: sms");
  // The file's own keys keep their real location.
  EXPECT_EQ(what_of([&] { gpu.fail("sms", "odd"); }), "test.yaml:2: gpu.sms: odd");
}

TEST(ConfigOverrideTest, DoesNotLeakIntoAliasesOrEarlierCopies) {
  ConfigDoc doc = doc_of("a: &x {p: 1}\nb: *x\n");
  ConfigDoc before = doc;
  apply_override(doc, "a.p=2");
  ConfigReader r = ConfigReader::root(doc);
  EXPECT_EQ(r.child("a").u64("p", 0, 0, 9), 2u);
  EXPECT_EQ(r.child("b").u64("p", 0, 0, 9), 1u);
  EXPECT_EQ(ConfigReader::root(before).child("a").u64("p", 0, 0, 9), 1u);
}

// ---- hostile input ---------------------------------------------------------------------

TEST(ConfigRobustnessTest, OnlyConfigErrorEscapes) {
  const std::vector<std::string> inputs = {
      "a: &x [*x]\n",                       // self-referencing alias
      "a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
      "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
      "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
      "g: [*f,*f,*f,*f,*f,*f,*f,*f,*f,*f]\n",  // alias expansion bomb
      std::string(5000, '[') + std::string(5000, ']'),
      "\t- x\n", "a: *undefined\n", "{", "a: 'unterminated\n", std::string("\0\xff\xfe", 3),
      "? a\n", "a: !!binary '@@@'\n", "a: 1\n...\n---\n", "include: [/]\n", "include: ''\n",
      "<<: {a: 1}\n", "a:\n  - b: 1\n    b: 2\n"};
  std::vector<bool> refused_at_load;
  for (const auto& text : inputs) {
    refused_at_load.push_back(true);
    try {
      ConfigDoc doc = load_config_string(text, "fuzz.yaml");
      refused_at_load.back() = false;
      apply_override(doc, "a.z=1");
      ConfigReader r = ConfigReader::root(doc);
      r.u64("a", 0, 0, 9);
    } catch (const ConfigError&) {
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-ConfigError for input " << ::testing::PrintToString(text) << ": "
                    << e.what();
    }
  }
  // The alias traps and the deep nesting are refused at load, not later.
  EXPECT_TRUE(refused_at_load[0]);
  EXPECT_TRUE(refused_at_load[1]);
  EXPECT_TRUE(refused_at_load[2]);
  std::string runaway = "a";  // the endless path is cut at 60 characters
  while (runaway.size() < 60) runaway += "[0]";
  EXPECT_EQ(what_of([] { load_config_string("a: &x [*x]\n", "x.yaml"); }),
            "x.yaml:1: " + runaway.substr(0, 60) +
                "...: nested more than 64 levels deep (recursive alias?)");
  EXPECT_EQ(what_of([&] { load_config_string(inputs[2], "x.yaml"); }),
            "x.yaml:1: nested too deeply (more than 500 levels)");
}

}  // namespace
}  // namespace hmmsim::sim
