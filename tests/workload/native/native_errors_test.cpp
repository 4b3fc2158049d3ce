// Native trace: every kind of bad input is a SourceError naming the file
// and the byte offset (or the line, for the text form); never a crash.
#include "native_test_util.h"

namespace hmmsim::workload {
namespace {

using namespace native;
using hw::InstrClass;
using hw::MemSpace;
using hw::WarpInstr;

std::string file_header(uint16_t version = kVersion, uint16_t flags = 0) {
  std::string s(kMagic, sizeof kMagic);
  put_u16le(s, version);
  put_u16le(s, flags);
  return s;
}

hw::KernelInfo small_info() {
  hw::KernelInfo k;
  k.name = "k";
  k.grid = {1, 1, 1};
  k.block = {64, 1, 1};
  k.opcodes = {"", "LDG.E"};
  return k;
}

WarpInstr load(uint64_t base) {
  return test::mem_instr(InstrClass::Load, MemSpace::Global, 4, 0xFFFFFFFFu, base, 4, 0x10, 1);
}

std::string encode(const std::vector<WarpInstr>& v) {
  WarpCodec st;
  std::string s;
  for (const WarpInstr& in : v) encode_instr(st, in, s);
  return s;
}

// A file with one kernel whose body after its metadata is `ctas_bytes`;
// `meta_end` receives the offset where the CTAs start.
std::string one_kernel(const std::string& ctas_bytes, uint64_t ctas, size_t* meta_end = nullptr,
                       const hw::KernelInfo& info = small_info()) {
  std::string body;
  encode_kernel_meta(info, ctas, body);
  std::string f = file_header();
  f.push_back('K');
  put_u64le(f, body.size() + ctas_bytes.size());
  if (meta_end) *meta_end = f.size() + body.size();
  f += body + ctas_bytes;
  f.push_back('E');
  return f;
}

std::string cta(const std::vector<std::pair<WarpExtent, std::string>>& warps) {
  std::vector<WarpExtent> ext;
  std::string streams;
  for (const auto& w : warps) {
    ext.push_back(w.first);
    streams += w.second;
  }
  std::string s;
  encode_cta_header({0, 0, 0}, ext, s);
  return s + streams;
}

class NativeErrors : public ::testing::Test {
 protected:
  std::string path(const std::string& bytes) {
    std::string p = m_dir.path("t.hmt");
    test::write_bytes(p, bytes);
    return p;
  }
  // Loads the program and drains every kernel.
  void read_all(const std::string& p) {
    NativeTrace t(p);
    for (size_t k = 0; k < t.kernel_count(); ++k) {
      auto src = t.open_kernel(k);
      test::drain(*src);
    }
  }
  void expect_error(const std::string& bytes, const std::string& part) {
    std::string p = path(bytes);
    test::expect_source_error([&] { read_all(p); }, p + ": " + part);
  }
  test::ScratchDir m_dir;
};

TEST_F(NativeErrors, FileHeader) {
  expect_error("", "byte 0: expected the HMMTRACE magic, found the end of the file");
  expect_error("XMMTRACE\x01\x00\x00\x00" "E", "byte 0: expected the HMMTRACE magic: not a native hmmsim trace");
  expect_error(file_header(2) + "E", "byte 8: unsupported format version 2 (this build reads version 1)");
  expect_error(file_header(1, 4) + "E", "byte 10: unsupported format flags 0x4");
  expect_error(file_header().substr(0, 9), "byte 9: expected format version, found the end of the file");
}

TEST_F(NativeErrors, Records) {
  expect_error(file_header(), "byte 12: expected a record ('M', 'K' or 'E'), found the end of the file");
  expect_error(file_header() + "X", "byte 12: expected a record ('M', 'K' or 'E'), found byte 0x58");
  expect_error(file_header() + "E\n", "byte 13: 1 bytes after the end record");
  expect_error(file_header() + "M" + std::string(11, '\xFF'), "byte 13: corrupt varint (memcpy destination): more than 64 bits");
  expect_error(file_header() + "M\x80", "byte 14: expected memcpy destination, found the end of the file");
  expect_error(file_header() + std::string("M\x80\x00\x01", 4) + "E", "byte 13: non-canonical varint (memcpy destination)");
  std::string k = file_header() + "K";
  put_u64le(k, 1000);
  expect_error(k + "E", "byte 13: kernel body of 1000 bytes runs past the end of the file (1 bytes left)");
}

TEST_F(NativeErrors, EveryTruncationIsDetected) {
  // A valid two-kernel program cut at every length.
  std::string p = m_dir.path("full.hmt");
  {
    NativeWriter w(p);
    w.memcpy_htod(0x1000, 64);
    for (int k = 0; k < 2; ++k) {
      w.begin_kernel(small_info(), 1);
      w.write_cta({0, 0, 0}, {{load(0x1000), load(0x2000)}, {load(0x3000)}});
      w.end_kernel();
    }
    w.close();
  }
  std::string full = test::read_bytes(p);
  read_all(p);  // the whole file is fine
  for (size_t n = 0; n < full.size(); ++n) {
    std::string cut = path(full.substr(0, n));
    try {
      read_all(cut);
      ADD_FAILURE() << "truncated at " << n << " bytes was accepted";
    } catch (const hw::SourceError& e) {
      EXPECT_EQ(std::string(e.what()).rfind(cut + ": byte ", 0), 0u) << e.what();
    }
  }
}

TEST_F(NativeErrors, KernelCounts) {
  hw::KernelInfo info = small_info();
  std::string body;
  put_string(body, "k");
  for (int i = 0; i < 6; ++i) put_varint(body, 1);
  for (int i = 0; i < 4; ++i) put_varint(body, 0);
  size_t count_at = 12 + 1 + 8 + body.size();
  put_varint(body, uint64_t(1) << 40);  // opcode count
  std::string f = file_header() + "K";
  put_u64le(f, body.size());
  expect_error(f + body + "E", "byte " + std::to_string(count_at) + ": opcode count 1099511627776 exceeds");

  size_t meta_end = 0;
  std::string s1 = encode({load(0x1000), load(0x1080)});
  std::string good = cta({{{2, s1.size()}, s1}});
  std::string two = one_kernel(good, 2, &meta_end);
  expect_error(two, "byte " + std::to_string(meta_end + good.size()) + ": expected CTA id, found the end of the kernel");
  std::string big = one_kernel(good, uint64_t(1) << 50, &meta_end);
  expect_error(big, "byte " + std::to_string(meta_end - varint_size(uint64_t(1) << 50)) +
                        ": CTA count 1125899906842624 exceeds what the kernel's remaining bytes can hold");
  std::string extra = one_kernel(good + "\x07", 1, &meta_end);
  expect_error(extra, "byte " + std::to_string(meta_end + good.size()) + ": 1 bytes left in the kernel after its 1 CTAs");

  info.grid.y = 0;
  std::string zero;
  encode_kernel_meta(info, 0, zero);
  f = file_header() + "K";
  put_u64le(f, zero.size());
  expect_error(f + zero + "E", "byte 23: grid and block dimensions must be at least 1");
}

TEST_F(NativeErrors, WarpTables) {
  size_t meta_end = 0;
  std::string s1 = encode({load(0x1000)});
  // 3 warps in a 64-thread block.
  std::string three = one_kernel(cta({{{0, 0}, ""}, {{0, 0}, ""}, {{0, 0}, ""}}), 1, &meta_end);
  expect_error(three, "byte " + std::to_string(meta_end + 3) + ": CTA has 3 warps, its block only 2");
  // Streams longer than the kernel.
  std::string past = one_kernel(cta({{{1, 500}, s1}}), 1, &meta_end);
  expect_error(past, "byte " + std::to_string(meta_end) + ": CTA's warp streams run past the end of the kernel");
  // More instructions than the bytes can hold.
  std::string dense = one_kernel(cta({{{10, s1.size()}, s1}}), 1, &meta_end);
  expect_error(dense, "byte " + std::to_string(meta_end + 5) + ": warp stream of " + std::to_string(s1.size()) +
                          " bytes cannot hold 10 instructions");
}

TEST_F(NativeErrors, WarpStreamLengthMismatch) {
  size_t meta_end = 0;
  std::string s1 = encode({load(0x1000)});
  // One byte more than the instruction.
  std::string longer = cta({{{1, s1.size() + 1}, s1 + std::string(1, '\0')}});
  std::string f = one_kernel(longer, 1, &meta_end);
  size_t stream_at = meta_end + 6;  // id (3 bytes), warp count, count, length
  expect_error(f, "byte " + std::to_string(stream_at + s1.size()) +
                      ": 1 bytes left in the warp stream after its 1 instructions");
  // Two instructions declared, one encoded.
  std::string shorter = cta({{{2, s1.size()}, s1}});
  f = one_kernel(shorter, 1, &meta_end);
  expect_error(f, "byte " + std::to_string(meta_end + 6 + s1.size()) +
                      ": expected instruction header, found the end of the warp stream (2 instructions declared)");
}

TEST_F(NativeErrors, InstructionEncodings) {
  size_t meta_end = 0;
  auto with_stream = [&](const std::string& s) { return one_kernel(cta({{{1, s.size()}, s}}), 1, &meta_end); };
  auto at = [&](size_t k) { return "byte " + std::to_string(meta_end + 6 + k) + ": "; };

  std::string s;
  put_u16le(s, 0x0070);  // width code 7
  std::string f = with_stream(s + std::string(10, '\0'));
  expect_error(f, at(0) + "invalid width code 7");

  s.clear();  // compute, explicit opcode 5 of 2
  put_u16le(s, kHdrFullMask | kHdrSameStep);
  put_varint(s, 5);
  f = with_stream(s);
  expect_error(f, at(0) + "opcode 5 not in the kernel's table of 2");

  s.clear();  // explicit full mask: the writer would have set FULL
  put_u16le(s, kHdrSameStep | kHdrSameOpcode);
  put_varint(s, 0xFFFFFFFFu);
  f = with_stream(s);
  expect_error(f, at(0) + "non-canonical instruction encoding (header 0x300, expected 0x380)");

  s.clear();  // mask wider than 32 bits
  put_u16le(s, kHdrSameStep | kHdrSameOpcode);
  put_varint(s, uint64_t(1) << 33);
  f = with_stream(s);
  expect_error(f, at(2) + "lane mask 8589934592 does not fit 32 bits");

  s.clear();  // register out of range
  put_u16le(s, kHdrFullMask | kHdrSameStep | kHdrSameOpcode | kHdrRegs);
  s.push_back(0x10);
  put_varint(s, 400);
  f = with_stream(s);
  expect_error(f, at(0) + "register id 400 out of range");

  s.clear();  // a load whose single active lane claims a uniform stride
  put_u16le(s, static_cast<uint16_t>(1 | 3 << kHdrWidthShift | kHdrSameStep | kHdrSameOpcode | kHdrUniform));
  put_varint(s, 1);  // mask: lane 0
  put_varint(s, 8);  // first lane delta
  put_varint(s, 8);  // stride
  f = with_stream(s);
  expect_error(f, at(0) + "uniform address stride with fewer than 2 active lanes");

  s.clear();  // a uniform stride whose lanes wrap around: lanes 0 and 2 imply stride 1
  put_u16le(s, static_cast<uint16_t>(1 | 3 << kHdrWidthShift | kHdrSameStep | kHdrSameOpcode | kHdrUniform));
  put_varint(s, 5);  // mask: lanes 0 and 2
  put_varint(s, zigzag(0x1000));
  put_varint(s, zigzag(static_cast<int64_t>(0x8000000000000001ull)));
  f = with_stream(s);
  expect_error(f, at(0) + "non-canonical address stride");

  s.clear();  // scattered lanes written as uniform ones would be non-canonical
  put_u16le(s, static_cast<uint16_t>(1 | 3 << kHdrWidthShift | kHdrSameStep | kHdrSameOpcode));
  put_varint(s, 3);
  put_varint(s, zigzag(0x1000));
  put_varint(s, zigzag(4));
  f = with_stream(s);
  expect_error(f, at(0) + "non-canonical instruction encoding");
}

TEST_F(NativeErrors, CorruptBytesNeverCrash) {
  // Flip bits all over a valid file: every outcome is success or a
  // SourceError (run under the sanitizers for the real check).
  std::string p = m_dir.path("full.hmt");
  {
    NativeWriter w(p);
    w.memcpy_htod(0x1000, 64);
    w.begin_kernel(small_info(), 2);
    WarpInstr st = load(0x9000);
    st.cls = InstrClass::Store;
    st.mask = 0x0F0F0F0F;
    st.ndst = 1;
    st.dst[0] = 3;
    st.has_value = true;
    st.value = 7;
    w.write_cta({0, 0, 0}, {{load(0x1000), st, load(0x1080)}, {load(0x3000)}});
    w.write_cta({1, 0, 0}, {{}, {st}});
    w.end_kernel();
    w.close();
  }
  std::string full = test::read_bytes(p);
  size_t accepted = 0, rejected = 0;
  for (size_t i = 0; i < full.size(); ++i) {
    for (uint8_t x : {0x01, 0x80, 0xFF, 0x7F}) {
      std::string bad = full;
      bad[i] = static_cast<char>(bad[i] ^ x);
      std::string q = path(bad);
      try {
        read_all(q);
        ++accepted;
      } catch (const hw::SourceError&) {
        ++rejected;
      }
    }
  }
  EXPECT_GT(rejected, full.size());  // most corruption is caught
  (void)accepted;
}

// --------------------------------------------------------------- text form

class NativeTextErrors : public ::testing::Test {
 protected:
  void expect_error(const std::string& text, const std::string& part) {
    std::string in = m_dir.path("t.txt");
    test::write_bytes(in, text);
    test::expect_source_error([&] { write_native_binary(in, m_dir.path("t.hmt")); }, in + ":" + part);
  }
  test::ScratchDir m_dir;
};

const char* const kHead =
    "hmmtrace 1\n"
    "kernel ctas=1 grid=1,1,1 block=64,1,1 shmem=0 nregs=8 shmem_base=0x0 local_base=0x0 opcodes=2\n"
    "name k\n"
    "opcode 0\n"
    "opcode 1 LDG.E\n"
    "cta 0,0,0 warps=1\n";  // lines 1-6

TEST_F(NativeTextErrors, NamesTheLine) {
  expect_error("HMMTRACE\n", "1: expected hmmtrace <version>: not a native trace text");
  expect_error("hmmtrace 2\nend\n", "1: unsupported format version 2");
  expect_error("hmmtrace 1\n", "1: expected memcpy_htod, kernel or end, found the end of the file");
  expect_error("hmmtrace 1\nend\nmemcpy_htod 0x0 1\n", "3: unexpected line after end");
  expect_error("hmmtrace 1\nmemcpy_htod 0xg 1\nend\n", "2: expected a destination address, found '0xg'");
  expect_error(std::string(kHead) + "warp 0 instrs=1\nload global w4 pc=0x0 op=1 mask=0x7 addr=0x10,0x20\nend\n",
               "8: 2 addresses for a mask with 3 active lanes");
  expect_error(std::string(kHead) + "warp 0 instrs=1\nload global w4 pc=0x0 op=2 mask=0x1 addr=0x10\nend\n",
               "8: opcode 2 not in the kernel's opcode table");
  expect_error(std::string(kHead) + "warp 0 instrs=1\nload global w4 pc=0x0 op=1 mask=0x1\nend\n",
               "8: expected addr= for the active lanes");
  expect_error(std::string(kHead) + "warp 0 instrs=1\ncompute global w0 pc=0x0 op=1 mask=0x1 addr=0x1\nend\n",
               "8: addr= on an instruction without active memory lanes");
  expect_error(std::string(kHead) + "warp 0 instrs=1\nload global w4 pc=0x0 op=1 mask=0x1 dst=X3 addr=0x1\nend\n",
               "8: expected a register (R<n> or UR<n>), found 'X3'");
  expect_error(std::string(kHead) + "warp 0 instrs=1\nload global w4 op=1 mask=0x1 addr=0x1\nend\n",
               "8: expected pc=");
  expect_error(std::string(kHead) + "warp 0 instrs=2\nload global w4 pc=0 op=1 mask=0x1 addr=0x1\nend\n",
               "9: expected an instruction class, found 'end'");
  expect_error(std::string(kHead) + "warp 1 instrs=0\nend\n", "7: expected warp 0 instrs=<n>");
  expect_error(std::string(kHead).replace(std::string(kHead).find("warps=1"), 7, "warps=3") + "end\n",
               "6: expected a warp count (at most 2), found '3'");
  expect_error(std::string(kHead) + "warp 0 instrs=0\n", "7: expected memcpy_htod, kernel or end, found the end of the file");
}

}  // namespace
}  // namespace hmmsim::workload
