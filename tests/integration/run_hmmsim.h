#pragma once
// Runs the hmmsim binary as a child process (SystemC elaborates once per
// process, so whole-platform tests cannot share one).
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace hmmsim::testing {

struct RunOutput {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

// A shell command line; `out` is what it printed to stdout (add 2>&1 for stderr too).
inline RunOutput run_command_line(const std::string& cmd) {
  RunOutput r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  const int st = pclose(p);
  r.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// `out` is stdout and stderr together, or stderr alone with stderr_only.
inline RunOutput run_hmmsim(const std::string& args, bool stderr_only = false) {
  return run_command_line("'" + std::string(HMMSIM_BINARY) + "' " + args + (stderr_only ? " 2>&1 >/dev/null" : " 2>&1"));
}

// A shell command line, stdout and stderr together.
inline RunOutput run_shell(const std::string& cmd) { return run_command_line(cmd + " 2>&1"); }

// Per build tree and per process: release and sanitizer suites may run at once.
inline std::string fresh_dir(const std::string& name) {
  const auto d = std::filesystem::path(::testing::TempDir()) /
                 ("hmmsim_" + std::to_string(std::hash<std::string>{}(HMMSIM_BINARY)) + "_" +
                  std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(d);
  return d.string();
}

inline std::string read_file(const std::string& path) {
  std::ifstream f(path);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

inline nlohmann::json read_stats(const std::string& dir) {
  return nlohmann::json::parse(read_file(dir + "/stats.json"));
}

inline std::string source(const std::string& rel) { return std::string(HMMSIM_SOURCE_DIR) + "/" + rel; }

// Writes `text` to a fresh file named after `name` and returns its path.
inline std::string write_config(const std::string& name, const std::string& text) {
  const std::string path = fresh_dir(name) + ".yaml";
  std::ofstream(path) << text;
  return path;
}

// A value of stats.json by its dotted path ("gpu.tlb.l1.hits"); fails the
// test (and gives -1) if it is missing or not a number.
inline double stat_value(const nlohmann::json& s, const std::string& path) {
  const nlohmann::json* n = &s;
  for (size_t at = 0; at <= path.size();) {
    const size_t dot = std::min(path.find('.', at), path.size());
    const std::string key = path.substr(at, dot - at);
    if (!n->is_object() || !n->contains(key)) {
      ADD_FAILURE() << "stats.json has no " << path;
      return -1;
    }
    n = &(*n)[key];
    at = dot + 1;
  }
  if (!n->is_number()) {
    ADD_FAILURE() << "stats.json: " << path << " is not a number";
    return -1;
  }
  return n->get<double>();
}

// The same, as an integer (a counter).
inline int64_t stat(const nlohmann::json& s, const std::string& path) {
  return static_cast<int64_t>(stat_value(s, path));
}

}  // namespace hmmsim::testing
