#include "sim/sweep.h"

#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include <nlohmann/json.hpp>

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {

std::string number_text(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.12g", v);
  return buf;
}

// A parameter's values: a list, or a range {from, to, step} (step added)
// or {from, to, times} (step multiplied), `to` included.
std::vector<std::string> values_of(ConfigReader& p) {
  const bool list = p.has("values"), range = p.has("range");
  if (list == range) p.fail("values", "give either values: [...] or range: {from, to, step | times}");
  std::vector<std::string> out;
  if (list) {
    const YAML::Node n = p.node()["values"];
    p.mark_used("values");
    if (!n.IsSequence() || n.size() == 0) p.fail("values", "expected a non-empty list");
    for (const auto& v : n) {
      if (!v.IsScalar()) p.fail("values", "every value must be a scalar (as for --set)");
      out.push_back(v.Scalar());
    }
    return out;
  }
  ConfigReader r = p.child("range");
  const double from = r.real("from", 0, -1e18, 1e18), to = r.real("to", 0, -1e18, 1e18);
  const bool add = r.has("step"), mul = r.has("times");
  if (add == mul) r.fail("step", "give either step (added) or times (multiplied)");
  const double step = add ? r.real("step", 1, -1e18, 1e18) : r.real("times", 2, -1e18, 1e18);
  if (add && (step == 0 || (to - from) / step < 0)) r.fail("step", "does not lead from `from` to `to`");
  if (mul && (step <= 1 || from <= 0 || to < from)) r.fail("times", "needs times > 1 and 0 < from <= to");
  r.finish();
  for (double v = from; add ? (step > 0 ? v <= to + 1e-9 * std::fabs(to) : v >= to - 1e-9 * std::fabs(to))
                            : v <= to * (1 + 1e-9);
       v = add ? v + step : v * step) {
    out.push_back(number_text(v));
    if (out.size() > 100000) r.fail("from", "more than 100000 values");
  }
  return out;
}

std::string csv_cell(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

const nlohmann::json* find(const nlohmann::json& j, const std::string& path) {
  const nlohmann::json* n = &j;
  size_t pos = 0;
  while (true) {
    const size_t dot = path.find('.', pos);
    const std::string part = path.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!n->is_object() || !n->contains(part)) return nullptr;
    n = &(*n)[part];
    if (dot == std::string::npos) return n;
    pos = dot + 1;
  }
}

}  // namespace

SweepSpec parse_sweep(const ConfigDoc& doc) {
  SweepSpec s;
  s.file = doc.file;
  ConfigReader root = ConfigReader::root(doc);
  ConfigReader w = root.child("sweep");
  root.finish();
  s.name = w.str("name", fs::path(doc.file).stem().string());
  s.base = w.str("base", "");
  if (s.base.empty()) w.fail("base", "a sweep names its experiment config: base: configs/default.yaml");
  const fs::path from = fs::path(w.error("base", "").file).parent_path();
  if (!fs::path(s.base).is_absolute()) s.base = (from / s.base).lexically_normal().string();
  if (!fs::exists(s.base)) w.fail("base", "no such file: " + s.base);
  {
    ConfigReader set = w.child("set");
    for (const auto& kv : set.node()) {
      const std::string k = kv.first.Scalar();
      if (!kv.second.IsScalar()) set.fail(k, "a value as for --set (a scalar)");
      s.set.push_back(k + "=" + kv.second.Scalar());
      set.mark_used(k);
    }
    set.finish();
  }
  for (ConfigReader p : w.list("parameters")) {
    SweepParameter sp;
    sp.key = p.str("key", "");
    if (sp.key.empty()) p.fail("key", "every parameter names a config key, e.g. key: gpu.sms");
    sp.values = values_of(p);
    p.finish();
    s.parameters.push_back(sp);
  }
  if (s.parameters.empty()) w.fail("parameters", "a sweep varies at least one parameter");
  s.zip = w.choice("mode", "cross", {"cross", "zip"}) == "zip";
  if (s.zip)
    for (const SweepParameter& p : s.parameters)
      if (p.values.size() != s.parameters[0].values.size())
        w.fail("mode", "zip needs the same number of values for every parameter");
  const YAML::Node st = w.node()["stats"];
  w.mark_used("stats");
  if (st && !st.IsSequence()) w.fail("stats", "expected a list of stats.json paths");
  if (st)
    for (const auto& v : st) s.stats.push_back(v.Scalar());
  if (s.stats.empty())
    s.stats = {"sim.time_ns", "sim.kernel_time_ns", "gpu.ipc", "driver.batches", "driver.pages_to_vram",
               "driver.pages_evicted", "gpu.gmmu.fault_latency_ns.p50", "gpu.gmmu.fault_latency_ns.p99"};
  w.finish();
  return s;
}

std::vector<SweepPoint> expand(const SweepSpec& s) {
  std::vector<SweepPoint> pts;
  if (s.zip) {
    for (size_t i = 0; i < s.parameters[0].values.size(); ++i) {
      SweepPoint p;
      for (const auto& par : s.parameters) p.values.push_back({par.key, par.values[i]});
      pts.push_back(p);
    }
    return pts;
  }
  pts.push_back({});
  for (const auto& par : s.parameters) {  // first parameter outermost
    std::vector<SweepPoint> next;
    for (const SweepPoint& p : pts)
      for (const auto& v : par.values) {
        SweepPoint q = p;
        q.values.push_back({par.key, v});
        next.push_back(q);
      }
    pts = std::move(next);
  }
  return pts;
}

int run_sweep(const std::string& exe, const std::string& file, const SweepOptions& opt, std::ostream& out,
              std::ostream& err) {
  SweepSpec spec;
  std::vector<SweepPoint> points;
  try {
    spec = parse_sweep(load_config_file(file));
    points = expand(spec);
  } catch (const ConfigError& e) {
    err << "hmmsim: sweep error: " << e.what() << "\n";
    return 2;
  }
  const std::string dir = opt.out_dir.empty() ? (fs::path("out") / spec.name).string() : opt.out_dir;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) {
    err << "hmmsim: cannot create " << dir << ": " << ec.message() << "\n";
    return 2;
  }
  char name[32];
  auto point_dir = [&](size_t i) {
    std::snprintf(name, sizeof name, "point-%03zu", i);
    return (fs::path(dir) / name).string();
  };
  // Each point: `exe run base --set ... -q --out DIR`, its output in DIR/log.txt.
  auto start = [&](size_t i) -> pid_t {
    const std::string pd = point_dir(i);
    fs::create_directories(pd, ec);
    std::vector<std::string> args{exe, "run", spec.base};
    for (const auto& s : spec.set) args.insert(args.end(), {"--set", s});
    for (const auto& [k, v] : points[i].values) args.insert(args.end(), {"--set", k + "=" + v});
    args.insert(args.end(), {"-q", "--out", pd});
    const pid_t pid = fork();
    if (pid == 0) {
      const std::string log = pd + "/log.txt";
      if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr)) _exit(2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execv(exe.c_str(), argv.data());
      _exit(127);
    }
    return pid;
  };
  std::map<pid_t, size_t> running;
  std::vector<int> codes(points.size(), -1);
  size_t next = 0, done = 0;
  const unsigned jobs = opt.jobs ? opt.jobs : 1;
  while (done < points.size()) {
    while (running.size() < jobs && next < points.size()) {
      const pid_t pid = start(next);
      if (pid < 0) {
        codes[next] = 2;
        ++done;
      } else {
        running[pid] = next;
      }
      ++next;
    }
    if (running.empty()) continue;
    int st = 0;
    const pid_t pid = wait(&st);
    auto it = running.find(pid);
    if (it == running.end()) continue;
    const size_t i = it->second;
    running.erase(it);
    codes[i] = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
    ++done;
    if (!opt.quiet) {
      out << "hmmsim: sweep " << spec.name << ": point " << i << " (";
      for (size_t k = 0; k < points[i].values.size(); ++k)
        out << (k ? ", " : "") << points[i].values[k].first << "=" << points[i].values[k].second;
      out << ") " << (codes[i] == 0 ? "ok" : "FAILED, exit " + std::to_string(codes[i])) << " [" << done << "/"
          << points.size() << "]\n";
      out.flush();
    }
  }
  // results.csv: one row per point, its parameters, its exit code, its stats.
  std::ofstream csv(fs::path(dir) / "results.csv");
  csv << "point,folder";
  for (const auto& p : spec.parameters) csv << "," << csv_cell(p.key);
  csv << ",exit_code";
  for (const auto& s : spec.stats) csv << "," << csv_cell(s);
  csv << "\n";
  size_t failed = 0;
  for (size_t i = 0; i < points.size(); ++i) {
    csv << i << "," << csv_cell(fs::path(point_dir(i)).filename().string());
    for (const auto& [k, v] : points[i].values) csv << "," << csv_cell(v);
    csv << "," << codes[i];
    nlohmann::json stats;
    std::ifstream f(fs::path(point_dir(i)) / "stats.json");
    if (f) {
      try {
        f >> stats;
      } catch (const std::exception&) {
        stats = nullptr;
      }
    }
    for (const auto& s : spec.stats) {
      const nlohmann::json* v = stats.is_object() ? find(stats, s) : nullptr;
      csv << "," << (v && !v->is_object() ? csv_cell(v->is_string() ? v->get<std::string>() : v->dump()) : "");
    }
    csv << "\n";
    if (codes[i] != 0) {
      ++failed;
      err << "hmmsim: sweep " << spec.name << ": point " << i << " failed (exit " << codes[i] << "); see "
          << point_dir(i) << "/log.txt\n";
    }
  }
  csv.close();
  if (!csv) {
    err << "hmmsim: cannot write " << (fs::path(dir) / "results.csv").string() << "\n";
    return 2;
  }
  out << "hmmsim: sweep " << spec.name << ": " << points.size() - failed << " of " << points.size()
      << " points passed; results in " << dir << "/results.csv\n";
  return failed ? 1 : 0;
}

}  // namespace hmmsim::sim
