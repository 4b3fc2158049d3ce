#include "sim/vcd_probe.h"

#include <cmath>
#include <fstream>
#include <map>
#include <sstream>

namespace hmmsim::sim {

VcdProbe::VcdProbe(sc_core::sc_module_name name, const std::string& file, double period_ns)
    : sc_module(name), m_file(file), m_period_ns(period_ns) {
  SC_HAS_PROCESS(VcdProbe);
  // SystemC announces the timescale on stdout: the summary is no place for it.
  sc_core::sc_report_handler::set_actions("tracing timescale unit set", sc_core::SC_DO_NOTHING);
  m_tf = sc_core::sc_create_vcd_trace_file(file.c_str());
  m_tf->set_time_unit(1, sc_core::SC_PS);
  SC_THREAD(run);
}

VcdProbe::~VcdProbe() { close(); }

void VcdProbe::signal(const std::string& name, std::function<double()> read) {
  Probe p{name, std::move(read), std::make_unique<sc_core::sc_signal<uint64_t>>(sc_core::sc_gen_unique_name("vcd"))};
  p.sig->write(static_cast<uint64_t>(std::llround(p.read())));
  sc_core::sc_trace(m_tf, *p.sig, name);
  m_probes.push_back(std::move(p));
}

void VcdProbe::run() {
  const sc_core::sc_time period(m_period_ns, sc_core::SC_NS);
  const uint64_t idle_limit = static_cast<uint64_t>(std::ceil(1e7 / m_period_ns));  // 10 ms
  for (uint64_t idle = 0; idle < idle_limit;) {
    wait(period);
    bool changed = false;
    for (Probe& p : m_probes) {
      const uint64_t v = static_cast<uint64_t>(std::llround(std::max(0.0, p.read())));
      if (v != p.sig->read()) {
        p.sig->write(v);
        changed = true;
      }
    }
    idle = changed ? 0 : idle + 1;
  }
}

namespace {

std::string binary(uint64_t v) {
  std::string b;
  do {
    b.insert(b.begin(), char('0' + (v & 1)));
    v >>= 1;
  } while (v);
  return b;
}

// Each $var's identifier by its dotted name (scopes joined with dots).
std::map<std::string, std::string> var_ids(const std::string& vcd) {
  std::map<std::string, std::string> ids;
  std::vector<std::string> scopes;
  std::istringstream in(vcd);
  std::string tok;
  while (in >> tok && tok != "$enddefinitions") {
    if (tok == "$scope") {
      std::string kind, name;
      in >> kind >> name;
      scopes.push_back(name);
    } else if (tok == "$upscope") {
      if (!scopes.empty()) scopes.pop_back();
    } else if (tok == "$var") {
      std::string kind, width, id, name;
      in >> kind >> width >> id >> name;
      std::string path;
      for (size_t i = 1; i < scopes.size(); ++i) path += scopes[i] + ".";  // [0] is SystemC's top scope
      ids[path + name] = id;
    }
  }
  return ids;
}

}  // namespace

void VcdProbe::close() {
  if (!m_tf) return;
  sc_core::sc_close_vcd_trace_file(m_tf);
  m_tf = nullptr;
  const std::string path = m_file + ".vcd";
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  in.close();
  std::string s = text.str();
  const size_t d = s.find("$date"), e = s.find("$end", d == std::string::npos ? 0 : d);
  if (d != 0 || e == std::string::npos) return;
  s.replace(d, e - d, "$date\n     (not recorded: the same run gives the same file)\n");
  // The values at the end of the run: what changed since the last sample
  // (less than a period ago) would be missing otherwise.
  const auto ids = var_ids(s);
  const uint64_t now_ps = sc_core::sc_time_stamp().value() / sc_core::sc_time(1, sc_core::SC_PS).value();
  const size_t hash = s.rfind("\n#");
  const uint64_t last_ps = hash == std::string::npos ? 0 : std::stoull(s.substr(hash + 2));
  std::string tail;
  for (const Probe& p : m_probes) {
    const uint64_t v = static_cast<uint64_t>(std::llround(std::max(0.0, p.read())));
    auto id = ids.find(p.name);
    if (v != p.sig->read() && id != ids.end()) tail += "b" + binary(v) + " " + id->second + "\n";
  }
  if (!tail.empty()) {
    if (s.back() != '\n') s += '\n';
    if (now_ps > last_ps) s += "#" + std::to_string(now_ps) + "\n";
    s += tail;
  }
  std::ofstream(path) << s;
}

}  // namespace hmmsim::sim
