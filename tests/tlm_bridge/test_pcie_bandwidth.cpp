// PcieSpec's arithmetic (line code, Flit Mode, per-TLP overhead by kind,
// validation) and the simulated PcieLink against the analytical DMA rate
//   signal x encoding x payload/(payload + TLP overhead) x (1 - DLLP)
// for 64 MiB moved as back-to-back 2 MiB DMA writes and reads, Gen3-Gen6 x16.
// PcieDmaTable prints the table of docs/pcie.md (and writes it to the file
// named by $HMMSIM_PCIE_TABLE).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <memory>
#include <ostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/hw/sc_test_support.h"
#include "tlm_bridge/pcie_link.h"

using namespace hmmsim::bridge;
using namespace hmmsim::sctest;
using sc_core::SC_NS;
using sc_core::sc_time;

namespace {

constexpr uint64_t kChunk = 2ull << 20;  // one DMA transfer
constexpr uint64_t kTotal = 64ull << 20;

PcieSpec x16(uint32_t gen, uint32_t mps, PcieEncoding enc = PcieEncoding::Auto) {
  PcieSpec s;
  s.gen = gen;
  s.lanes = 16;
  s.mps = mps;
  s.mrrs = 512;
  s.encoding = enc;
  return s;
}

// A target that only notes when the last request landed.
class Sink : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<Sink> socket;
  uint64_t last_ps = 0;
  explicit Sink(sc_core::sc_module_name n) : sc_module(n), socket("socket") {
    socket.register_b_transport(this, &Sink::b_transport);
  }

 private:
  void b_transport(tlm::tlm_generic_payload& t, sc_time& delay) {
    last_ps = std::max(last_ps, now_ps() + ps(delay));
    t.set_response_status(tlm::TLM_OK_RESPONSE);
  }
};

// One link with a DMA engine on the device side moving kTotal bytes in
// kChunk transfers, issued back to back (posted writes do not wait for each
// other; reads are pipelined), and the host memory behind the link.
struct DmaBench {
  DmaBench(const std::string& name, const PcieSpec& s, bool write)
      : link((name + "_link").c_str(), s),
        host((name + "_host").c_str()),
        dev((name + "_dev").c_str()),
        dma((name + "_dma").c_str()),
        mem((name + "_mem").c_str()) {
    host.socket.bind(link.down_target);
    link.down_initiator.bind(dev.socket);
    dma.socket.bind(link.up_target);
    link.up_initiator.bind(mem.socket);
    dma.body = [this, write] {
      std::vector<uint8_t> buf(kChunk);
      sc_time last;
      for (uint64_t off = 0; off < kTotal; off += kChunk) {
        sc_time d = sc_core::SC_ZERO_TIME;
        tlm::tlm_response_status r =
            write ? dma.write(off, buf.data(), kChunk, d) : dma.read(off, buf.data(), kChunk, d);
        if (r != tlm::TLM_OK_RESPONSE) ++errors;
        last = std::max(last, d);
      }
      sc_core::wait(last);  // the last byte has landed (write) or come back (read)
      done_ps = now_ps();
    };
  }
  // Measured bytes/ns: the whole transfer over the simulated time it took.
  double gbps() const { return double(kTotal) / (double(done_ps) / 1000.0); }

  PcieLink link;
  Initiator host;
  Sink dev;
  Initiator dma;
  Sink mem;
  uint64_t done_ps = 0;
  int errors = 0;
};

void expect_within_2pct(double measured, double analytical, const std::string& what) {
  EXPECT_NEAR(measured / analytical, 1.0, 0.02) << what << ": measured " << measured << " GB/s, analytical "
                                                << analytical << " GB/s";
}

}  // namespace

// ---- PcieSpec arithmetic -------------------------------------------------------

TEST(PcieSpec, EncodingFollowsGenerationUnlessFlitIsAsked) {
  EXPECT_EQ(x16(1, 256).resolved_encoding(), PcieEncoding::E8b10b);
  EXPECT_EQ(x16(2, 256).resolved_encoding(), PcieEncoding::E8b10b);
  for (uint32_t g : {3u, 4u, 5u}) EXPECT_EQ(x16(g, 256).resolved_encoding(), PcieEncoding::E128b130b) << g;
  EXPECT_EQ(x16(6, 256).resolved_encoding(), PcieEncoding::Flit);
  EXPECT_DOUBLE_EQ(x16(2, 256).encoding_efficiency(), 0.8);
  EXPECT_DOUBLE_EQ(x16(3, 256).encoding_efficiency(), 128.0 / 130);
  EXPECT_DOUBLE_EQ(x16(6, 256).encoding_efficiency(), 236.0 / 256);  // 1b/1b PAM4, 236 TLP bytes a flit
  // Flit Mode at a lower rate keeps that rate's line code (PCIe 6.0 Table 4-1).
  EXPECT_DOUBLE_EQ(x16(5, 256, PcieEncoding::Flit).encoding_efficiency(), 128.0 / 130 * 236 / 256);
  EXPECT_DOUBLE_EQ(x16(2, 256, PcieEncoding::Flit).encoding_efficiency(), 0.8 * 236 / 256);
  EXPECT_DOUBLE_EQ(x16(6, 256, PcieEncoding::Flit).encoding_efficiency(), 236.0 / 256);
  EXPECT_DOUBLE_EQ(x16(4, 256).signal_gbps(), 16.0 * 16 / 8);
  EXPECT_DOUBLE_EQ(x16(6, 256).signal_gbps(), 64.0 * 16 / 8);
  EXPECT_DOUBLE_EQ(x16(5, 256).raw_gbps(), 32.0 * 16 / 8 * 128 / 130);
}

TEST(PcieSpec, TlpOverheadIsHeaderPlusFramingOrHeaderAloneInFlitMode) {
  for (uint32_t g : {1u, 3u, 5u}) {
    const PcieSpec s = x16(g, 256);
    EXPECT_EQ(s.tlp_overhead(TlpKind::MemWrite), 24u) << g;  // 4 DW header + STP/seq 4 + LCRC 4
    EXPECT_EQ(s.tlp_overhead(TlpKind::MemRead), 24u) << g;
    EXPECT_EQ(s.tlp_overhead(TlpKind::Completion), 20u) << g;  // 3 DW header
  }
  for (const PcieSpec& s : {x16(6, 256), x16(4, 256, PcieEncoding::Flit)}) {
    EXPECT_EQ(s.tlp_overhead(TlpKind::MemWrite), 16u);
    EXPECT_EQ(s.tlp_overhead(TlpKind::MemRead), 16u);
    EXPECT_EQ(s.tlp_overhead(TlpKind::Completion), 12u);
  }
  PcieSpec fixed = x16(6, 256);
  fixed.tlp_overhead_bytes = 30;  // an explicit figure applies to every kind
  EXPECT_EQ(fixed.tlp_overhead(TlpKind::MemRead), 30u);
  EXPECT_EQ(fixed.tlp_overhead(TlpKind::Completion), 30u);
}

TEST(PcieSpec, DllpOverheadAutoIsZeroInFlitModeWhereDllpsRideInTheFlit) {
  EXPECT_DOUBLE_EQ(x16(4, 256).dllp_fraction(), 0.03);
  EXPECT_DOUBLE_EQ(x16(6, 256).dllp_fraction(), 0.0);
  EXPECT_DOUBLE_EQ(x16(5, 256, PcieEncoding::Flit).dllp_fraction(), 0.0);
  PcieSpec s = x16(6, 256);
  s.dllp_overhead = 0.01;
  EXPECT_DOUBLE_EQ(s.dllp_fraction(), 0.01);
  EXPECT_DOUBLE_EQ(s.tlp_gbps(), s.raw_gbps() * 0.99);
}

TEST(PcieSpec, CompletionsCarryAtMostMpsAndMrrsOrOneRcb) {
  PcieSpec s = x16(4, 256);
  EXPECT_EQ(s.completion_bytes(), 256u);
  s.mps = 1024;  // a completion cannot exceed its request
  EXPECT_EQ(s.completion_bytes(), 512u);
  s.completion_split = CompletionSplit::Rcb;
  EXPECT_EQ(s.completion_bytes(), 64u);
  s.rcb = 128;
  EXPECT_EQ(s.completion_bytes(), 128u);
}

TEST(PcieSpec, TlpsSplitAtAlignedBoundaries) {
  EXPECT_EQ(tlp_count(0, 4096, 256), 16u);
  EXPECT_EQ(tlp_count(0x40, 4096, 256), 17u);  // a short head and tail
  EXPECT_EQ(tlp_count(0x1000, 1, 128), 1u);
  EXPECT_EQ(tlp_count(0x107f, 2, 128), 2u);
  EXPECT_EQ(tlp_count(0x2000, 0, 128), 1u);  // a zero-length read is still one request
}

TEST(PcieSpec, AnalyticalRatesFollowTheFormula) {
  // Gen4 x16, mps 256: 32 GB/s x 128/130 x 256/(256+24) x 0.97.
  const PcieRate w = dma_write_rate(x16(4, 256), kTotal);
  EXPECT_DOUBLE_EQ(w.signal_gbps, 32.0);
  EXPECT_DOUBLE_EQ(w.encoding, 128.0 / 130);
  EXPECT_DOUBLE_EQ(w.tlp, 256.0 / 280);
  EXPECT_DOUBLE_EQ(w.dllp, 0.97);
  EXPECT_NEAR(w.gbps(), 32.0 * 128 / 130 * 256 / 280 * 0.97, 1e-9);
  // Reads: the completion direction, 256-byte CplDs with 20 bytes each.
  EXPECT_NEAR(dma_read_rate(x16(4, 256), kTotal).gbps(), 32.0 * 128 / 130 * 256 / 276 * 0.97, 1e-9);
  PcieSpec rcb = x16(4, 256);
  rcb.completion_split = CompletionSplit::Rcb;
  EXPECT_NEAR(dma_read_rate(rcb, kTotal).gbps(), 32.0 * 128 / 130 * 64 / 84 * 0.97, 1e-9);
  // Gen6: 128 GB/s x 236/256 x 256/(256+16).
  EXPECT_NEAR(dma_write_rate(x16(6, 256), kTotal).gbps(), 128.0 * 236 / 256 * 256 / 272, 1e-9);
}

TEST(PcieSpec, FlitModeAtGen5CostsWithLargeTlpsAndPaysWithSmallOnes) {
  // 236/256 of every flit against 8 framing bytes and 3 % DLLPs per TLP.
  EXPECT_GT(dma_write_rate(x16(5, 512), kTotal).gbps(),
            dma_write_rate(x16(5, 512, PcieEncoding::Flit), kTotal).gbps());
  EXPECT_GT(dma_write_rate(x16(5, 256), kTotal).gbps(),
            dma_write_rate(x16(5, 256, PcieEncoding::Flit), kTotal).gbps());
  EXPECT_LT(dma_write_rate(x16(5, 128), kTotal).gbps(),
            dma_write_rate(x16(5, 128, PcieEncoding::Flit), kTotal).gbps());
  EXPECT_LT(dma_write_rate(x16(5, 256), 64).gbps(), dma_write_rate(x16(5, 256, PcieEncoding::Flit), 64).gbps());
}

TEST(PcieSpec, InvalidParametersAreRejectedNamingTheKey) {
  auto key_of = [](const PcieSpec& s) {
    auto e = s.validate();
    return e ? e->key : std::string("(valid)");
  };
  EXPECT_EQ(key_of(x16(4, 256)), "(valid)");
  EXPECT_EQ(key_of(x16(0, 256)), "gen");
  EXPECT_EQ(key_of(x16(7, 256)), "gen");
  EXPECT_EQ(key_of(x16(4, 384)), "max_payload");
  EXPECT_EQ(key_of(x16(4, 8192)), "max_payload");
  EXPECT_EQ(key_of(x16(3, 256, PcieEncoding::E8b10b)), "encoding");
  EXPECT_EQ(key_of(x16(2, 256, PcieEncoding::E128b130b)), "encoding");
  EXPECT_EQ(key_of(x16(6, 256, PcieEncoding::E128b130b)), "encoding");
  EXPECT_EQ(key_of(x16(2, 256, PcieEncoding::E8b10b)), "(valid)");
  EXPECT_EQ(key_of(x16(3, 256, PcieEncoding::Flit)), "(valid)");
  PcieSpec s = x16(4, 256);
  s.lanes = 12;
  EXPECT_EQ(key_of(s), "lanes");
  s = x16(4, 256);
  s.mrrs = 64;
  EXPECT_EQ(key_of(s), "max_read_request");
  s = x16(4, 256);
  s.rcb = 256;
  EXPECT_EQ(key_of(s), "read_completion_boundary");
  s = x16(4, 256);
  s.tlp_overhead_bytes = 65;
  EXPECT_EQ(key_of(s), "tlp_overhead");
  s = x16(4, 256);
  s.dllp_overhead = 0.6;
  EXPECT_EQ(key_of(s), "dllp_overhead");
  s = x16(4, 256);
  s.latency_ns = -1;
  EXPECT_EQ(key_of(s), "latency");
}

TEST(PcieLink, RefusesAnInvalidSpec) {
  try {
    PcieLink link("bad", x16(6, 256, PcieEncoding::E128b130b));
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), "PcieSpec.encoding: 128b130b is the line code of Gen3-5 (8-32 GT/s) only");
  }
}

TEST(PcieLink, UnalignedTransfersSplitAtPayloadAndRequestBoundaries) {
  PcieSpec s = x16(4, 128);
  s.mrrs = 256;
  DmaBench b("u", s, true);
  std::vector<uint8_t> buf(1000);
  b.dma.body = [&] {
    sc_time d;
    b.dma.write(0x1040, buf.data(), 1000, d);  // 0x1040..0x1427: 9 TLPs of <= 128 B
    d = sc_core::SC_ZERO_TIME;
    b.dma.read(0x2040, buf.data(), 1000, d);  // 5 requests (256 B boundaries), 9 completions
  };
  sc_core::sc_start();
  EXPECT_EQ(b.link.up.s_tlps, 9u + 5u);
  EXPECT_EQ(b.link.up.s_wire_bytes, 1000u + 9 * 24 + 5 * 24);
  EXPECT_EQ(b.link.down.s_tlps, 9u);
  EXPECT_EQ(b.link.down.s_wire_bytes, 1000u + 9 * 20);
}

// ---- simulated DMA against the analytical rate -----------------------------------

struct DmaCase {
  uint32_t gen;
  uint32_t mps;
  PcieEncoding enc;
};

// Names the case in ctest's listing.
void PrintTo(const DmaCase& c, std::ostream* os) {
  *os << "Gen" << c.gen << (c.enc == PcieEncoding::Flit ? " flit" : "") << " x16 mps " << c.mps;
}

class PcieDma : public ::testing::TestWithParam<DmaCase> {};

TEST_P(PcieDma, WritesOf64MiBMatchTheAnalyticalRate) {
  const PcieSpec s = x16(GetParam().gen, GetParam().mps, GetParam().enc);
  DmaBench b("w", s, true);
  sc_core::sc_start();
  EXPECT_EQ(b.errors, 0);
  EXPECT_EQ(b.link.up.s_payload_bytes, kTotal);
  EXPECT_EQ(b.link.up.s_tlps, kTotal / s.mps);
  EXPECT_EQ(b.link.down.s_tlps, 0u);  // posted: nothing comes back
  expect_within_2pct(b.gbps(), dma_write_rate(s, kTotal).gbps(), "write");
}

TEST_P(PcieDma, ReadsOf64MiBMatchTheAnalyticalRate) {
  const PcieSpec s = x16(GetParam().gen, GetParam().mps, GetParam().enc);
  DmaBench b("r", s, false);
  sc_core::sc_start();
  EXPECT_EQ(b.errors, 0);
  EXPECT_EQ(b.link.up.s_tlps, kTotal / s.mrrs);  // requests
  EXPECT_EQ(b.link.down.s_payload_bytes, kTotal);  // completions
  expect_within_2pct(b.gbps(), dma_read_rate(s, kTotal).gbps(), "read");
}

INSTANTIATE_TEST_SUITE_P(
    X16, PcieDma,
    ::testing::Values(DmaCase{3, 128, PcieEncoding::Auto}, DmaCase{3, 256, PcieEncoding::Auto},
                      DmaCase{4, 256, PcieEncoding::Auto}, DmaCase{4, 512, PcieEncoding::Auto},
                      DmaCase{5, 256, PcieEncoding::Auto}, DmaCase{5, 256, PcieEncoding::Flit},
                      DmaCase{6, 128, PcieEncoding::Auto}, DmaCase{6, 256, PcieEncoding::Auto},
                      DmaCase{6, 512, PcieEncoding::Auto}),
    [](const ::testing::TestParamInfo<DmaCase>& i) {
      return "Gen" + std::to_string(i.param.gen) + (i.param.enc == PcieEncoding::Flit ? "Flit" : "") + "_mps" +
             std::to_string(i.param.mps);
    });

// The table of docs/pcie.md: every figure computed from PcieSpec or measured
// on a simulated link, each link checked against the formula as well.
TEST(PcieDmaTable, Gen3ToGen6x16) {
  struct Row {
    const char* name;
    uint32_t gen;
    PcieEncoding enc;
  };
  const Row rows[] = {{"Gen3", 3, PcieEncoding::Auto},
                      {"Gen4", 4, PcieEncoding::Auto},
                      {"Gen5", 5, PcieEncoding::Auto},
                      {"Gen5 flit", 5, PcieEncoding::Flit},
                      {"Gen6", 6, PcieEncoding::Auto}};
  const uint32_t mpss[] = {128, 256, 512};
  std::vector<std::unique_ptr<DmaBench>> writes, reads;
  for (const Row& r : rows) {
    for (uint32_t mps : mpss)
      writes.push_back(std::make_unique<DmaBench>(std::string("w") + std::to_string(writes.size()),
                                                  x16(r.gen, mps, r.enc), true));
    reads.push_back(
        std::make_unique<DmaBench>(std::string("r") + std::to_string(reads.size()), x16(r.gen, 256, r.enc), false));
  }
  sc_core::sc_start();

  std::ostringstream t;
  char cell[64];
  auto put = [&](const char* fmt, double v) {
    std::snprintf(cell, sizeof cell, fmt, v);
    t << " " << cell << " |";
  };
  t << "| x16 link | GT/s | raw GB/s | line code | encoding eff. | after encoding GB/s | DLLP "
       "| TLP eff. (write) mps 128 / 256 / 512 | write GB/s mps 128 / 256 / 512 | read GB/s mps 256 "
       "| max \\|sim / formula - 1\\| |\n"
    << "|---|---|---|---|---|---|---|---|---|---|---|\n";
  size_t w = 0;
  for (size_t i = 0; i < std::size(rows); ++i) {
    const PcieSpec s = x16(rows[i].gen, 256, rows[i].enc);
    t << "| " << rows[i].name << " |";
    put("%.1f", s.gtps());
    put("%.2f", s.signal_gbps());
    t << " " << (s.gen <= 2 ? "8b/10b" : s.gen <= 5 ? "128b/130b" : "1b/1b") << (s.flit() ? " + flit" : "") << " |";
    put("%.4f", s.encoding_efficiency());
    put("%.2f", s.raw_gbps());
    put("%.2f", s.dllp_fraction());
    double worst = 0;
    std::string tlp, wr;
    for (uint32_t mps : mpss) {
      const PcieSpec m = x16(rows[i].gen, mps, rows[i].enc);
      const DmaBench& b = *writes[w++];
      expect_within_2pct(b.gbps(), dma_write_rate(m, kTotal).gbps(), std::string(rows[i].name) + " write");
      worst = std::max(worst, std::abs(b.gbps() / dma_write_rate(m, kTotal).gbps() - 1));
      std::snprintf(cell, sizeof cell, "%.4f", dma_write_rate(m, kTotal).tlp);
      tlp += (tlp.empty() ? "" : " / ") + std::string(cell);
      std::snprintf(cell, sizeof cell, "%.2f", b.gbps());
      wr += (wr.empty() ? "" : " / ") + std::string(cell);
    }
    t << " " << tlp << " | " << wr << " |";
    expect_within_2pct(reads[i]->gbps(), dma_read_rate(s, kTotal).gbps(), std::string(rows[i].name) + " read");
    worst = std::max(worst, std::abs(reads[i]->gbps() / dma_read_rate(s, kTotal).gbps() - 1));
    put("%.2f", reads[i]->gbps());
    put("%.1e", worst);
    t << "\n";
  }
  std::printf("%s", t.str().c_str());
  if (const char* path = std::getenv("HMMSIM_PCIE_TABLE")) std::ofstream(path) << t.str();
}
