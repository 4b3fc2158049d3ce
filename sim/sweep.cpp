#include "sim/sweep.h"

#include <algorithm>

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

#include "sim/sweep_plan.h"
#include "sim/sweep_slurm.h"

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
  s.slurm = parse_slurm_spec(w);
  w.finish();
  // A timeline is ~12 MB at the default bound: a sweep keeps none unless
  // it asks (in set: or as a parameter); any point reruns with one.
  const std::string tl = "run.timeline_max_events";
  const bool asks = std::any_of(s.set.begin(), s.set.end(), [&](const std::string& kv) { return kv.rfind(tl + "=", 0) == 0; }) ||
                    std::any_of(s.parameters.begin(), s.parameters.end(), [&](const SweepParameter& p) { return p.key == tl; });
  if (!asks) s.set.insert(s.set.begin(), tl + "=0");
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
  const SweepPlan plan = make_plan(spec, points);
  if (opt.slurm) {
    SlurmSpec slurm = spec.slurm;
    if (opt.jobs_given) slurm.max_parallel = opt.jobs;
    return submit_slurm_sweep(exe, dir, plan, slurm, opt, out, err);
  }
  if (!write_plan(dir, plan, err)) return 2;
  std::map<pid_t, size_t> running;
  size_t next = 0, done = 0;
  const unsigned jobs = opt.jobs ? opt.jobs : 1;
  while (done < points.size()) {
    while (running.size() < jobs && next < points.size()) {
      const pid_t pid = start_point(exe, plan, dir, next);
      if (pid < 0) {
        record_exit_code(dir, next, 2);
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
    const int code = exit_code_of(st);
    record_exit_code(dir, i, code);
    ++done;
    if (!opt.quiet) {
      out << "hmmsim: sweep " << spec.name << ": point " << i << " (" << point_text(points[i]) << ") "
          << (code == 0 ? "ok" : "FAILED, exit " + std::to_string(code)) << " [" << done << "/" << points.size()
          << "]\n";
      out.flush();
    }
  }
  return merge_results(dir, plan, out, err);
}

int collect_sweep(const std::string& dir, std::ostream& out, std::ostream& err) {
  SweepPlan plan;
  try {
    plan = read_plan(dir);
  } catch (const std::exception& e) {
    err << "hmmsim: sweep collect: " << e.what() << "\n";
    return 2;
  }
  return merge_results(dir, plan, out, err);
}

int run_sweep_point(const std::string& exe, const std::string& dir, size_t index, std::ostream& out,
                    std::ostream& err) {
  SweepPlan plan;
  try {
    plan = read_plan(dir);
  } catch (const std::exception& e) {
    err << "hmmsim: sweep run-point: " << e.what() << "\n";
    return 2;
  }
  if (index >= plan.points.size()) {
    err << "hmmsim: sweep run-point: " << dir << " has " << plan.points.size() << " points (0 to "
        << plan.points.size() - 1 << "), not " << index << "\n";
    return 2;
  }
  // Slurm's time limit and scancel signal every process of the task: the
  // run stops with its outputs written (exit 143) and its code is kept.
  std::signal(SIGTERM, SIG_IGN);
  std::signal(SIGINT, SIG_IGN);
  const pid_t pid = start_point(exe, plan, dir, index);
  int st = 0, code = 2;
  pid_t got = -1;
  if (pid > 0)
    do got = waitpid(pid, &st, 0);
    while (got < 0 && errno == EINTR);
  if (got == pid) code = exit_code_of(st);
  record_exit_code(dir, index, code);
  out << "hmmsim: sweep " << plan.name << ": point " << index << " (" << point_text(plan.points[index]) << ") "
      << (code == 0 ? "ok" : "FAILED, exit " + std::to_string(code) + "; see " + point_dir(dir, index) + "/log.txt")
      << "\n";
  return code;
}

}  // namespace hmmsim::sim
