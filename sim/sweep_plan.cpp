#include "sim/sweep_plan.h"

#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "sim/version.h"

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {
const char* const kPlanFile = "sweep.json";
const char* const kExitFile = "exit_code";
}  // namespace

SweepPlan make_plan(const SweepSpec& spec, const std::vector<SweepPoint>& points) {
  SweepPlan p;
  p.name = spec.name;
  p.base = spec.base;
  p.set = spec.set;
  for (const SweepParameter& par : spec.parameters) p.keys.push_back(par.key);
  p.stats = spec.stats;
  p.points = points;
  return p;
}

std::string point_dir(const std::string& out, size_t index) {
  char name[32];
  std::snprintf(name, sizeof name, "point-%03zu", index);
  return (fs::path(out) / name).string();
}

std::string point_text(const SweepPoint& p) {
  std::string s;
  for (const auto& [k, v] : p.values) s += (s.empty() ? "" : ", ") + k + "=" + v;
  return s;
}

bool write_plan(const std::string& out, const SweepPlan& plan, std::ostream& err) {
  std::error_code ec;
  fs::create_directories(out, ec);
  if (ec) {
    err << "hmmsim: cannot create " << out << ": " << ec.message() << "\n";
    return false;
  }
  nlohmann::json points = nlohmann::json::array();
  for (const SweepPoint& p : plan.points) {
    nlohmann::json values = nlohmann::json::array();
    for (const auto& kv : p.values) values.push_back(kv.second);
    points.push_back(values);
  }
  const nlohmann::json j = {
      {"hmmsim", {{"version", kVersion},
                  {"note", "a sweep's points: `hmmsim sweep collect` this folder to merge them into results.csv"}}},
      {"name", plan.name},     {"base", plan.base},     {"set", plan.set},
      {"parameters", plan.keys}, {"stats", plan.stats}, {"points", points}};
  const fs::path path = fs::path(out) / kPlanFile;
  std::ofstream f(path);
  f << j.dump(2) << "\n";
  f.close();
  if (!f) {
    err << "hmmsim: cannot write " << path.string() << "\n";
    return false;
  }
  for (size_t i = 0; i < plan.points.size(); ++i) fs::remove(fs::path(point_dir(out, i)) / kExitFile, ec);
  fs::remove(fs::path(out) / "results.csv", ec);
  return true;
}

SweepPlan read_plan(const std::string& out) {
  const fs::path path = fs::path(out) / kPlanFile;
  std::ifstream f(path);
  if (!f) throw std::runtime_error(path.string() + ": no such file (is " + out + " a sweep's output folder?)");
  SweepPlan p;
  try {
    const nlohmann::json j = nlohmann::json::parse(f);
    p.name = j.at("name").get<std::string>();
    p.base = j.at("base").get<std::string>();
    p.set = j.at("set").get<std::vector<std::string>>();
    p.keys = j.at("parameters").get<std::vector<std::string>>();
    p.stats = j.at("stats").get<std::vector<std::string>>();
    for (const auto& values : j.at("points")) {
      const auto v = values.get<std::vector<std::string>>();
      if (v.size() != p.keys.size()) throw std::runtime_error("a point without a value for every parameter");
      SweepPoint pt;
      for (size_t k = 0; k < v.size(); ++k) pt.values.push_back({p.keys[k], v[k]});
      p.points.push_back(pt);
    }
  } catch (const std::exception& e) {
    throw std::runtime_error(path.string() + ": not a sweep's point list: " + e.what());
  }
  return p;
}

pid_t start_point(const std::string& exe, const SweepPlan& plan, const std::string& out, size_t index) {
  const std::string pd = point_dir(out, index);
  std::error_code ec;
  fs::create_directories(pd, ec);
  std::vector<std::string> args{exe, "run", plan.base};
  for (const auto& s : plan.set) args.insert(args.end(), {"--set", s});
  for (const auto& [k, v] : plan.points[index].values) args.insert(args.end(), {"--set", k + "=" + v});
  args.insert(args.end(), {"-q", "--out", pd});
  const pid_t pid = fork();
  if (pid == 0) {
    // The run handles these itself; the parent may be ignoring them.
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    const std::string log = pd + "/log.txt";
    if (!std::freopen(log.c_str(), "w", stdout) || !std::freopen(log.c_str(), "a", stderr)) _exit(2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(exe.c_str(), argv.data());
    _exit(127);
  }
  return pid;
}

int exit_code_of(int st) {
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

void record_exit_code(const std::string& out, size_t index, int code) {
  const fs::path dir = point_dir(out, index);
  std::error_code ec;
  fs::create_directories(dir, ec);
  // Written whole, then renamed: a reader sees no file or the whole code.
  const fs::path tmp = dir / (std::string(kExitFile) + ".tmp");
  std::ofstream(tmp) << code << "\n";
  fs::rename(tmp, dir / kExitFile, ec);
}

std::optional<int> recorded_exit_code(const std::string& out, size_t index) {
  std::ifstream f(fs::path(point_dir(out, index)) / kExitFile);
  int code = 0;
  if (f >> code) return code;
  return std::nullopt;
}

}  // namespace hmmsim::sim
