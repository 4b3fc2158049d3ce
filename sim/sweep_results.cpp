// OUT/results.csv: one row per point, merged from what each point left in
// OUT/point-NNN/ (its exit code, its stats.json). The local sweep, its
// Slurm collect job and `hmmsim sweep collect` all write it here.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "sim/sweep_plan.h"

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {

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

nlohmann::json read_stats(const fs::path& dir) {
  nlohmann::json stats;
  std::ifstream f(dir / "stats.json");
  if (f) {
    try {
      f >> stats;
    } catch (const std::exception&) {
      stats = nullptr;
    }
  }
  return stats;
}

}  // namespace

int merge_results(const std::string& dir, const SweepPlan& plan, std::ostream& out, std::ostream& err) {
  // results.csv: one row per point, its parameters, its exit code (empty if
  // it has none yet), its stats.
  std::ostringstream csv;
  csv << "point,folder";
  for (const auto& k : plan.keys) csv << "," << csv_cell(k);
  csv << ",exit_code";
  for (const auto& s : plan.stats) csv << "," << csv_cell(s);
  csv << "\n";
  size_t failed = 0, missing = 0;
  for (size_t i = 0; i < plan.points.size(); ++i) {
    const fs::path pd = point_dir(dir, i);
    const std::optional<int> code = recorded_exit_code(dir, i);
    csv << i << "," << csv_cell(pd.filename().string());
    for (const auto& kv : plan.points[i].values) csv << "," << csv_cell(kv.second);
    csv << "," << (code ? std::to_string(*code) : "");
    const nlohmann::json stats = code ? read_stats(pd) : nlohmann::json();
    for (const auto& s : plan.stats) {
      const nlohmann::json* v = stats.is_object() ? find(stats, s) : nullptr;
      csv << "," << (v && !v->is_object() ? csv_cell(v->is_string() ? v->get<std::string>() : v->dump()) : "");
    }
    csv << "\n";
    if (!code) {
      ++missing;
      // A Slurm task's own output says why it did not run, if it started.
      const fs::path task_log = fs::path(dir) / "slurm" / (pd.filename().string() + ".out");
      err << "hmmsim: sweep " << plan.name << ": point " << i << " missing: no exit code in " << pd.string()
          << " (not run yet, still running, or stopped)"
          << (fs::exists(task_log) ? "; see " + task_log.string() : "") << "\n";
    } else if (*code != 0) {
      ++failed;
      err << "hmmsim: sweep " << plan.name << ": point " << i << " failed (exit " << *code << "); see "
          << pd.string() << "/log.txt\n";
    }
  }
  // Written whole, then renamed: a reader never sees half a file.
  const fs::path path = fs::path(dir) / "results.csv", tmp = fs::path(dir) / "results.csv.tmp";
  std::ofstream f(tmp);
  f << csv.str();
  f.close();
  std::error_code ec;
  if (f) fs::rename(tmp, path, ec);
  if (!f || ec) {
    err << "hmmsim: cannot write " << path.string() << "\n";
    return 2;
  }
  const size_t n = plan.points.size();
  out << "hmmsim: sweep " << plan.name << ": " << n - failed - missing << " of " << n << " points passed"
      << (missing ? ", " + std::to_string(missing) + " missing" : "") << "; results in " << path.string() << "\n";
  return failed || missing ? 1 : 0;
}

}  // namespace hmmsim::sim
