// NvbitTrace: a scan for launches and the lines spanning each launch's
// records, then a two-pass external group-by per launch into a native
// trace (see nvbit_trace.h for the bound and the inferences).
#include "workload/nvbit/nvbit_trace.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <tuple>

#include "workload/nvbit/nvbit_lines.h"

namespace hmmsim::workload {

using namespace nvbit;

namespace {

// The lines from a launch's first record to its last.
struct Region {
  bool any = false;
  uint64_t first_off = 0, first_line = 0, end_off = 0;
  void add(uint64_t off, uint64_t line, uint64_t end) {
    if (!any) {
      any = true;
      first_off = off;
      first_line = line;
    }
    end_off = end;
  }
};

struct Launch {
  LaunchLine info;
  uint64_t line = 0;  // the LAUNCH line, or the first record's
  Region region;
};

struct Scan {
  bool new_style = false;
  uint64_t shift = 0;  // launch id = record's grid_launch_id + shift
  std::vector<Launch> launches;
};

Scan scan(const std::shared_ptr<const TraceFile>& f, LineParser& p) {
  Scan s;
  enum class Style { Unknown, New, Old } style = Style::Unknown;
  uint64_t style_line = 0;
  std::map<uint64_t, size_t> by_id;             // launch id -> index
  std::map<uint64_t, Region> by_record_id;      // record's grid_launch_id -> region
  bool ids_match = true, ids_one_below = true;  // the two numberings (see header)
  LineCursor lc(f);
  std::string_view line;
  LaunchLine launch;
  RecordLine rec;
  for (;;) {
    uint64_t off = lc.offset();
    if (!lc.next(line)) break;
    uint64_t n = lc.line_no();
    LineKind k = p.parse(line, n, launch, rec);
    if (k == LineKind::Other) continue;
    bool is_new = k == LineKind::Launch ? launch.new_style : rec.new_style;
    if (style == Style::Unknown) {
      style = is_new ? Style::New : Style::Old;
      style_line = n;
    } else if ((style == Style::New) != is_new) {
      p.fail(n, std::string("expected a ") + (style == Style::New ? "new-style (MEMTRACE:)" : "old-style") +
                    " mem_trace line like line " + std::to_string(style_line) + ", found the other style");
    }
    if (k == LineKind::Launch) {
      if (is_new && !by_id.emplace(launch.id, s.launches.size()).second)
        p.fail(n, "duplicate LAUNCH line for grid launch id " + std::to_string(launch.id));
      s.launches.push_back(Launch{launch, n, {}});
    } else if (is_new) {
      ids_match = ids_match && by_id.count(rec.launch);
      ids_one_below = ids_one_below && rec.launch != UINT64_MAX && by_id.count(rec.launch + 1);
      if (!ids_match && !ids_one_below)
        p.fail(n, "record for grid launch id " + std::to_string(rec.launch) + ", which has no LAUNCH line before it");
      by_record_id[rec.launch].add(off, n, lc.offset());
    } else {
      if (s.launches.empty()) {  // no Kernel line: one kernel, dimensions inferred
        Launch l;
        l.info.name = "kernel";
        l.line = n;
        s.launches.push_back(l);
      }
      s.launches.back().region.add(off, n, lc.offset());
    }
  }
  if (style == Style::Unknown)
    throw hw::SourceError(p.path() + ": no NVBit mem_trace lines (expected 'MEMTRACE: CTX ...' or 'CTA x,y,z - warp ...')");
  s.new_style = style == Style::New;
  if (s.new_style) {
    s.shift = ids_match ? 0 : 1;
    for (const auto& [id, r] : by_record_id) s.launches[by_id.at(id + s.shift)].region = r;
  }
  return s;
}

struct WarpSlot {
  uint32_t raw = 0;  // the warp id as printed
  uint64_t instrs = 0, bytes = 0;
  uint64_t off = 0;  // pass 2: where its next instruction goes
  native::WarpCodec codec;
};

struct CtaKey {
  uint32_t z, y, x;  // dispatch order: x fastest
  bool operator<(const CtaKey& o) const { return std::tie(z, y, x) < std::tie(o.z, o.y, o.x); }
  bool operator==(const CtaKey& o) const { return x == o.x && y == o.y && z == o.z; }
};

std::string dim_text(const hw::Dim3& d) {
  return std::to_string(d.x) + "," + std::to_string(d.y) + "," + std::to_string(d.z);
}

class LaunchConverter {
 public:
  LaunchConverter(std::shared_ptr<const TraceFile> f, LineParser& p, const Scan& s, const Launch& l)
      : m_file(std::move(f)), m_p(p), m_scan(s), m_l(l) {
    m_info.name = l.info.name;
    m_info.nregs = l.info.nregs;
    m_info.shmem_bytes = l.info.shmem;
    if (l.info.has_dims) {
      m_info.grid = l.info.grid;
      m_info.block = l.info.block;
    }
  }

  void run(NativeWriter& w) {
    // Pass 1: count each warp's instructions and encoded bytes.
    std::string buf;
    for_each_record([&](const RecordLine& r, uint64_t line) {
      WarpSlot& s = add_slot(r, line);
      buf.clear();
      native::encode_instr(s.codec, instr(r, line), buf);
      s.instrs++;
      s.bytes += buf.size();
    });
    if (!m_l.info.has_dims) {  // infer from what was seen (at least 1 CTA of 1 warp)
      m_info.grid = {m_max.x + 1, m_max.y + 1, m_max.z + 1};
      m_info.block = {(m_max_warp + 1) * hw::kWarpSize, 1, 1};
    }
    m_info.opcodes = m_names;
    layout(w);
    // Pass 2: encode again, each record at its warp's next offset.
    for_each_record([&](const RecordLine& r, uint64_t line) {
      WarpSlot& s = find_slot(r);
      buf.clear();
      native::encode_instr(s.codec, instr(r, line), buf);
      w.write_at(s.off, buf);
      s.off += buf.size();
    });
  }

 private:
  template <class F>
  void for_each_record(F&& f) {
    if (!m_l.region.any) return;
    LineCursor lc(m_file, m_l.region.first_off, m_l.region.first_line);
    std::string_view line;
    LaunchLine launch;
    while (lc.offset() < m_l.region.end_off && lc.next(line)) {
      if (m_p.parse(line, lc.line_no(), launch, m_rec) != LineKind::Record) continue;
      if (m_scan.new_style && m_rec.launch + m_scan.shift != m_l.info.id) continue;  // another launch's
      f(m_rec, lc.line_no());
    }
  }

  WarpSlot& add_slot(const RecordLine& r, uint64_t line) {
    const hw::Dim3& c = r.cta;
    if (m_l.info.has_dims) {
      const hw::Dim3& g = m_info.grid;
      if (c.x >= g.x || c.y >= g.y || c.z >= g.z)
        m_p.fail(line, "CTA " + dim_text(c) + " outside the grid " + dim_text(g) + " of launch '" + m_info.name + "'");
    } else {
      m_max = {std::max(m_max.x, c.x), std::max(m_max.y, c.y), std::max(m_max.z, c.z)};
      m_max_warp = std::max(m_max_warp, r.warp);
    }
    std::vector<WarpSlot>& v = m_ctas[CtaKey{c.z, c.y, c.x}];
    auto it = std::lower_bound(v.begin(), v.end(), r.warp, [](const WarpSlot& s, uint32_t w) { return s.raw < w; });
    if (it != v.end() && it->raw == r.warp) return *it;
    if (m_l.info.has_dims && v.size() == m_info.warps_per_cta())
      m_p.fail(line, "CTA " + dim_text(c) + " has more than the " + std::to_string(v.size()) +
                         " warps of its block " + dim_text(m_info.block));
    WarpSlot s;
    s.raw = r.warp;
    return *v.insert(it, s);
  }

  WarpSlot& find_slot(const RecordLine& r) {
    std::vector<WarpSlot>& v = m_ctas.at(CtaKey{r.cta.z, r.cta.y, r.cta.x});
    return *std::lower_bound(v.begin(), v.end(), r.warp, [](const WarpSlot& s, uint32_t w) { return s.raw < w; });
  }

  hw::WarpInstr instr(const RecordLine& r, uint64_t line) {
    auto it = m_ops.find(r.opcode);
    if (it == m_ops.end()) {
      OpcodeInfo oi;
      if (!classify_opcode(r.opcode, oi)) m_p.fail(line, "unknown memory opcode '" + std::string(r.opcode) + "'");
      if (m_names.size() > 0xFFFF) m_p.fail(line, "more than 65535 distinct opcodes in one launch");
      it = m_ops.emplace(std::string(r.opcode), std::make_pair(static_cast<uint16_t>(m_names.size()), oi)).first;
      m_names.emplace_back(r.opcode);
    }
    hw::WarpInstr in;
    in.opcode = it->second.first;
    in.cls = it->second.second.cls;
    in.space = it->second.second.space;
    in.width = it->second.second.width;
    for (unsigned l = 0; l < hw::kWarpSize; ++l) {
      in.addr[l] = r.addr[l];
      if (r.addr[l] != 0) in.mask |= 1u << l;
    }
    return in;
  }

  // Writes the kernel header and every CTA's table, leaving each warp's
  // stream as a hole that pass 2 fills.
  void layout(NativeWriter& w) {
    const hw::Dim3& g = m_info.grid;
    unsigned nw = m_info.warps_per_cta();
    w.begin_kernel(m_info, g.count());
    auto it = m_ctas.begin();
    std::vector<native::WarpExtent> ext(nw);
    std::vector<WarpSlot*> at(nw);
    for (uint32_t z = 0; z < g.z; ++z)
      for (uint32_t y = 0; y < g.y; ++y)
        for (uint32_t x = 0; x < g.x; ++x) {
          std::fill(ext.begin(), ext.end(), native::WarpExtent{});
          std::fill(at.begin(), at.end(), nullptr);
          if (it != m_ctas.end() && it->first == CtaKey{z, y, x}) {
            std::vector<WarpSlot>& v = (it++)->second;
            // Slots are sorted by printed id: ids that all fit the block
            // are the warps' indices, otherwise their ranks are.
            bool direct = v.back().raw < nw;
            for (size_t i = 0; i < v.size(); ++i) {
              size_t idx = direct ? v[i].raw : i;
              ext[idx] = {v[i].instrs, v[i].bytes};
              at[idx] = &v[i];
            }
          }
          uint64_t off = w.reserve_cta({x, y, z}, ext);
          for (unsigned i = 0; i < nw; ++i) {
            if (at[i]) {
              at[i]->off = off;
              at[i]->codec = native::WarpCodec{};
            }
            off += ext[i].bytes;
          }
        }
    w.end_kernel();
  }

  std::shared_ptr<const TraceFile> m_file;
  LineParser& m_p;
  const Scan& m_scan;
  const Launch& m_l;
  hw::KernelInfo m_info;
  RecordLine m_rec;
  std::map<CtaKey, std::vector<WarpSlot>> m_ctas;
  std::map<std::string, std::pair<uint16_t, OpcodeInfo>, std::less<>> m_ops;
  std::vector<std::string> m_names{""};
  hw::Dim3 m_max{0, 0, 0};
  uint32_t m_max_warp = 0;
};

// A temporary file name, removed when done (the native reader keeps its
// descriptor open).
struct TempPath {
  std::string path;
  TempPath() {
    const char* env = std::getenv("TMPDIR");
    path = std::string(env && *env ? env : "/tmp") + "/hmmsim-nvbit-XXXXXX";
    int fd = ::mkstemp(path.data());
    if (fd < 0) throw hw::SourceError("cannot create a temporary file " + path + ": " + std::strerror(errno));
    ::close(fd);
  }
  ~TempPath() { ::unlink(path.c_str()); }
};

}  // namespace

NvbitTrace::NvbitTrace(const std::string& path) {
  std::shared_ptr<const TraceFile> f = TraceFile::open(path);
  LineParser p(path);
  Scan s = scan(f, p);
  TempPath tmp;
  NativeWriter w(tmp.path);
  m_program.file = path;
  for (const Launch& l : s.launches) {
    LaunchConverter(f, p, s, l).run(w);
    TraceCommand cmd;
    cmd.kind = TraceCommand::Kind::Kernel;
    cmd.kernel_path = path;
    cmd.line = l.line;
    m_program.commands.push_back(cmd);
  }
  w.close();
  m_native = std::make_unique<NativeTrace>(tmp.path);
}

NvbitTrace::~NvbitTrace() = default;

size_t NvbitTrace::kernel_count() const { return m_native->kernel_count(); }

std::unique_ptr<hw::IKernelSource> NvbitTrace::open_kernel(size_t index) const {
  if (index >= m_native->kernel_count())
    throw hw::SourceError(m_program.file + ": no kernel " + std::to_string(index) + " (the trace has " +
                          std::to_string(m_native->kernel_count()) + ")");
  return m_native->open_kernel(index);
}

}  // namespace hmmsim::workload
