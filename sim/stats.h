#pragma once
// Hierarchical statistics: components register {path, description,
// pointer to their plain counter} once; the hot path only bumps integers.
// Dumped as nested JSON at the end ("gpu.sm0.loads" -> {"gpu":{"sm0":{...}}}).
// Each stat's unit follows from its name (unit_of: "_ns" is ns, "bytes"
// bytes, "pages" pages, ...; a plain count otherwise): units() lists them,
// as the top-level "units" key of stats.json.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/histogram.h"

namespace hmmsim::sim {

class Stats {
 public:
  void counter(const std::string& path, const uint64_t* v, const std::string& desc);
  void value(const std::string& path, const double* v, const std::string& desc);
  // Derived at dump time (rates, totals over components).
  void derived(const std::string& path, std::function<double()> f, const std::string& desc);
  // A distribution: path.count, .mean, .p50, .p90, .p99 and .max.
  void histogram(const std::string& path, const common::Histogram* h, const std::string& desc);

  nlohmann::json to_json() const;
  nlohmann::json units() const;  // {path: unit} for every stat: stats.json's "units"
  // The unit of the stat at `path`, from its name (docs/outputs.md).
  static std::string unit_of(const std::string& path);
  // Flat "path = value  # description" lines, sorted by path.
  std::string to_text() const;
  double get(const std::string& path) const;  // throws std::out_of_range
  // How stats.json writes a value: ns to the ps (three decimals), values
  // below 1 to 9 significant digits.
  static double tidy(double x);
  // Reads the stat at `path` without looking it up again (for sampling).
  std::function<double()> reader(const std::string& path) const;  // throws std::out_of_range

 private:
  struct Entry {
    std::string path, desc;
    const uint64_t* u = nullptr;
    const double* d = nullptr;
    std::function<double()> f;
    nlohmann::json json() const;
  };
  void add(Entry e);
  std::vector<Entry> m_entries;
};

}  // namespace hmmsim::sim
