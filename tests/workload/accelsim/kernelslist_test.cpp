// kernelslist.g: copies and launches in order, kernel files checked at
// load, a folder or a single kernel file accepted in its place.
#include <gtest/gtest.h>

#include "traceg_text.h"
#include "workload/accelsim/kernelslist.h"

namespace hmmsim::workload::accelsim {
namespace {

using hmmsim::testing::TempDir;
using Kind = TraceCommand::Kind;

std::string load_error(const std::string& path) {
  try {
    load_program(path);
  } catch (const hw::SourceError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Kernelslist, CommandsInOrder) {
  TempDir dir;
  dir.write("kernel-1.traceg", "");
  dir.write("kernel-2.traceg.xz", "");
  std::string list = dir.write("kernelslist.g",
                               "MemcpyHtoD,0x00007fb0fc400000,200000\r\n"
                               "\n"
                               "MemcpyHtoD,0x7fb0fc430e00,12,memcpy_htod_1.bin\n"
                               "kernel-1.traceg\n"
                               "  \n"
                               "kernel-2.traceg.xz");
  TraceProgram p = load_program(list);
  EXPECT_EQ(p.file, list);
  ASSERT_EQ(p.commands.size(), 4u);
  EXPECT_EQ(p.commands[0].kind, Kind::MemcpyHtoD);
  EXPECT_EQ(p.commands[0].dst, 0x7fb0fc400000u);
  EXPECT_EQ(p.commands[0].bytes, 200000u);
  EXPECT_EQ(p.commands[0].line, 1u);
  EXPECT_EQ(p.commands[1].dst, 0x7fb0fc430e00u);
  EXPECT_EQ(p.commands[1].bytes, 12u);
  EXPECT_EQ(p.commands[1].line, 3u);
  EXPECT_EQ(p.commands[2].kind, Kind::Kernel);
  EXPECT_EQ(p.commands[2].kernel_path, dir.path() + "/kernel-1.traceg");
  EXPECT_EQ(p.commands[2].line, 4u);
  EXPECT_EQ(p.commands[3].kernel_path, dir.path() + "/kernel-2.traceg.xz");
  EXPECT_EQ(p.commands[3].line, 6u);

  // The folder stands for its kernelslist.g.
  TraceProgram q = load_program(dir.path());
  EXPECT_EQ(q.file, list);
  EXPECT_EQ(q.commands.size(), 4u);
}

TEST(Kernelslist, SingleKernelFile) {
  TempDir dir;
  for (const char* name : {"kernel-3.traceg", "k.traceg.xz"}) {
    std::string k = dir.write(name, "");
    TraceProgram p = load_program(k);
    ASSERT_EQ(p.commands.size(), 1u);
    EXPECT_EQ(p.commands[0].kind, Kind::Kernel);
    EXPECT_EQ(p.commands[0].kernel_path, k);
    EXPECT_EQ(p.commands[0].line, 0u);
  }
  EXPECT_EQ(load_error(dir.path() + "/none.traceg"), dir.path() + "/none.traceg: cannot open: No such file or directory");
}

TEST(Kernelslist, Errors) {
  TempDir dir;
  dir.write("kernel-1.traceg", "");
  std::string l = dir.write("a.g", "MemcpyHtoD,0x1000,16\nkernel-1.traceg\nkernel-2.traceg\n");
  EXPECT_EQ(load_error(l), l + ":3: kernel file " + dir.path() + "/kernel-2.traceg: No such file or directory");
  for (std::string bad : {"MemcpyHtoD,0xzz,16", "MemcpyHtoD,0x1000", "MemcpyHtoD,0x1000,-1",
                                 "MemcpyHtoD,4096,16", "MemcpyHtoD,0x1000,16,a,b", "MemcpyDtoH,0x1000,16"}) {
    std::string p = dir.write("b.g", "kernel-1.traceg\n" + bad + "\n");
    EXPECT_EQ(load_error(p), p + ":2: expected MemcpyHtoD,0x<hex dst>,<decimal bytes>, found '" + bad + "'");
  }
  std::string p = dir.write("c.g", "\n\nrun kernel-1.traceg\n");
  EXPECT_EQ(load_error(p), p + ":3: expected MemcpyHtoD,0x<dst>,<bytes> or a kernel trace name, found 'run kernel-1.traceg'");
  EXPECT_EQ(load_error(dir.path() + "/nope.g"), dir.path() + "/nope.g: cannot open: No such file or directory");
  std::string empty = dir.write("empty.g", "");
  EXPECT_TRUE(load_program(empty).commands.empty());
}

}  // namespace
}  // namespace hmmsim::workload::accelsim
