#include "sim/sweep_slurm_spec.h"

#include <cctype>

namespace hmmsim::sim {

namespace {

bool digits(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s)
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  return true;
}

// Text that goes into a #SBATCH line as one word.
bool one_word(const std::string& s) {
  for (char c : s)
    if (std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\'' || c == '\\') return false;
  return true;
}

}  // namespace

bool is_slurm_time(const std::string& s) {
  std::string upper;
  for (char c : s) upper += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  if (upper == "UNLIMITED" || upper == "INFINITE") return true;
  std::string rest = s;
  const size_t dash = s.find('-');
  if (dash != std::string::npos) {
    if (!digits(s.substr(0, dash))) return false;
    rest = s.substr(dash + 1);
  }
  size_t parts = 0;
  for (size_t at = 0;; ++parts) {
    const size_t colon = rest.find(':', at);
    if (!digits(rest.substr(at, colon == std::string::npos ? std::string::npos : colon - at))) return false;
    if (colon == std::string::npos) break;
    at = colon + 1;
  }
  return parts <= 2;  // one to three fields
}

SlurmSpec parse_slurm_spec(ConfigReader& sweep) {
  SlurmSpec s;
  ConfigReader r = sweep.child("slurm");
  s.time = r.str("time", s.time);
  if (!is_slurm_time(s.time))
    r.fail("time", "expected a Slurm time limit (MM, HH:MM:SS or D-HH:MM:SS), got '" + s.time + "'");
  const uint64_t mib = 1ull << 20;
  s.mem_mib = (r.bytes("mem", s.mem_mib * mib, mib, 1ull << 50) + mib - 1) / mib;
  s.cpus_per_task = r.u64("cpus_per_task", s.cpus_per_task, 1, 4096);
  s.partition = r.str("partition", "");
  if (!one_word(s.partition)) r.fail("partition", "a partition name (or a,b,...), without spaces or quotes");
  s.account = r.str("account", "");
  if (!one_word(s.account)) r.fail("account", "an account name, without spaces or quotes");
  s.max_parallel = r.u64("max_parallel", 0, 0, 1000000);
  const YAML::Node opts = r.node()["options"];
  r.mark_used("options");
  if (opts && !opts.IsNull() && !opts.IsSequence())
    r.fail("options", "expected a list of sbatch options, e.g. [--qos=short, --constraint=avx2]");
  if (opts && opts.IsSequence())
    for (size_t i = 0; i < opts.size(); ++i) {
      const std::string item = "item " + std::to_string(i) + ": ";
      if (!opts[i].IsScalar()) r.fail("options", item + "each option is one string, e.g. --qos=short");
      const std::string o = opts[i].Scalar();
      if (o.size() < 2 || o[0] != '-' || !one_word(o))
        r.fail("options", item + "'" + o + "' is not one sbatch option (--name=value, no spaces or quotes)");
      // What hmmsim's own scripts and submission decide (long and short forms).
      for (const char* own : {"--array", "--output", "--error", "--chdir", "--job-name", "--dependency", "--wrap",
                              "--wait", "-a", "-o", "-e", "-D", "-J", "-d", "-W"})
        if (o.rfind(own, 0) == 0)
          r.fail("options", item + "hmmsim sets " + std::string(own) + " itself");
      s.options.push_back(o);
    }
  r.finish();
  return s;
}

}  // namespace hmmsim::sim
