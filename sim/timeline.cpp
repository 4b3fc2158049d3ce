#include "sim/timeline.h"

#include <algorithm>
#include <cstdio>
#include <map>
#include <ostream>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace hmmsim::sim {

namespace {

using common::EventTrace;

// The flow arrow from a fault to the replay that releases it.
constexpr const char* kFlowCat = "fault";
constexpr const char* kFlowName = "fault to replay";

struct Placed {
  uint64_t start_ns, end_ns;  // rounded down to whole ns, as the file has them
  uint32_t pid = 0, tid = 0;
};

struct Row {
  std::string name;
  uint32_t pid, tid;
};

// ns, written as µs with three decimals: exact, and what both viewers expect.
void put_us(std::ostream& o, uint64_t ns) {
  const uint64_t frac = ns % 1000;
  o << ns / 1000 << '.' << char('0' + frac / 100) << char('0' + frac / 10 % 10) << char('0' + frac % 10);
}

class Writer {
 public:
  Writer(const EventTrace& t, std::ostream& o) : m_t(t), m_o(o) {}

  void place() {
    const auto& slices = m_t.slices();
    m_placed.resize(slices.size());
    std::vector<bool> has_flow(slices.size(), false);
    for (const auto& f : m_t.flows()) has_flow[f.slice] = true;
    std::vector<std::vector<uint32_t>> by_track(m_t.tracks().size());
    for (uint32_t i = 0; i < slices.size(); ++i) {
      Placed& p = m_placed[i];
      p.start_ns = slices[i].start_ps / 1000;
      p.end_ns = slices[i].end_ps / 1000;
      // A flow binds to the slice open at its point (the slice's start):
      // an instant must last 1 ns to be open there.
      if (has_flow[i]) p.end_ns = std::max(p.end_ns, p.start_ns + 1);
      by_track[slices[i].track].push_back(i);
    }
    // Processes in the order their first track was made.
    std::map<std::string, uint32_t> pids;
    for (const auto& tr : m_t.tracks())
      if (!pids.count(tr.process)) {
        const uint32_t pid = uint32_t(pids.size() + 1);
        pids.emplace(tr.process, pid);
        m_processes.emplace_back(tr.process, pid);
      }
    std::vector<bool> has_counter(by_track.size(), false);
    for (const auto& c : m_t.counters()) has_counter[c.track] = true;
    m_track_pid.assign(by_track.size(), 0);
    m_track_tid.assign(by_track.size(), 0);
    uint32_t next_tid = 1;
    for (uint32_t tr = 0; tr < by_track.size(); ++tr) {
      auto& idx = by_track[tr];
      if (idx.empty() && !has_counter[tr]) continue;  // nothing happened there: no empty row
      std::sort(idx.begin(), idx.end(), [&](uint32_t a, uint32_t b) {
        const Placed &x = m_placed[a], &y = m_placed[b];
        if (x.start_ns != y.start_ns) return x.start_ns < y.start_ns;
        if (x.end_ns != y.end_ns) return x.end_ns > y.end_ns;  // a parent before its children
        return a < b;
      });
      // Rows: each a stack of open slices; a slice goes on the first row
      // where it closes inside the innermost open slice (or nothing is open).
      // A viewer binds a flow point to the innermost slice open at its time,
      // so a slice with a flow must be that slice at its start: it shares no
      // bounds with its parent, and nothing starting with it nests inside it.
      struct Open {
        uint64_t start, end;
        bool flow;
      };
      std::vector<std::vector<Open>> rows(1);
      std::vector<uint32_t> row_of(idx.size(), 0);
      for (size_t k = 0; k < idx.size(); ++k) {
        const Placed& p = m_placed[idx[k]];
        const bool flow = has_flow[idx[k]];
        size_t r = 0;
        for (;; ++r) {
          if (r == rows.size()) rows.emplace_back();
          auto& open = rows[r];
          while (!open.empty() && open.back().end <= p.start_ns) open.pop_back();
          if (open.empty()) break;
          const Open& top = open.back();
          const bool same_start = top.start == p.start_ns;
          if (p.end_ns <= top.end && !(same_start && top.flow) && !(same_start && flow && p.end_ns == top.end)) break;
        }
        rows[r].push_back({p.start_ns, p.end_ns, flow});
        row_of[k] = uint32_t(r);
      }
      const auto& info = m_t.tracks()[tr];
      const uint32_t pid = pids.at(info.process), first = next_tid;
      for (size_t r = 0; r < rows.size(); ++r)
        m_rows.push_back({r ? info.thread + " (" + std::to_string(r + 1) + ")" : info.thread, pid, next_tid++});
      for (size_t k = 0; k < idx.size(); ++k) {
        m_placed[idx[k]].pid = pid;
        m_placed[idx[k]].tid = first + row_of[k];
      }
      m_track_pid[tr] = pid;
      m_track_tid[tr] = first;
    }
  }

  void write(const TimelineInfo& info) {
    nlohmann::json other = {{"generator", "hmmsim " + info.version},
                            {"config", info.config},
                            {"events_kept", m_t.kept()},
                            {"events_dropped", m_t.dropped()},
                            {"max_events", m_t.max_events()},
                            {"truncated", m_t.dropped() > 0}};
    if (m_t.dropped()) {
      other["note"] = "cut at run.timeline_max_events: " + std::to_string(m_t.dropped()) +
                      " events are missing from " + std::to_string(m_t.cut_ps() / 1000) +
                      " ns on (the kernels' slices are kept); raise run.timeline_max_events to keep them";
    }
    // No displayTimeUnit: Perfetto has read "ns" there as the unit of ts.
    m_o << "{\"otherData\":" << other.dump() << ",\"traceEvents\":[\n";
    bool first = true;
    auto sep = [&] {
      if (!first) m_o << ",\n";
      first = false;
    };
    for (size_t i = 0; i < m_processes.size(); ++i) {
      const auto& [name, pid] = m_processes[i];
      const uint32_t id = pid;
      if (std::none_of(m_rows.begin(), m_rows.end(), [&](const Row& r) { return r.pid == id; })) continue;
      sep();
      m_o << "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":" << pid << ",\"tid\":0,\"ts\":0,\"args\":{\"name\":"
          << esc(name) << "}},\n{\"ph\":\"M\",\"name\":\"process_sort_index\",\"pid\":" << pid
          << ",\"tid\":0,\"ts\":0,\"args\":{\"sort_index\":" << i << "}}";
    }
    for (const Row& r : m_rows) {
      sep();
      m_o << "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":" << r.pid << ",\"tid\":" << r.tid
          << ",\"ts\":0,\"args\":{\"name\":" << esc(r.name) << "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":"
          << r.pid << ",\"tid\":" << r.tid << ",\"ts\":0,\"args\":{\"sort_index\":" << r.tid << "}}";
    }
    // Events in time order; at one time, longer slices first (parents
    // before children), each slice's flow points right after it (a viewer
    // binds a flow point to the innermost slice open at that moment).
    struct Item {
      uint64_t ts, dur;
      uint32_t slice;  // the slice, or the flow's slice; UINT32_MAX for a counter
      uint8_t kind;    // 0 slice, 1 flow, 2 counter
      uint32_t i;
    };
    std::vector<Item> items;
    items.reserve(m_t.kept());
    for (uint32_t i = 0; i < m_placed.size(); ++i)
      items.push_back({m_placed[i].start_ns, m_placed[i].end_ns - m_placed[i].start_ns, i, 0, i});
    for (uint32_t i = 0; i < m_t.flows().size(); ++i) {
      const Item& s = items[m_t.flows()[i].slice];
      items.push_back({s.ts, s.dur, s.slice, 1, i});
    }
    for (uint32_t i = 0; i < m_t.counters().size(); ++i)
      items.push_back({m_t.counters()[i].ts_ps / 1000, 0, UINT32_MAX, 2, i});
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) {
      if (a.ts != b.ts) return a.ts < b.ts;
      if (a.dur != b.dur) return a.dur > b.dur;
      if (a.slice != b.slice) return a.slice < b.slice;
      if (a.kind != b.kind) return a.kind < b.kind;
      return a.i < b.i;
    });
    for (const Item& it : items) {
      sep();
      if (it.kind == 0) put_slice(it.i);
      else if (it.kind == 1) put_flow(it.i);
      else put_counter(it.i);
    }
    if (m_t.dropped()) {
      sep();
      m_o << "{\"ph\":\"i\",\"s\":\"g\",\"name\":\"timeline cut: later events not kept\",\"pid\":1,\"tid\":0,\"ts\":";
      put_us(m_o, m_t.cut_ps() / 1000);
      m_o << "}";
    }
    m_o << "\n]}\n";
  }

 private:
  const std::string& esc(const char* s) {
    auto it = m_esc.find(s);
    if (it == m_esc.end()) it = m_esc.emplace(s, nlohmann::json(s).dump()).first;
    return it->second;
  }
  std::string esc(const std::string& s) { return nlohmann::json(s).dump(); }

  // At its slice's start, written after the slice: the viewer binds a
  // flow point to the innermost slice open there.
  uint64_t flow_ts(uint32_t f) const { return m_placed[m_t.flows()[f].slice].start_ns; }

  void put_slice(uint32_t i) {
    const auto& s = m_t.slices()[i];
    const Placed& p = m_placed[i];
    m_o << "{\"ph\":\"X\",\"name\":" << esc(s.name) << ",\"pid\":" << p.pid << ",\"tid\":" << p.tid << ",\"ts\":";
    put_us(m_o, p.start_ns);
    m_o << ",\"dur\":";
    put_us(m_o, p.end_ns - p.start_ns);
    if (s.nargs) {
      m_o << ",\"args\":{";
      for (unsigned a = 0; a < s.nargs; ++a) {
        const auto& arg = s.args[a];
        m_o << (a ? "," : "") << esc(arg.key) << ':';
        switch (arg.kind) {
          case EventTrace::Arg::Kind::Num: m_o << arg.num; break;
          case EventTrace::Arg::Kind::Hex: {
            char buf[24];
            std::snprintf(buf, sizeof buf, "\"0x%llx\"", static_cast<unsigned long long>(arg.num));
            m_o << buf;
            break;
          }
          case EventTrace::Arg::Kind::Text: m_o << esc(arg.text); break;
        }
      }
      m_o << '}';
    }
    m_o << '}';
  }

  void put_flow(uint32_t f) {
    const auto& fl = m_t.flows()[f];
    const Placed& p = m_placed[fl.slice];
    m_o << "{\"ph\":\"" << (fl.out ? 's' : 'f') << "\",\"cat\":\"" << kFlowCat << "\",\"name\":\"" << kFlowName
        << "\",\"id\":" << fl.id << ",\"pid\":" << p.pid << ",\"tid\":" << p.tid << ",\"ts\":";
    put_us(m_o, flow_ts(f));
    if (!fl.out) m_o << ",\"bp\":\"e\"";
    m_o << '}';
  }

  void put_counter(uint32_t c) {
    const auto& ct = m_t.counters()[c];
    m_o << "{\"ph\":\"C\",\"name\":" << esc(ct.name) << ",\"pid\":" << m_track_pid[ct.track]
        << ",\"tid\":" << m_track_tid[ct.track] << ",\"ts\":";
    put_us(m_o, ct.ts_ps / 1000);
    m_o << ",\"args\":{\"value\":" << nlohmann::json(ct.value).dump() << "}}";
  }

  const EventTrace& m_t;
  std::ostream& m_o;
  std::vector<Placed> m_placed;
  std::vector<std::pair<std::string, uint32_t>> m_processes;
  std::vector<Row> m_rows;
  std::vector<uint32_t> m_track_pid, m_track_tid;
  std::unordered_map<const char*, std::string> m_esc;
};

}  // namespace

void write_timeline_json(const common::EventTrace& trace, const TimelineInfo& info, std::ostream& out) {
  Writer w(trace, out);
  w.place();
  w.write(info);
}

}  // namespace hmmsim::sim
