// Resolving a host program: addresses of buffers, synthetic kernels' data,
// and the buffers a trace implies (the 2 MiB regions its global accesses
// and MemcpyHtoD destinations touch, docs/workloads.md).
#include <algorithm>
#include <map>
#include <set>
#include <stdexcept>

#include "sim/program.h"
#include "workload/formats/trace_formats.h"

namespace hmmsim::sim {

namespace {

constexpr uint64_t k2M = 2ull << 20;
constexpr uint64_t kVaLimit = 1ull << 47;  // user address space
uint64_t up2m(uint64_t v) { return (v + k2M - 1) & ~(k2M - 1); }

class Builder {
 public:
  explicit Builder(const ProgramSpec& s) : m_spec(s), m_cursor(s.base_va) {}

  Program build() {
    for (const BufferSpec& b : m_spec.buffers) {
      ProgramBuffer& pb = m_p.buffers[add_buffer(b.name, b.va, b.bytes, b.placement, b.at)];
      pb.prefer_device = b.prefer_device;
      pb.read_mostly = b.read_mostly;
    }
    for (size_t i = 0; i < m_spec.steps.size(); ++i) step(m_spec.steps[i], i);
    for (const CpuThreadSpec& t : m_spec.threads) thread(t);
    // Device-placed buffers move into VRAM before every kernel.
    for (ProgramKernel& k : m_p.kernels)
      for (size_t b = 0; b < m_p.buffers.size(); ++b)
        if (m_p.buffers[b].placement == Placement::Device) k.device_buffers.push_back(b);
    return std::move(m_p);
  }

 private:
  size_t add_buffer(const std::string& name, uint64_t va, uint64_t bytes, Placement pl, const Origin& at) {
    if (va == 0) va = up2m(m_cursor);  // separate allocations start on 2 MiB boundaries
    if (va + bytes > kVaLimit || va + bytes < va)
      at.fail("buffer '" + name + "' would end above the 47-bit user address space");
    for (const ProgramBuffer& o : m_p.buffers)
      if (va < o.va + o.bytes && o.va < va + bytes) at.fail("buffer '" + name + "' overlaps buffer '" + o.name + "'");
    m_p.buffers.push_back({name, va, bytes, pl});
    m_cursor = std::max(m_cursor, va + bytes);
    return m_p.buffers.size() - 1;
  }

  const ProgramBuffer* find(const std::string& name) const {
    for (const ProgramBuffer& b : m_p.buffers)
      if (b.name == name) return &b;
    return nullptr;
  }

  // The buffers a range names, with its byte range in each.
  std::vector<std::pair<const ProgramBuffer*, std::pair<uint64_t, uint64_t>>> resolve(const RangeSpec& r) {
    std::vector<std::pair<const ProgramBuffer*, std::pair<uint64_t, uint64_t>>> out;
    if (r.buffer.empty()) {
      if (r.offset || r.bytes) r.at.fail("offset and bytes need a buffer");
      for (const ProgramBuffer& b : m_p.buffers) out.push_back({&b, {b.va, b.bytes}});
      if (out.empty()) r.at.fail("there is no buffer yet to act on");
      return out;
    }
    const ProgramBuffer* b = find(r.buffer);
    if (!b) {
      std::string known;
      for (const ProgramBuffer& x : m_p.buffers) known += (known.empty() ? "" : ", ") + x.name;
      r.at.fail("no buffer named '" + r.buffer + "' (defined so far: " + (known.empty() ? "none" : known) + ")");
    }
    const uint64_t bytes = r.bytes ? r.bytes : (r.offset < b->bytes ? b->bytes - r.offset : 0);
    if (r.offset % 4096 || bytes % 4096 || bytes == 0 || r.offset + bytes > b->bytes)
      r.at.fail("range [" + std::to_string(r.offset) + ", +" + std::to_string(bytes) + ") must be whole pages inside '" +
                b->name + "' (" + std::to_string(b->bytes) + " bytes)");
    out.push_back({b, {b->va + r.offset, bytes}});
    return out;
  }

  void step(const StepSpec& s, size_t index) {
    const std::string what = "step " + std::to_string(index);
    switch (s.kind) {
      case StepKind::CpuWrite:
      case StepKind::CpuRead:
      case StepKind::Munmap:
      case StepKind::Mprotect:
        for (auto& [b, r] : resolve(s.range)) {
          ProgramStep p;
          p.kind = s.kind;
          p.va = r.first;
          p.bytes = r.second;
          p.prot = s.prot;
          p.what = what + " on " + b->name;
          m_p.steps.push_back(p);
        }
        return;
      case StepKind::Idle: {
        ProgramStep p;
        p.kind = StepKind::Idle;
        p.idle_ns = s.idle_ns;
        p.what = what;
        m_p.steps.push_back(p);
        return;
      }
      case StepKind::Kernel:
        return synthetic(s, what);
      case StepKind::Trace:
        return trace(s, index, what);
    }
  }

  void synthetic(const StepSpec& s, const std::string& what) {
    workload::SyntheticSpec y = s.kernel.synthetic;
    const std::string label = "k" + std::to_string(m_p.kernels.size());
    const ProgramBuffer* b;
    if (s.kernel.buffer.empty()) {
      b = &m_p.buffers[add_buffer(label, 0, y.footprint, Placement::Managed, s.at)];
    } else {
      RangeSpec r;
      r.buffer = s.kernel.buffer;
      r.at = s.at;
      b = resolve(r).front().first;
      if (y.footprint == 0) y.footprint = b->bytes;
      if (y.footprint > b->bytes)
        s.at.fail("footprint " + std::to_string(y.footprint) + " exceeds buffer '" + b->name + "' (" +
                  std::to_string(b->bytes) + " bytes)");
    }
    y.base_va = b->va;
    try {
      workload::synthetic_layout(y);  // validates the parameters
    } catch (const std::invalid_argument& e) {
      s.at.fail(e.what());
    }
    ProgramKernel k;
    k.label = label;
    k.name = y.kernel;
    k.origin = "synthetic " + y.kernel + " on " + b->name;
    k.open = [y] { return workload::make_synthetic(y); };
    add_kernel(std::move(k), what);
  }

  void trace(const StepSpec& s, size_t index, const std::string& what) {
    std::shared_ptr<workload::OpenTrace> t = workload::open_trace(s.trace.format, s.trace.path);
    const auto& cmds = t->program().commands;
    // Regions first: the buffers exist before the program's first step.
    std::set<uint64_t> regions;
    std::vector<ProgramKernel> kernels;
    for (size_t c = 0; c < cmds.size(); ++c) {
      if (cmds[c].kind == workload::TraceCommand::Kind::MemcpyHtoD) {
        for (uint64_t a = cmds[c].dst & ~(k2M - 1); a < cmds[c].dst + cmds[c].bytes; a += k2M) regions.insert(a);
        continue;
      }
      ProgramKernel k;
      auto src = t->open_kernel(c);
      k.name = src->info().name;
      k.summary = workload::scan_kernel(*src);
      k.scanned = true;
      if (k.summary.global_instructions() == 0)
        throw hw::SourceError(cmds[c].kernel_path + ": kernel " + k.name +
                              " addresses no global memory (nothing for the GMMU to translate)");
      regions.insert(k.summary.regions_2m.begin(), k.summary.regions_2m.end());
      k.origin = t->format() + " " + cmds[c].kernel_path;
      k.open = [t, c] { return t->open_kernel(c); };
      kernels.push_back(std::move(k));
    }
    // Regions not inside an explicit buffer become buffers, merged when adjacent.
    const std::string prefix = "trace" + std::to_string(index) + ".";
    uint64_t start = 0, end = 0;
    size_t n = 0;
    auto flush = [&] {
      if (end > start) add_buffer(prefix + std::to_string(n++), start, end - start, s.trace.placement, s.at);
    };
    for (uint64_t r : regions) {
      bool covered = false;
      for (const ProgramBuffer& b : m_p.buffers) {
        if (r >= b.va && r + k2M <= b.va + b.bytes) covered = true;
        else if (r < b.va + b.bytes && b.va < r + k2M)
          s.at.fail("the trace touches [0x" + hex(r) + ", +2MiB), which overlaps buffer '" + b.name +
                    "' only in part: make the buffer cover whole 2 MiB regions or leave it out");
      }
      if (covered) continue;
      if (r != end) flush(), start = r;
      end = r + k2M;
    }
    flush();
    size_t next = 0;
    for (size_t c = 0; c < cmds.size(); ++c) {
      if (cmds[c].kind == workload::TraceCommand::Kind::MemcpyHtoD) {
        ProgramStep p;
        p.kind = StepKind::CpuWrite;  // a memcpy is the CPU writing those bytes
        p.memcpy = true;
        p.va = cmds[c].dst;
        p.bytes = cmds[c].bytes;
        p.what = what + " MemcpyHtoD (" + t->program().file + ":" + std::to_string(cmds[c].line) + ")";
        m_p.steps.push_back(p);
        continue;
      }
      ProgramKernel k = std::move(kernels[next++]);
      k.label = "k" + std::to_string(m_p.kernels.size());
      add_kernel(std::move(k), what);
    }
  }

  static std::string hex(uint64_t v) {
    char b[20];
    std::snprintf(b, sizeof b, "%llx", static_cast<unsigned long long>(v));
    return b;
  }

  void add_kernel(ProgramKernel k, const std::string& what) {
    ProgramStep p;
    p.kind = StepKind::Kernel;
    p.kernel = m_p.kernels.size();
    p.what = what + " kernel " + k.label + " (" + k.origin + ")";
    m_p.kernels.push_back(std::move(k));
    m_p.steps.push_back(p);
  }

  void thread(const CpuThreadSpec& t) {
    RangeSpec r = t.range;
    if (r.buffer.empty()) {
      if (m_p.buffers.size() != 1) r.at.fail("a CPU thread names the buffer it acts on");
      r.buffer = m_p.buffers[0].name;
    }
    auto [b, range] = resolve(r).front();
    m_p.threads.push_back({t.op, range.first, range.second, t.prot, t.advice, t.start_ns, t.interval_ns, t.count,
                           "cpu thread " + std::to_string(m_p.threads.size()) + " on " + b->name});
  }

  const ProgramSpec& m_spec;
  Program m_p;
  uint64_t m_cursor;
};

}  // namespace

const char* to_string(Placement p) {
  switch (p) {
    case Placement::Managed: return "managed";
    case Placement::Host: return "host";
    case Placement::Device: return "device";
  }
  return "?";
}

void Origin::fail(const std::string& message) const { throw ConfigError(file, line, key, message); }

uint64_t Program::footprint() const {
  uint64_t t = 0;
  for (const ProgramBuffer& b : buffers) t += b.bytes;
  return t;
}

Program build_program(const ProgramSpec& spec) { return Builder(spec).build(); }

}  // namespace hmmsim::sim
