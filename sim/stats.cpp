#include "sim/stats.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <stdexcept>

namespace hmmsim::sim {

void Stats::add(Entry e) {
  // A path must name one leaf: no duplicates, and no leaf that is also a
  // group ("a" and "a.b"). This is a programming error, caught at start-up.
  for (const Entry& o : m_entries) {
    const std::string& a = o.path;
    const std::string& b = e.path;
    const bool clash = a == b || (b.size() > a.size() && b.compare(0, a.size(), a) == 0 && b[a.size()] == '.') ||
                       (a.size() > b.size() && a.compare(0, b.size(), b) == 0 && a[b.size()] == '.');
    if (clash) throw std::logic_error("stat path " + b + " clashes with " + a);
  }
  m_entries.push_back(std::move(e));
}

void Stats::counter(const std::string& path, const uint64_t* v, const std::string& desc) {
  add(Entry{path, desc, v, nullptr, {}});
}

void Stats::value(const std::string& path, const double* v, const std::string& desc) {
  add(Entry{path, desc, nullptr, v, {}});
}

void Stats::derived(const std::string& path, std::function<double()> f, const std::string& desc) {
  add(Entry{path, desc, nullptr, nullptr, std::move(f)});
}

void Stats::histogram(const std::string& path, const common::Histogram* h, const std::string& desc) {
  derived(path + ".count", [h] { return double(h->count()); }, desc + ": samples");
  derived(path + ".mean", [h] { return h->mean(); }, desc + ": mean");
  derived(path + ".p50", [h] { return h->percentile(0.50); }, desc + ": median (within 3 %)");
  derived(path + ".p90", [h] { return h->percentile(0.90); }, desc + ": 90th percentile (within 3 %)");
  derived(path + ".p99", [h] { return h->percentile(0.99); }, desc + ": 99th percentile (within 3 %)");
  derived(path + ".max", [h] { return h->max(); }, desc + ": maximum");
}

double Stats::tidy(double x) {
  // Simulated times are in ns and exact to the ps: three decimals keep all
  // of it and drop the binary noise of sums (62195.531999999905 ->
  // 62195.532). Smaller values (ratios, rates) keep 9 significant digits.
  if (!std::isfinite(x) || x == 0) return x;
  if (std::fabs(x) >= 1) return std::fabs(x) < 1e15 ? std::round(x * 1000) / 1000 : x;
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", x);
  return std::strtod(buf, nullptr);
}

nlohmann::json Stats::Entry::json() const {
  if (u) return *u;
  const double x = tidy(d ? *d : f());
  // Integers stay integers; JSON prints the shortest text that reads back
  // to the same double.
  if (!std::isfinite(x)) return nullptr;
  if (x == std::floor(x) && std::fabs(x) < 9e15) return static_cast<int64_t>(x);
  return x;
}

namespace {
bool ends_with(const std::string& s, const std::string& t) {
  return s.size() >= t.size() && s.compare(s.size() - t.size(), t.size(), t) == 0;
}
}  // namespace

std::string Stats::unit_of(const std::string& path) {
  const std::string leaf = path.substr(path.rfind('.') + 1);
  // A distribution's figures are in its own unit; its count is of samples.
  static const char* const kFigures[] = {"mean", "p50", "p90", "p99", "max"};
  if (leaf == "count" && path.find('.') != std::string::npos) {
    const std::string parent = path.substr(0, path.rfind('.'));
    if (unit_of(parent) != "count" || parent.find(".batch.") != std::string::npos ||
        ends_with(parent, "migration_pages"))
      return "samples";
  }
  for (const char* f : kFigures)
    if (leaf == f && path.find('.') != std::string::npos) return unit_of(path.substr(0, path.rfind('.')));
  const std::string group = path.find('.') == std::string::npos ? "" : path.substr(0, path.rfind('.'));
  if (ends_with(leaf, "_ns") || ends_with(group, "_ns") || path.find(".stage.") != std::string::npos) return "ns";
  if (leaf.find("bytes") != std::string::npos) return "bytes";
  if (leaf.find("pages") != std::string::npos) return "pages";
  if (leaf.find("utilisation") != std::string::npos || ends_with(leaf, "_rate")) return "fraction";
  if (leaf == "ipc") return "warp instructions per cycle";
  if (leaf == "cycles") return "cycles";
  if (leaf == "finished" || leaf == "partial") return "flag";
  if (leaf == "seed") return "none";
  return "count";
}

nlohmann::json Stats::to_json() const {
  nlohmann::json root = nlohmann::json::object();
  for (const Entry& e : m_entries) {
    nlohmann::json* node = &root;
    std::string::size_type pos = 0, dot;
    while ((dot = e.path.find('.', pos)) != std::string::npos) {
      node = &(*node)[e.path.substr(pos, dot - pos)];
      pos = dot + 1;
    }
    (*node)[e.path.substr(pos)] = e.json();
  }
  return root;
}

nlohmann::json Stats::units() const {
  nlohmann::json u = nlohmann::json::object();
  for (const Entry& e : m_entries) u[e.path] = unit_of(e.path);
  return u;
}

std::string Stats::to_text() const {
  std::vector<const Entry*> v;
  for (auto& e : m_entries) v.push_back(&e);
  std::sort(v.begin(), v.end(), [](auto* a, auto* b) { return a->path < b->path; });
  std::ostringstream os;
  for (auto* e : v) os << e->path << " = " << e->json().dump() << "  # " << e->desc << "\n";
  return os.str();
}

std::function<double()> Stats::reader(const std::string& path) const {
  for (auto& e : m_entries)
    if (e.path == path) {
      if (e.u) return [u = e.u] { return double(*u); };
      if (e.d) return [d = e.d] { return *d; };
      return e.f;
    }
  throw std::out_of_range("no stat " + path);
}

double Stats::get(const std::string& path) const {
  for (auto& e : m_entries)
    if (e.path == path) return e.u ? double(*e.u) : e.d ? *e.d : e.f();
  throw std::out_of_range("no stat " + path);
}

}  // namespace hmmsim::sim
