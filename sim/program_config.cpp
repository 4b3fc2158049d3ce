// Reading a host program (workload.kind: program) from the config.
#include <algorithm>
#include <cctype>
#include <filesystem>

#include "host/mm/address_space.h"
#include "sim/program.h"

namespace hmmsim::sim {

namespace {

namespace fs = std::filesystem;

Origin origin(const ConfigReader& r, const std::string& key) {
  const ConfigError e = r.error(key, "");
  return {e.file, e.line, e.key};
}

Placement placement(ConfigReader& r, const std::vector<std::string>& allowed) {
  const std::string p = r.choice("placement", "managed", allowed);
  return p == "host" ? Placement::Host : p == "device" ? Placement::Device : Placement::Managed;
}

uint32_t prot(ConfigReader& r) {
  const std::string p = r.choice("prot", "r", {"none", "r", "rw"});
  return p == "none" ? host::kProtNone : p == "r" ? host::kProtRead : host::kProtRead | host::kProtWrite;
}

// `key: name` or `key: {buffer: name, offset: .., bytes: ..}`; a null
// value (or no buffer) means every buffer.
RangeSpec range(ConfigReader& parent, const std::string& key) {
  RangeSpec s;
  s.at = origin(parent, key);
  const YAML::Node n = parent.node()[key];
  if (n && n.IsScalar()) {
    s.buffer = parent.str(key, "");
    return s;
  }
  ConfigReader r = parent.child(key);
  s.buffer = r.str("buffer", "");
  s.offset = r.bytes("offset", 0, 0, 1ull << 47);
  s.bytes = r.bytes("bytes", 0, 0, 1ull << 47);
  if (r.has("buffer")) s.at = origin(r, "buffer");
  r.finish();
  return s;
}

// Ranges that threads act on: the same keys inline.
RangeSpec inline_range(ConfigReader& r) {
  RangeSpec s;
  s.at = origin(r, r.has("buffer") ? "buffer" : "");
  s.buffer = r.str("buffer", "");
  s.offset = r.bytes("offset", 0, 0, 1ull << 47);
  s.bytes = r.bytes("bytes", 0, 0, 1ull << 47);
  return s;
}

hw::Dim3 dim3(ConfigReader& r, const std::string& key, hw::Dim3 def, uint32_t min_x) {
  const YAML::Node n = r.node()[key];
  if (!n) {
    r.mark_used(key);
    return def;
  }
  if (!n.IsSequence()) return {static_cast<uint32_t>(r.u64(key, def.x, min_x, 1u << 31)), 1, 1};
  const std::vector<uint64_t> v = r.u64_list(key, {});
  if (v.empty() || v.size() > 3) r.fail(key, "expected 1 to 3 dimensions, e.g. [64, 2]");
  hw::Dim3 d;
  uint32_t* f[3] = {&d.x, &d.y, &d.z};
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < (i == 0 ? min_x : 1) || v[i] > (1u << 31)) r.fail(key, "dimension out of range");
    *f[i] = static_cast<uint32_t>(v[i]);
  }
  return d;
}

void kernel_step(ConfigReader k, StepSpec& s, uint64_t seed) {
  workload::SyntheticSpec& y = s.kernel.synthetic;
  if (!k.has("synthetic")) k.fail("synthetic", "a kernel step names its generator, e.g. synthetic: streaming_read");
  y.kernel = k.choice("synthetic", "", workload::synthetic_kernels());
  s.kernel.buffer = k.str("buffer", "");
  y.footprint = k.bytes("footprint", 0, 0, 1ull << 40);
  if (y.footprint % 4096) k.fail("footprint", "must be a multiple of 4 KiB");
  if (s.kernel.buffer.empty() && y.footprint == 0)
    k.fail("footprint", "a kernel without a buffer needs its footprint (bytes of data)");
  y.iterations = static_cast<uint32_t>(k.u64("iterations", y.iterations, 1, 1u << 20));
  y.width = static_cast<uint32_t>(k.bytes("width", y.width, 1, 16));
  if (y.width & (y.width - 1)) k.fail("width", "must be 1, 2, 4, 8 or 16 bytes");
  y.write_ratio = k.real("write_ratio", y.write_ratio, 0, 1);
  y.grid = dim3(k, "grid", y.grid, 0);
  y.block = dim3(k, "block", y.block, 1);
  if (y.block.count() > 1024) k.fail("block", "at most 1024 threads per block");
  y.seed = k.u64("seed", seed, 0, UINT64_MAX);
  y.compute_per_access = static_cast<uint32_t>(k.u64("compute_per_access", y.compute_per_access, 0, 1000));
  y.stride = k.bytes("stride", y.stride, 1, 1ull << 30);
  y.zipf_alpha = k.real("zipf_alpha", y.zipf_alpha, 0, 10);
  y.tile = static_cast<uint32_t>(k.u64("tile", y.tile, 4, 128));
  y.accesses = k.u64("accesses", y.accesses, 0, 1ull << 40);
  k.finish();
}

void trace_step(ConfigReader t, StepSpec& s) {
  TraceStepSpec& tr = s.trace;
  const std::string path = t.str("path", "");
  if (path.empty()) t.fail("path", "a trace step needs the path of the trace (file or folder)");
  // Relative to the file that names it, like `include:`.
  const std::string from = t.error("path", "").file;
  tr.path = fs::path(path).is_absolute() || from == "--set" ? path : (fs::path(from).parent_path() / path).string();
  // config.json lives elsewhere: it names the trace absolutely.
  t.resolve_as("path", fs::absolute(tr.path).lexically_normal().string());
  tr.format = t.choice("format", "auto", {"auto", "accelsim", "nvbit", "native"});
  tr.placement = placement(t, {"managed", "device"});
  t.finish();
}

const std::vector<std::string> kStepKinds = {"cpu_write", "cpu_read", "kernel", "trace", "munmap", "mprotect", "idle"};

StepSpec step(ConfigReader r, uint64_t seed) {
  StepSpec s;
  std::vector<std::string> given;
  for (const auto& k : kStepKinds)
    if (r.has(k)) given.push_back(k);
  if (given.size() != 1) {
    std::string all;
    for (const auto& k : kStepKinds) all += (all.empty() ? "" : ", ") + k;
    r.fail("", "a step is exactly one of: " + all);
  }
  const std::string& kind = given[0];
  s.at = origin(r, kind);
  if (kind == "cpu_write") {
    s.kind = StepKind::CpuWrite;
    s.range = range(r, kind);
  } else if (kind == "cpu_read") {
    s.kind = StepKind::CpuRead;
    s.range = range(r, kind);
  } else if (kind == "munmap") {
    s.kind = StepKind::Munmap;
    s.range = range(r, kind);
  } else if (kind == "mprotect") {
    s.kind = StepKind::Mprotect;
    ConfigReader m = r.child(kind);
    s.range = inline_range(m);
    s.prot = prot(m);
    m.finish();
  } else if (kind == "idle") {
    s.kind = StepKind::Idle;
    s.idle_ns = r.time_ns(kind, 0, 0, 1e12);
  } else if (kind == "kernel") {
    s.kind = StepKind::Kernel;
    kernel_step(r.child(kind), s, seed);
  } else {
    s.kind = StepKind::Trace;
    trace_step(r.child(kind), s);
  }
  r.finish();
  return s;
}

CpuThreadSpec thread(ConfigReader r) {
  CpuThreadSpec t;
  t.at = origin(r, "op");
  const std::string op = r.choice("op", "read", {"read", "write", "munmap", "mprotect", "madvise"});
  t.op = op == "read" ? ThreadOp::Read
         : op == "write" ? ThreadOp::Write
         : op == "munmap" ? ThreadOp::Munmap
         : op == "mprotect" ? ThreadOp::Mprotect
                            : ThreadOp::Madvise;
  t.range = inline_range(r);
  if (t.op == ThreadOp::Mprotect) t.prot = prot(r);
  if (t.op == ThreadOp::Madvise) {
    const std::string a = r.choice("advice", "dontneed", {"dontneed", "free", "hugepage", "nohugepage"});
    t.advice = static_cast<uint8_t>(a == "dontneed" ? host::Advice::DontNeed
                                    : a == "free"   ? host::Advice::Free
                                    : a == "hugepage" ? host::Advice::Hugepage
                                                      : host::Advice::NoHugepage);
  }
  t.start_ns = r.time_ns("start", 0, 0, 1e12);
  t.interval_ns = r.time_ns("interval", 1000, 1, 1e12);
  t.count = r.u64("count", 1, 1, 1ull << 32);
  r.finish();
  return t;
}

}  // namespace

void parse_program(ConfigReader& r, ProgramSpec& out) {
  for (ConfigReader b : r.list("buffers")) {
    BufferSpec s;
    s.at = origin(b, "name");
    s.name = b.str("name", "");
    if (s.name.empty()) b.fail("name", "every buffer needs a name");
    for (char c : s.name)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-' && c != '.')
        b.fail("name", "use letters, digits, '_', '-' and '.' only");
    for (const BufferSpec& o : out.buffers)
      if (o.name == s.name) b.fail("name", "buffer '" + s.name + "' is defined twice");
    s.bytes = b.bytes("bytes", 0, 4096, 1ull << 40);
    if (s.bytes % 4096) b.fail("bytes", "must be a multiple of 4 KiB");
    s.va = b.u64("va", 0, 0, (1ull << 47) - 4096);
    if (s.va % 4096) b.fail("va", "must be 4 KiB aligned");
    s.placement = placement(b, {"managed", "host", "device"});
    // cudaMemAdvise(SetPreferredLocation): `host` is what placement host
    // means; `device` makes faults migrate under any driver.placement.
    const std::string pref = b.choice("preferred_location", "none", {"none", "host", "device"});
    if (pref == "host" && s.placement == Placement::Managed) s.placement = Placement::Host;
    if (pref == "host" && s.placement == Placement::Device)
      b.fail("preferred_location", "host contradicts placement device");
    s.prefer_device = pref == "device";
    if (s.prefer_device && s.placement == Placement::Host)
      b.fail("preferred_location", "device contradicts placement host");
    s.read_mostly = b.boolean("read_mostly", false);
    if (s.read_mostly && s.placement != Placement::Managed)
      b.fail("read_mostly", "needs a managed buffer (read duplicates are made on GPU faults)");
    b.finish();
    out.buffers.push_back(s);
  }
  for (ConfigReader s : r.list("steps")) out.steps.push_back(step(s, out.seed));
  if (out.steps.empty()) r.fail("steps", "a program needs at least one step");
  for (ConfigReader t : r.list("cpu_threads")) out.threads.push_back(thread(t));
}

}  // namespace hmmsim::sim
