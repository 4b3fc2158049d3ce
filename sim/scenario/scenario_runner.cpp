#include "sim/scenario/scenario_runner.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>

#include "host/test_device/dmirror.h"
#include "sim/scenario/data_pattern.h"

namespace hmmsim::sim {

using namespace hmmsim::host;

namespace {

// An expectation that did not hold: ends the scenario with exit 1.
struct Mismatch {
  std::string what;
};

const std::vector<std::string> kRetNames = {"0",      "OK",    "EINVAL", "EFAULT", "EPERM",
                                            "ENOENT", "EBUSY", "EAGAIN", "ENOMEM", "EOPNOTSUPP"};

std::string hex(uint64_t v) {
  std::ostringstream os;
  os << "0x" << std::hex << v;
  return os.str();
}

struct Buffer {
  std::string process;
  uint64_t va = 0, pages = 0;
};

// Records every notifier event of one process, for `events` steps.
struct EventLog final : IMmuIntervalNotifierOps {
  EventLog() : notifier(0, ~0ull & ~kPageMask, this) {}
  bool invalidate(MmuIntervalNotifier& n, const NotifierRange& r, uint64_t seq) override {
    n.set_seq(seq);
    events.push_back(r);
    return true;
  }
  MmuIntervalNotifier notifier;
  std::vector<NotifierRange> events;
};

struct Range {
  AddressSpace* mm;
  std::string process;
  uint64_t va, first_page, pages;
};

class Runner {
 public:
  explicit Runner(const ConfigDoc& doc) : m_doc(doc) {}
  ScenarioResult run();

 private:
  void setup(ConfigReader r);
  void step(ConfigReader& s);
  Range range(ConfigReader& v, const std::string& default_process, bool pages_required = false);
  AddressSpace& process(ConfigReader& r, const std::string& key, const std::string& def);
  Dmirror& mirror(ConfigReader& v);
  void expect_ret(ConfigReader& e, Status got);
  void expect_data(ConfigReader& e, const std::string& key, const std::vector<uint8_t>& got, uint64_t first_page,
                   uint64_t pages, uint64_t base_va);
  void expect_u64(ConfigReader& e, const std::string& key, uint64_t got);
  void expect_bool(ConfigReader& e, const std::string& key, bool got);
  [[noreturn]] void mismatch(const std::string& what) { throw Mismatch{what}; }

  void do_mmap(ConfigReader v, ConfigReader& e, const std::string& proc);
  void do_device(ConfigReader v, ConfigReader& e);
  void do_pte(ConfigReader v, ConfigReader& e, const std::string& proc);
  void do_mirror_view(ConfigReader v, ConfigReader& e);
  void do_mremap(ConfigReader v, ConfigReader& e, const std::string& proc);
  void do_events(ConfigReader v, ConfigReader& e, const std::string& proc);
  void add_process(const std::string& name, std::unique_ptr<AddressSpace> mm);

  const ConfigDoc& m_doc;
  std::unique_ptr<HostSystem> m_sys;
  // Destruction order matters: mirrors, then processes, then devices.
  std::map<std::string, std::unique_ptr<DmirrorDevice>> m_devs;
  std::map<std::string, std::unique_ptr<EventLog>> m_logs;  // outlive the processes they listen to
  std::map<std::string, std::unique_ptr<AddressSpace>> m_procs;
  std::map<std::string, std::unique_ptr<Dmirror>> m_mirrors;
  std::map<std::string, Buffer> m_bufs;
  std::map<std::string, std::shared_ptr<MemFile>> m_files;
  nlohmann::json m_steps = nlohmann::json::array();
  nlohmann::json m_cur;
  uint64_t m_hint = 1ull << 32;
  std::string m_verb;
};

// ---- helpers ---------------------------------------------------------------

AddressSpace& Runner::process(ConfigReader& r, const std::string& key, const std::string& def) {
  const std::string name = r.str(key, def);
  auto it = m_procs.find(name);
  if (it == m_procs.end() || !it->second) r.fail(key, "no process '" + name + "' (fork creates processes)");
  if (it->second->exited()) r.fail(key, "process '" + name + "' has exited");
  return *it->second;
}

Range Runner::range(ConfigReader& v, const std::string& proc, bool pages_required) {
  const std::string name = v.str("buf", "");
  if (name.empty()) v.fail("buf", "a buffer name is required");
  auto it = m_bufs.find(name);
  if (it == m_bufs.end()) v.fail("buf", "no buffer '" + name + "' (mmap names buffers)");
  const Buffer& b = it->second;
  const std::string p = proc.empty() ? b.process : proc;
  auto pi = m_procs.find(p);
  if (pi == m_procs.end() || !pi->second || pi->second->exited()) v.fail("buf", "process '" + p + "' is gone");
  const uint64_t first = v.u64("page", 0, 0, b.pages ? b.pages - 1 : 0);
  if (pages_required && !v.has("pages")) v.fail("pages", "pages is required here");
  const uint64_t n = v.u64("pages", b.pages - first, 1, b.pages - first);
  // Steps carry the data of their range: keep it within host memory.
  if (n > m_sys->phys.frames()) v.fail(v.has("pages") ? "pages" : "buf", "range larger than setup.ram");
  return Range{pi->second.get(), p, b.va + first * kPageSize, first, n};
}

Dmirror& Runner::mirror(ConfigReader& v) {
  const std::string name = v.str("mirror", "dmirror0");
  auto it = m_mirrors.find(name);
  if (it == m_mirrors.end()) v.fail("mirror", "no open mirror '" + name + "'");
  return *it->second;
}

void Runner::expect_ret(ConfigReader& e, Status got) {
  std::string want = e.choice("ret", "OK", kRetNames);
  if (want == "0") want = "OK";
  m_cur["ret"] = to_string(got);
  if (want != to_string(got)) mismatch(std::string("ret: expected ") + want + ", got " + to_string(got));
}

void Runner::expect_u64(ConfigReader& e, const std::string& key, uint64_t got) {
  m_cur[key] = got;
  if (!e.has(key)) return;
  const uint64_t want = e.u64(key, 0, 0, UINT64_MAX);
  if (want != got) mismatch(key + ": expected " + std::to_string(want) + ", got " + std::to_string(got));
}

void Runner::expect_bool(ConfigReader& e, const std::string& key, bool got) {
  if (!e.has(key)) return;
  const bool want = e.boolean(key, false);
  if (want != got) mismatch(key + ": expected " + (want ? "true" : "false") + ", got " + (got ? "true" : "false"));
}

void Runner::expect_data(ConfigReader& e, const std::string& key, const std::vector<uint8_t>& got,
                         uint64_t first_page, uint64_t pages, uint64_t base_va) {
  if (!e.has(key)) return;
  const DataExpect want = parse_data_expect(e, key);
  if (want.covered() != UINT64_MAX && want.covered() != pages)
    e.fail(key, "segments cover " + std::to_string(want.covered()) + " pages, the range has " + std::to_string(pages));
  const std::vector<uint8_t> exp = want.render(first_page, pages);
  if (got.size() < exp.size()) mismatch(key + ": no data returned");
  for (uint64_t i = 0; i < exp.size(); ++i) {
    if (exp[i] == got[i]) continue;
    // Report the first differing 32-bit word, as the C tests would.
    const uint64_t w = i & ~3ull;
    uint32_t ew = 0, gw = 0;
    std::memcpy(&ew, &exp[w], std::min<uint64_t>(4, exp.size() - w));
    std::memcpy(&gw, &got[w], std::min<uint64_t>(4, got.size() - w));
    mismatch(key + ": at va " + hex(base_va + w) + " (page " + std::to_string(first_page + w / kPageSize) +
             ", int " + std::to_string((w % kPageSize) / 4) + ") expected " + std::to_string(int32_t(ew)) +
             ", got " + std::to_string(int32_t(gw)));
  }
}

// ---- steps -----------------------------------------------------------------

void Runner::do_mmap(ConfigReader v, ConfigReader& e, const std::string& proc_name) {
  AddressSpace& mm = process(v, "process", proc_name);
  const std::string name = v.str("name", "");
  if (name.empty()) v.fail("name", "a buffer name is required");
  if (m_bufs.count(name)) v.fail("name", "buffer '" + name + "' exists already");
  uint64_t pages = v.u64("pages", 0, 0, 1ull << 24);
  if (v.has("size")) pages = (v.bytes("size", 0, 4096, 64ull << 30) + kPageSize - 1) >> kPageShift;
  if (pages == 0) v.fail("pages", "give pages or size");
  const std::string prot = v.choice("prot", "rw", {"none", "r", "rw"});
  const uint32_t p = prot == "none" ? kProtNone : prot == "r" ? kProtRead : (kProtRead | kProtWrite);
  const std::string kind_s = v.choice("kind", "anon_private", {"anon_private", "anon_shared", "file_private", "file_shared"});
  const VmaKind kind = kind_s == "anon_private"  ? VmaKind::AnonPrivate
                       : kind_s == "anon_shared" ? VmaKind::AnonShared
                       : kind_s == "file_private" ? VmaKind::FilePrivate
                                                   : VmaKind::FileShared;
  std::shared_ptr<MemFile> file;
  if (kind == VmaKind::FilePrivate || kind == VmaKind::FileShared) {
    const std::string f = v.str("file", "");
    if (!m_files.count(f)) v.fail("file", "no file '" + f + "' (the file step creates files)");
    file = m_files[f];
  }
  const uint64_t file_page = v.u64("file_page", 0, 0, 1ull << 32);
  const bool hugetlb = v.boolean("hugetlb", false);
  const uint64_t align = v.bytes("align", hugetlb ? kHugeSize : kPageSize, kPageSize, 1ull << 30);
  if (align & (align - 1)) v.fail("align", "must be a power of two");
  const bool thp = v.boolean("thp", false);
  v.finish();
  const uint64_t va = mm.find_free(pages * kPageSize, m_hint, align);
  const Status s = mm.mmap_fixed(va, pages * kPageSize, p, kind, file, file_page, hugetlb);
  if (s == Status::Ok && thp) mm.madvise(va, pages * kPageSize, Advice::Hugepage);
  expect_ret(e, s);
  if (s == Status::Ok) {
    m_bufs[name] = Buffer{proc_name, va, pages};
    // Leave a gap after each buffer so neighbours never merge by accident.
    m_hint = va + pages * kPageSize + kHugeSize;
    m_cur["va"] = hex(va);
  }
}

void Runner::do_mremap(ConfigReader v, ConfigReader& e, const std::string& proc) {
  Range r = range(v, proc);
  const std::string name = v.str("buf", "");
  Buffer& b = m_bufs[name];
  if (r.first_page != 0 || r.pages != b.pages) v.fail("buf", "mremap moves a whole buffer");
  const uint64_t new_pages = v.u64("new_pages", b.pages, 1, 1ull << 24);
  MremapFlags f;
  f.maymove = v.boolean("maymove", true);
  f.dontunmap = v.boolean("dontunmap", false);
  uint64_t dst = 0;
  if (v.has("fixed_at")) {
    ConfigReader t = v.child("fixed_at");
    const std::string tb = t.str("buf", "");
    if (!m_bufs.count(tb)) t.fail("buf", "no buffer '" + tb + "'");
    dst = m_bufs[tb].va + t.bytes("offset", 0, 0, 1ull << 40);
    t.finish();
    f.fixed = true;
  }
  const std::string as = v.str("as", name);
  v.finish();
  const Status s = r.mm->mremap(r.va, b.pages * kPageSize, new_pages * kPageSize, f, &dst);
  expect_ret(e, s);
  if (s != Status::Ok) return;
  m_cur["va"] = hex(dst);
  Buffer nb{b.process, dst, new_pages};
  if (as == name) {
    b = nb;
  } else {
    if (!f.dontunmap) b.pages = 0;  // the old name no longer maps anything
    m_bufs[as] = nb;
  }
}

void Runner::do_device(ConfigReader v, ConfigReader& e) {
  Dmirror& m = mirror(v);
  static const std::vector<std::string> cmds = {"read",     "write",     "migrate_to_dev",  "migrate_to_sys", "snapshot",
                                                "exclusive", "check_exclusive", "release", "flags"};
  const std::string c = v.choice("cmd", "read", cmds);
  const DmirrorCmd cmd = static_cast<DmirrorCmd>(std::find(cmds.begin(), cmds.end(), c) - cmds.begin());
  m_verb = "device " + c;
  uint64_t addr = 0, npages = 1, first = 0;
  if (cmd == DmirrorCmd::Flags) {
    npages = v.u64("value", 0, 0, UINT64_MAX);
  } else if (v.has("buf")) {
    // The buffer's addresses, in the process the mirror mirrors.
    std::string proc;
    for (auto& [name, mm] : m_procs)
      if (mm.get() == &m.mm()) proc = name;
    Range r = range(v, proc);
    addr = r.va, npages = r.pages, first = r.first_page;
  } else if (v.has("addr")) {  // raw ioctl arguments, for the argument checks
    addr = v.u64("addr", 0, 0, UINT64_MAX);
    npages = v.u64("npages", 1, 0, UINT64_MAX);
  } else if (cmd != DmirrorCmd::Release) {
    v.fail("buf", "a buffer (or raw addr/npages) is required");
  }
  m.inject_busy(static_cast<uint32_t>(v.u64("inject_busy", 0, 0, 1000)));
  m.inject_refault(static_cast<uint32_t>(v.u64("inject_refault", 0, 0, 1000)));
  std::vector<uint8_t> buf;
  const uint64_t fill = v.u64("fill", 0, 0, 255);
  if (cmd != DmirrorCmd::Flags && npages <= m_sys->phys.frames()) buf.assign(npages * kPageSize, static_cast<uint8_t>(fill));
  if (v.has("pattern")) {
    const DataPattern p = parse_pattern(v, "pattern");
    p.render(first * kPageSize, buf.data(), buf.size());
  }
  v.finish();
  const DmirrorResult r = m.run(cmd, addr, npages, buf);
  expect_ret(e, r.status);
  if (r.status != Status::Ok && (e.has("cpages") || e.has("faults")))
    e.fail(e.has("cpages") ? "cpages" : "faults", "not reported when the command fails (the uapi does not copy them back)");
  if (r.status == Status::Ok) {
    expect_u64(e, "cpages", r.cpages);
    expect_u64(e, "faults", r.faults);
  }
  // The user buffer: data for read/migrate/exclusive, one byte per page for snapshot.
  if (cmd == DmirrorCmd::Snapshot && e.has("snapshot")) {
    std::vector<uint8_t> want;
    const YAML::Node n = e.node()["snapshot"];
    if (n.IsSequence()) {
      for (ConfigReader seg : e.list("snapshot")) {
        const uint64_t cnt = seg.u64("pages", 1, 1, 1ull << 24);
        const uint64_t byte = seg.u64("byte", 0, 0, 255);
        want.insert(want.end(), cnt, static_cast<uint8_t>(byte));
        seg.finish();
      }
    } else {
      want.assign(npages, static_cast<uint8_t>(e.u64("snapshot", 0, 0, 255)));
    }
    if (want.size() != npages) e.fail("snapshot", "expected bytes cover " + std::to_string(want.size()) +
                                                      " pages, the command " + std::to_string(npages));
    for (uint64_t i = 0; i < npages; ++i)
      if (buf.size() <= i || buf[i] != want[i])
        mismatch("snapshot: page " + std::to_string(first + i) + " expected " + hex(want[i]) + ", got " +
                 (buf.size() > i ? hex(buf[i]) : std::string("nothing")));
  }
  if (cmd != DmirrorCmd::Snapshot) expect_data(e, "data", buf, first, npages, addr);
}

void Runner::do_pte(ConfigReader v, ConfigReader& e, const std::string& proc) {
  Range r = range(v, proc);
  v.finish();
  const Pte p = r.mm->pte(r.va);
  const bool zero = p.kind == PteKind::Present && p.pfn == m_sys->phys.zero_pfn();
  m_cur["kind"] = zero ? "zero" : to_string(p.kind);
  if (e.has("kind")) {
    const std::string want = e.choice("kind", "none", {"none", "present", "zero", "device_private", "migration", "exclusive"});
    const std::string got = zero ? "zero" : to_string(p.kind);
    if (want != got) mismatch("kind: expected " + want + ", got " + got);
  }
  expect_bool(e, "write", p.write);
  expect_bool(e, "pmd", p.pmd);
  expect_bool(e, "dirty", p.dirty);
  if (e.has("device")) {
    const std::string want = e.str("device", "");
    std::string got = "none";
    for (auto& [name, d] : m_devs)
      if (p.kind == PteKind::DevicePrivate && d->owns(p.pfn)) got = name;
    if (want != got) mismatch("device: expected " + want + ", got " + got);
  }
}

void Runner::do_mirror_view(ConfigReader v, ConfigReader& e) {
  Dmirror& m = mirror(v);
  Range r = range(v, "");
  v.finish();
  // The device's own view: its page table and the data its entries point
  // at, without faulting anything in.
  uint64_t mapped = 0, writable = 0, atomic = 0;
  std::vector<uint8_t> data(r.pages * kPageSize, 0);
  for (uint64_t i = 0; i < r.pages; ++i) {
    auto it = m.page_table().find((r.va >> kPageShift) + i);
    if (it == m.page_table().end()) continue;
    ++mapped;
    writable += it->second.tag == Dmirror::kTagWrite;
    atomic += it->second.tag == Dmirror::kTagAtomic;
    const Pfn pg = DevicePagemaps::is_device(it->second.page) ? m.device().backing(it->second.page) : it->second.page;
    m_sys->phys.read(pg, 0, data.data() + i * kPageSize, kPageSize);
  }
  expect_u64(e, "mapped", mapped);
  expect_u64(e, "writable", writable);
  expect_u64(e, "atomic", atomic);
  expect_data(e, "data", data, r.first_page, r.pages, r.va);
}

void Runner::add_process(const std::string& name, std::unique_ptr<AddressSpace> mm) {
  auto log = std::make_unique<EventLog>();
  mm->notifiers().insert(&log->notifier);
  m_logs[name] = std::move(log);
  m_procs[name] = std::move(mm);
}

void Runner::do_events(ConfigReader v, ConfigReader& e, const std::string& proc) {
  const std::string name = v.str("process", proc);  // an exited process still has its log
  if (!m_logs.count(name)) v.fail("process", "no process '" + name + "'");
  v.finish();
  std::vector<NotifierRange>& got = m_logs[name]->events;
  auto owner_name = [this](const void* o) -> std::string {
    if (!o) return "none";
    for (auto& [n, d] : m_devs)
      if (d->owner() == o) return n;
    return "unknown";
  };
  auto show = [&](const NotifierRange& x) {
    return std::string(to_string(x.event)) + " [" + hex(x.start) + ", " + hex(x.end) + ") owner " + owner_name(x.owner);
  };
  nlohmann::json list = nlohmann::json::array();
  for (const auto& x : got) list.push_back(show(x));
  m_cur["events"] = list;
  if (e.has("list")) {
    std::vector<ConfigReader> want = e.list("list");
    for (size_t i = 0; i < want.size(); ++i) {
      ConfigReader& w = want[i];
      static const std::vector<std::string> names = {"UNMAP",   "CLEAR",   "PROTECTION_VMA", "PROTECTION_PAGE",
                                                     "SOFT_DIRTY", "MIGRATE", "EXCLUSIVE",      "RELEASE"};
      const std::string ev = w.choice("event", "CLEAR", names);
      uint64_t start = 0, end = ~0ull;
      if (!w.boolean("all", false)) {
        Range rg = range(w, "main");  // addresses only: the same in every process
        start = rg.va;
        end = rg.va + rg.pages * kPageSize;
      }
      const std::string owner = w.str("owner", "none");
      w.finish();
      if (i >= got.size()) mismatch("events: expected " + std::to_string(want.size()) + ", got " + std::to_string(got.size()));
      const NotifierRange& g = got[i];
      if (to_string(g.event) != ev || g.start != start || g.end != end || owner_name(g.owner) != owner)
        mismatch("events[" + std::to_string(i) + "]: expected " + ev + " [" + hex(start) + ", " + hex(end) +
                 ") owner " + owner + ", got " + show(g));
    }
    if (got.size() != want.size())
      mismatch("events: expected " + std::to_string(want.size()) + ", got " + std::to_string(got.size()) +
               (got.size() > want.size() ? " (next: " + show(got[want.size()]) + ")" : ""));
  }
  got.clear();
}

void Runner::step(ConfigReader& s) {
  static const std::vector<std::string> verbs = {"mmap",  "munmap", "mprotect", "madvise", "mremap", "file",
                                                 "write", "read",   "fork",     "exit",    "open",   "close",
                                                 "device", "pte",   "mirror_view", "reclaim", "file_read", "events"};
  std::string verb;
  for (auto kv : s.node()) {
    if (!kv.first.IsScalar()) s.fail("", "step keys must be words");
    const std::string k = kv.first.Scalar();
    if (std::find(verbs.begin(), verbs.end(), k) == verbs.end()) continue;
    if (!verb.empty()) s.fail(k, "one verb per step (found " + verb + " and " + k + ")");
    verb = k;
  }
  if (verb.empty()) s.fail("", "a step needs one verb: mmap, munmap, mprotect, madvise, mremap, file, write, read, "
                               "fork, exit, open, close, device, pte, mirror_view, reclaim, file_read, events");
  m_verb = verb;
  const std::string proc = s.str("process", "");
  s.str("note", "");
  ConfigReader e = s.child("expect");
  ConfigReader v = s.child(verb);
  const std::string p = proc.empty() ? "main" : proc;

  if (verb == "mmap") {
    do_mmap(v, e, p);
  } else if (verb == "munmap" || verb == "mprotect" || verb == "madvise") {
    Range r = range(v, proc);
    Status st;
    if (verb == "munmap") {
      st = r.mm->munmap(r.va, r.pages * kPageSize);
    } else if (verb == "mprotect") {
      const std::string pr = v.choice("prot", "rw", {"none", "r", "rw"});
      st = r.mm->mprotect(r.va, r.pages * kPageSize,
                          pr == "none" ? kProtNone : pr == "r" ? kProtRead : (kProtRead | kProtWrite));
    } else {
      const std::string a = v.choice("advice", "dontneed", {"hugepage", "nohugepage", "dontneed", "free"});
      const Advice adv = a == "hugepage"     ? Advice::Hugepage
                         : a == "nohugepage" ? Advice::NoHugepage
                         : a == "dontneed"   ? Advice::DontNeed
                                             : Advice::Free;
      st = r.mm->madvise(r.va, r.pages * kPageSize, adv);
    }
    v.finish();
    expect_ret(e, st);
  } else if (verb == "mremap") {
    do_mremap(v, e, proc);
  } else if (verb == "file") {
    const std::string name = v.str("name", "");
    if (name.empty() || m_files.count(name)) v.fail("name", "a new file name is required");
    const uint64_t pages = v.u64("pages", 1, 1, 1ull << 20);
    auto f = std::make_shared<MemFile>(m_sys->phys, name);
    std::vector<uint8_t> page(kPageSize);
    const DataPattern pat = v.has("pattern") ? parse_pattern(v, "pattern") : DataPattern{DataPattern::Kind::Const, 0};
    v.finish();
    for (uint64_t i = 0; i < pages; ++i) {
      const Pfn pfn = f->page(i);
      if (pfn == kNoPfn) mismatch("out of memory creating the file");
      pat.render(i * kPageSize, page.data(), kPageSize);
      m_sys->phys.write(pfn, 0, page.data(), kPageSize);
    }
    m_files[name] = f;
  } else if (verb == "file_read") {
    const std::string name = v.str("name", "");
    if (!m_files.count(name)) v.fail("name", "no file '" + name + "'");
    const uint64_t first = v.u64("page", 0, 0, 1ull << 20);
    const uint64_t pages = v.u64("pages", 1, 1, 1ull << 20);
    v.finish();
    std::vector<uint8_t> data(pages * kPageSize, 0);
    for (uint64_t i = 0; i < pages; ++i) {
      const Pfn pfn = m_files[name]->find(first + i);
      if (pfn != kNoPfn) m_sys->phys.read(pfn, 0, data.data() + i * kPageSize, kPageSize);
    }
    expect_data(e, "data", data, first, pages, 0);
  } else if (verb == "write" || verb == "read") {
    Range r = range(v, proc);
    std::vector<uint8_t> data(r.pages * kPageSize, 0);
    if (verb == "write") {
      if (!v.has("pattern")) {
        v.finish();  // a misspelt key is the likelier mistake: name it
        v.fail("pattern", "a write needs a pattern");
      }
      parse_pattern(v, "pattern").render(r.first_page * kPageSize, data.data(), data.size());
    }
    v.finish();
    const Status st = verb == "write" ? r.mm->cpu_write(r.va, data.data(), data.size())
                                      : r.mm->cpu_read(r.va, data.data(), data.size());
    expect_ret(e, st);
    if (verb == "read") expect_data(e, "data", data, r.first_page, r.pages, r.va);
  } else if (verb == "fork") {
    AddressSpace& parent = process(v, "parent", p);
    const std::string child = v.str("child", "");
    if (child.empty() || m_procs.count(child)) v.fail("child", "a new process name is required");
    v.finish();
    add_process(child, parent.fork());
  } else if (verb == "exit") {
    AddressSpace& mm = process(v, "process", p);
    v.finish();
    mm.exit();
  } else if (verb == "open") {
    AddressSpace& mm = process(v, "process", p);
    const std::string dev = v.str("device", "");
    if (!m_devs.count(dev)) v.fail("device", "no device '" + dev + "'");
    const std::string as = v.str("as", "");
    if (as.empty() || m_mirrors.count(as)) v.fail("as", "a new mirror name is required");
    v.finish();
    m_mirrors[as] = m_devs[dev]->open(mm);
  } else if (verb == "close") {
    const std::string name = v.str("mirror", "");
    if (!m_mirrors.count(name)) v.fail("mirror", "no open mirror '" + name + "'");
    v.finish();
    m_mirrors.erase(name);
  } else if (verb == "device") {
    do_device(v, e);
  } else if (verb == "pte") {
    do_pte(v, e, proc);
  } else if (verb == "mirror_view") {
    do_mirror_view(v, e);
  } else if (verb == "events") {
    do_events(v, e, p);
  } else if (verb == "reclaim") {
    AddressSpace& mm = process(v, "process", p);
    v.finish();
    expect_u64(e, "pages", mm.reclaim());
  }
  e.finish();
  s.finish();
}

void Runner::setup(ConfigReader r) {
  const uint64_t ram = r.bytes("ram", 256ull << 20, 4ull << 20, 16ull << 30);
  DmirrorDeviceSpec spec;
  spec.chunk_pages = r.bytes("device_chunk", 64ull << 20, 2ull << 20, 1ull << 30) >> kPageShift;
  spec.max_chunks = static_cast<uint32_t>(r.u64("device_chunks", 16, 1, 1024));
  std::vector<std::string> priv = {"dmirror0", "dmirror1"}, odp;
  if (r.has("devices")) {
    priv.clear();
    const YAML::Node n = r.node()["devices"];
    r.mark_used("devices");
    if (!n.IsSequence()) r.fail("devices", "expected a list of device names");
    for (auto x : n) {
      if (!x.IsScalar()) r.fail("devices", "expected a list of device names");
      priv.push_back(x.Scalar());
    }
  }
  if (r.has("odp_devices")) {
    const YAML::Node n = r.node()["odp_devices"];
    r.mark_used("odp_devices");
    if (!n.IsSequence()) r.fail("odp_devices", "expected a list of device names");
    for (auto x : n) {
      if (!x.IsScalar()) r.fail("odp_devices", "expected a list of device names");
      odp.push_back(x.Scalar());
    }
  }
  r.finish();
  m_sys = std::make_unique<HostSystem>(ram >> kPageShift);
  add_process("main", std::make_unique<AddressSpace>(*m_sys));
  for (auto* list : {&priv, &odp})
    for (const std::string& name : *list) {
      if (m_devs.count(name)) r.fail("devices", "device '" + name + "' named twice");
      spec.name = name;
      spec.kind = list == &priv ? DmirrorKind::Private : DmirrorKind::Odp;
      m_devs[name] = std::make_unique<DmirrorDevice>(*m_sys, spec);
      m_mirrors[name] = m_devs[name]->open(*m_procs["main"]);  // each device opened once by main
    }
}

ScenarioResult Runner::run() {
  ScenarioResult res;
  ConfigReader root = ConfigReader::root(m_doc);
  const std::string name = root.str("scenario", "");
  const std::string desc = root.str("description", "");
  setup(root.child("setup"));
  std::vector<ConfigReader> steps = root.list("steps");
  root.finish();
  res.report["scenario"] = name;
  for (size_t i = 0; i < steps.size(); ++i) {
    m_cur = nlohmann::json::object();
    m_verb.clear();
    try {
      step(steps[i]);
    } catch (const Mismatch& m) {
      const int line = steps[i].node().Mark().line + 1;
      res.failure = "step " + std::to_string(i + 1) + " (" + m_verb + ", line " + std::to_string(line) + "): " + m.what;
      res.exit_code = 1;
      m_cur["failed"] = m.what;
    }
    m_cur["step"] = i + 1;
    m_cur["verb"] = m_verb;
    m_steps.push_back(m_cur);
    ++res.steps_run;
    if (res.exit_code) break;
  }
  res.report["steps"] = m_steps;
  res.report["result"] = res.exit_code ? "FAIL" : "PASS";
  // Tear down in order: mirrors (they evict device pages), processes, devices.
  m_mirrors.clear();
  m_procs.clear();
  m_logs.clear();
  m_devs.clear();
  return res;
}

}  // namespace

bool is_scenario(const ConfigDoc& doc) { return doc.root.IsMap() && doc.root["scenario"]; }

ScenarioResult run_scenario(const ConfigDoc& doc) { return Runner(doc).run(); }

}  // namespace hmmsim::sim
