// TraceFile and LineCursor: plain and xz files read identically, from any
// offset, through any buffer size; bad files fail with their name.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hw/kernel/kernel_source.h"
#include "temp_files.h"
#include "workload/io/trace_file.h"

namespace hmmsim::workload {
namespace {

using testing::TempDir;
using testing::xz_compress;

// All lines from `offset` (numbered from `line_no`), with their numbers.
std::vector<std::pair<uint64_t, std::string>> read_all(std::shared_ptr<const TraceFile> f, uint64_t offset = 0,
                                                       uint64_t line_no = 1,
                                                       size_t buf = LineCursor::kDefaultBuffer) {
  std::vector<std::pair<uint64_t, std::string>> out;
  LineCursor c(std::move(f), offset, line_no, buf);
  std::string_view l;
  while (c.next(l)) out.emplace_back(c.line_no(), std::string(l));
  return out;
}

// Lines of `text` split the way the cursor must split them.
std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t b = 0;
  while (b < text.size()) {
    size_t e = text.find('\n', b);
    if (e == std::string::npos) e = text.size();
    std::string l = text.substr(b, e - b);
    if (!l.empty() && l.back() == '\r') l.pop_back();
    out.push_back(l);
    b = e + 1;
  }
  return out;
}

// A text with short lines, empty lines, a CRLF line and lines far longer
// than both the small and the default buffer.
std::string sample_text() {
  std::string t;
  for (int i = 0; i < 300; ++i) {
    t += "line " + std::to_string(i);
    if (i % 7 == 0) t += std::string(200 + i, 'a' + i % 26);
    if (i % 50 == 3) t += std::string(40000, 'x');  // > 16 KiB
    t += (i % 11 == 5) ? "\r\n" : "\n";
    if (i % 13 == 0) t += "\n";
  }
  t += "last line without newline";
  return t;
}

TEST(TraceFile, PlainAndXzReadIdenticallyFromSeveralOffsets) {
  TempDir dir;
  const std::string text = sample_text();
  const auto expect = split(text);
  auto plain = TraceFile::open(dir.write("t.txt", text));
  auto xz = TraceFile::open(dir.write("t.txt.xz", xz_compress(text)));
  EXPECT_FALSE(plain->compressed());
  EXPECT_TRUE(xz->compressed());
  EXPECT_EQ(plain->size(), text.size());
  EXPECT_EQ(xz->size(), text.size());
  EXPECT_EQ(xz->path(), dir.path() + "/t.txt.xz");

  // Line start offsets, to place cursors mid-file.
  std::vector<uint64_t> starts{0};
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' && i + 1 < text.size()) starts.push_back(i + 1);
  ASSERT_EQ(starts.size(), expect.size());

  for (auto f : {plain, xz}) {
    for (size_t buf : {size_t(64), size_t(1000), LineCursor::kDefaultBuffer}) {
      auto all = read_all(f, 0, 1, buf);
      ASSERT_EQ(all.size(), expect.size());
      for (size_t i = 0; i < all.size(); ++i) {
        EXPECT_EQ(all[i].first, i + 1);
        EXPECT_EQ(all[i].second, expect[i]) << "line " << i + 1 << " buffer " << buf;
      }
    }
    // Interleaved cursors at different offsets.
    std::vector<size_t> at{0, 5, 17, 100, expect.size() - 1};
    std::vector<LineCursor> cs;
    for (size_t k : at) cs.emplace_back(f, starts[k], k + 1, 256);
    for (int step = 0; step < 40; ++step) {
      for (size_t j = 0; j < cs.size(); ++j) {
        std::string_view l;
        size_t k = at[j] + step;
        if (k < expect.size()) {
          ASSERT_TRUE(cs[j].next(l));
          EXPECT_EQ(cs[j].line_no(), k + 1);
          EXPECT_EQ(std::string(l), expect[k]);
          EXPECT_EQ(cs[j].offset(), k + 1 < starts.size() ? starts[k + 1] : text.size());
        } else {
          EXPECT_FALSE(cs[j].next(l));
          EXPECT_FALSE(cs[j].next(l));  // stays at the end
        }
      }
    }
  }
}

TEST(TraceFile, PreadIsBoundedBySize) {
  TempDir dir;
  auto f = TraceFile::open(dir.write("a.xz", xz_compress("0123456789")));
  char b[32] = {};
  EXPECT_EQ(f->pread(b, sizeof b, 0), 10u);
  EXPECT_EQ(std::string(b, 10), "0123456789");
  EXPECT_EQ(f->pread(b, 4, 8), 2u);
  EXPECT_EQ(f->pread(b, 4, 10), 0u);
  EXPECT_EQ(f->pread(b, 4, 1000), 0u);
}

TEST(TraceFile, LongLineExactlyAtBufferBoundaries) {
  TempDir dir;
  for (size_t len : {63u, 64u, 65u, 127u, 128u, 129u}) {
    std::string a(len, 'a'), b(len + 1, 'b');
    auto f = TraceFile::open(dir.write("b" + std::to_string(len), a + "\n" + b + "\n"));
    auto all = read_all(f, 0, 1, 64);
    ASSERT_EQ(all.size(), 2u) << len;
    EXPECT_EQ(all[0].second, a);
    EXPECT_EQ(all[1].second, b);
  }
}

TEST(TraceFile, AbsurdlyLongLineIsAnError) {
  TempDir dir;
  std::string p = dir.write("bin", "ok\n" + std::string(LineCursor::kMaxLine + 100000, 'z') + "\nafter\n");
  LineCursor c(TraceFile::open(p));
  std::string_view l;
  ASSERT_TRUE(c.next(l));
  try {
    c.next(l);
    FAIL() << "no error";
  } catch (const hw::SourceError& e) {
    EXPECT_EQ(std::string(e.what()), p + ": line 2 is longer than 16 MiB (not a text trace?)");
  }
}

TEST(TraceFile, CrLfAndBlankLines) {
  TempDir dir;
  auto f = TraceFile::open(dir.write("crlf", "a\r\n\r\nb\r\n\n c \r"));
  auto all = read_all(f);
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[0].second, "a");
  EXPECT_EQ(all[1].second, "");
  EXPECT_EQ(all[2].second, "b");
  EXPECT_EQ(all[3].second, "");
  EXPECT_EQ(all[4].second, " c ");  // no '\n' at the end: it loses only its '\r'
}

TEST(TraceFile, EmptyFiles) {
  TempDir dir;
  for (const std::string& data : {std::string(), xz_compress("")}) {
    auto f = TraceFile::open(dir.write(data.empty() ? "empty" : "empty.xz", data));
    EXPECT_EQ(f->size(), 0u);
    LineCursor c(f);
    std::string_view l;
    EXPECT_FALSE(c.next(l));
    EXPECT_EQ(c.line_no(), 0u);
  }
  auto nl = TraceFile::open(dir.write("nl", "\n"));
  EXPECT_EQ(read_all(nl).size(), 1u);
}

TEST(TraceFile, ConcatenatedXzStreams) {  // what `xz -T0` may write
  TempDir dir;
  auto f = TraceFile::open(dir.write("cat.xz", xz_compress("one\ntwo\n") + xz_compress("three\n")));
  auto all = read_all(f);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].second, "three");
}

std::string open_error(const std::string& path) {
  try {
    TraceFile::open(path);
  } catch (const hw::SourceError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(TraceFile, MissingUnreadableAndDirectory) {
  TempDir dir;
  EXPECT_EQ(open_error(dir.path() + "/nope"), dir.path() + "/nope: cannot open: No such file or directory");
  EXPECT_EQ(open_error(dir.path()), dir.path() + ": not a regular file");
}

TEST(TraceFile, TruncatedXz) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "0123 ffffffff 1 R1 MOV 0 0 " + std::to_string(i) + "\n";
  const std::string z = xz_compress(text);
  for (size_t keep : {size_t(6), size_t(12), z.size() / 2, z.size() - 1}) {
    std::string p = dir.write("trunc" + std::to_string(keep) + ".xz", z.substr(0, keep));
    EXPECT_EQ(open_error(p), p + ": truncated xz stream") << keep;
  }
}

TEST(TraceFile, CorruptXz) {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 5000; ++i) text += "0123 ffffffff 1 R1 MOV 0 0 " + std::to_string(i) + "\n";
  std::string z = xz_compress(text);
  z[z.size() / 2] = static_cast<char>(z[z.size() / 2] ^ 0x55);
  std::string p = dir.write("bad.xz", z);
  EXPECT_EQ(open_error(p), p + ": corrupt xz data");
  // Magic bytes then garbage: a bad stream header.
  std::string g = std::string("\xFD" "7zXZ", 5) + std::string(1, '\0') + std::string(100, 'q');
  std::string p2 = dir.write("garbage.xz", g);
  std::string e2 = open_error(p2);
  EXPECT_EQ(e2.rfind(p2 + ": ", 0), 0u) << e2;
  EXPECT_NE(e2, "(no error)");
}

TEST(TraceFile, NameDoesNotDecideCompression) {
  TempDir dir;
  auto plain_named_xz = TraceFile::open(dir.write("plain.xz", "hello\n"));
  EXPECT_FALSE(plain_named_xz->compressed());
  auto xz_named_plain = TraceFile::open(dir.write("packed.txt", xz_compress("hello\n")));
  EXPECT_TRUE(xz_named_plain->compressed());
  EXPECT_EQ(read_all(xz_named_plain)[0].second, "hello");
}

TEST(TraceFile, UnwritableTmpdirIsReported) {
  TempDir dir;
  std::string p = dir.write("t.xz", xz_compress("x\n"));
  const char* old = getenv("TMPDIR");
  std::string saved = old ? old : "";
  setenv("TMPDIR", (dir.path() + "/no-such-dir").c_str(), 1);
  std::string e = open_error(p);
  if (old) setenv("TMPDIR", saved.c_str(), 1);
  else unsetenv("TMPDIR");
  EXPECT_EQ(e.rfind(p + ": cannot create a temporary file in " + dir.path() + "/no-such-dir", 0), 0u) << e;
}

}  // namespace
}  // namespace hmmsim::workload
