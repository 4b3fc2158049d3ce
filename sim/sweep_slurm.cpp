#include "sim/sweep_slurm.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <vector>

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {

// `name` in a PATH folder, executable; "" if none.
std::string find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs(path ? path : "");
  std::string d;
  while (std::getline(dirs, d, ':')) {
    const fs::path p = fs::path(d.empty() ? "." : d) / name;
    if (access(p.c_str(), X_OK) == 0 && !fs::is_directory(p)) return p.string();
  }
  return "";
}

struct Captured {
  int code = -1;  // exit code; -1 when it could not be started
  std::string out, err;
};

// Runs args[0] (a path) with args, stdin from /dev/null; keeps its stdout and stderr.
Captured capture(const std::vector<std::string>& args) {
  Captured c;
  int o[2], e[2];
  if (pipe(o) != 0) return c;
  if (pipe(e) != 0) {
    close(o[0]);
    close(o[1]);
    return c;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    const int null = open("/dev/null", O_RDONLY);
    if (null >= 0) dup2(null, 0);
    dup2(o[1], 1);
    dup2(e[1], 2);
    for (int fd : {o[0], o[1], e[0], e[1]}) close(fd);
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(o[1]);
  close(e[1]);
  if (pid < 0) {
    close(o[0]);
    close(e[0]);
    return c;
  }
  pollfd fds[2] = {{o[0], POLLIN, 0}, {e[0], POLLIN, 0}};
  for (int open_fds = 2; open_fds > 0;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int k = 0; k < 2; ++k) {
      if (fds[k].fd < 0 || !fds[k].revents) continue;
      char buf[4096];
      const ssize_t n = read(fds[k].fd, buf, sizeof buf);
      if (n > 0) {
        (k ? c.err : c.out).append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        close(fds[k].fd);
        fds[k].fd = -1;
        --open_fds;
      }
    }
  }
  for (const pollfd& p : fds)
    if (p.fd >= 0) close(p.fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  c.code = exit_code_of(st);
  return c;
}

std::string trim(const std::string& s) {
  const size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
  return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool has_space(const std::string& s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)) || c == '"' || c == '\''; });
}

// A job name Slurm shows as it is.
std::string job_name(const std::string& name) {
  std::string j = "hmmsim-";
  for (char c : name) j += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  return j;
}

// The #SBATCH lines both jobs share: where, who pays, and the extra options.
void common_lines(std::ostream& s, const SlurmScriptInput& in) {
  s << "#SBATCH --chdir=" << in.cwd << "\n";
  if (!in.spec.partition.empty()) s << "#SBATCH --partition=" << in.spec.partition << "\n";
  if (!in.spec.account.empty()) s << "#SBATCH --account=" << in.spec.account << "\n";
  for (const auto& o : in.spec.options) s << "#SBATCH " << o << "\n";
}

// sbatch --parsable prints "JOBID" or "JOBID;CLUSTER".
std::string job_id(const std::string& parsable) {
  const std::string t = trim(parsable);
  return t.substr(0, t.find(';'));
}

bool write_file(const fs::path& p, const std::string& text, std::ostream& err) {
  std::ofstream f(p);
  f << text;
  f.close();
  if (!f) err << "hmmsim: cannot write " << p.string() << "\n";
  return static_cast<bool>(f);
}

// Each point's run that has ended since the last call, as the local sweep reports it.
void report_progress(const std::string& dir, const SweepPlan& plan, std::vector<bool>& seen, size_t& done,
                     bool quiet, std::ostream& out) {
  for (size_t i = 0; i < plan.points.size(); ++i) {
    if (seen[i]) continue;
    const std::optional<int> code = recorded_exit_code(dir, i);
    if (!code) continue;
    seen[i] = true;
    ++done;
    if (quiet) continue;
    out << "hmmsim: sweep " << plan.name << ": point " << i << " (" << point_text(plan.points[i]) << ") "
        << (*code == 0 ? "ok" : "FAILED, exit " + std::to_string(*code)) << " [" << done << "/"
        << plan.points.size() << "]\n";
    out.flush();
  }
}

// Waits until Slurm no longer lists the array as pending or running. False
// (with a message) when squeue keeps failing.
bool wait_for_array(const std::string& squeue, const std::string& id, const std::string& dir, const SweepPlan& plan,
                    bool quiet, std::ostream& out, std::ostream& err) {
  std::vector<bool> seen(plan.points.size());
  size_t done = 0;
  double interval_s = 0.25;
  for (int failures = 0;;) {
    report_progress(dir, plan, seen, done, quiet, out);
    const Captured q = capture({squeue, "--noheader", "--jobs=" + id, "--format=%i"});
    // Gone from the queue: finished (listed no more), or forgotten (MinJobAge).
    if (q.code == 0 && trim(q.out).empty()) break;
    if (q.code != 0 && q.err.find("Invalid job id") != std::string::npos) break;
    if (q.code != 0 && ++failures >= 20) {
      err << "hmmsim: sweep " << plan.name << ": squeue keeps failing (exit " << q.code << "): " << trim(q.err)
          << "\nhmmsim: the array " << id << " may still run; `hmmsim sweep collect " << dir
          << "` merges what has finished\n";
      return false;
    }
    if (q.code == 0) failures = 0;
    usleep(static_cast<useconds_t>(interval_s * 1e6));
    interval_s = std::min(interval_s * 1.5, 5.0);
  }
  report_progress(dir, plan, seen, done, quiet, out);
  return true;
}

}  // namespace

std::string slurm_array_script(const SlurmScriptInput& in) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# hmmsim sweep " << in.name << ": " << in.points << " points, one array task each; written by\n"
    << "# `hmmsim sweep FILE --slurm`. Task N runs point N of " << in.out << "/sweep.json\n"
    << "# in " << in.out << "/point-NNN/, as a local sweep does.\n"
    << "#SBATCH --job-name=" << job_name(in.name) << "\n"
    << "#SBATCH --array=0-" << (in.points ? in.points - 1 : 0);
  if (in.spec.max_parallel) s << "%" << in.spec.max_parallel;
  s << "\n"
    << "#SBATCH --output=" << in.out_abs << "/slurm/point-%3a.out\n"
    << "#SBATCH --time=" << in.spec.time << "\n"
    << "#SBATCH --mem=" << in.spec.mem_mib << "M\n"
    << "#SBATCH --cpus-per-task=" << in.spec.cpus_per_task << "\n";
  common_lines(s, in);
  s << "exec " << shell_quote(in.exe) << " sweep run-point " << shell_quote(in.out) << " \"$SLURM_ARRAY_TASK_ID\"\n";
  return s.str();
}

std::string slurm_collect_script(const SlurmScriptInput& in) {
  std::ostringstream s;
  s << "#!/bin/bash\n"
    << "# hmmsim sweep " << in.name << ": merges the points into " << in.out << "/results.csv once the\n"
    << "# array has finished (submitted with --dependency=afterany:ARRAY).\n"
    << "#SBATCH --job-name=" << job_name(in.name) << "-collect\n"
    << "#SBATCH --output=" << in.out_abs << "/slurm/collect.out\n"
    << "#SBATCH --time=10:00\n"
    << "#SBATCH --mem=" << std::min<uint64_t>(in.spec.mem_mib, 1024) << "M\n"
    << "#SBATCH --cpus-per-task=1\n";
  common_lines(s, in);
  s << "exec " << shell_quote(in.exe) << " sweep collect " << shell_quote(in.out) << "\n";
  return s.str();
}

int submit_slurm_sweep(const std::string& exe, const std::string& dir, const SweepPlan& plan,
                       const SlurmSpec& slurm, const SweepOptions& opt, std::ostream& out, std::ostream& err) {
  const std::string sbatch = find_on_path("sbatch"), squeue = find_on_path("squeue");
  const std::string missing = sbatch.empty() ? "sbatch" : opt.wait && squeue.empty() ? "squeue" : "";
  if (!missing.empty()) {
    err << "hmmsim: sweep --slurm: " << missing << " not found on the PATH: run it where Slurm's commands are "
        << "(a login node), or start a one-node cluster here with scripts/slurm-local\n";
    return 2;
  }
  std::error_code ec;
  SlurmScriptInput in{exe, fs::current_path(ec).string(), dir, fs::absolute(dir, ec).lexically_normal().string(),
                      plan.name, plan.points.size(), slurm};
  if (has_space(in.cwd) || has_space(in.out_abs)) {
    err << "hmmsim: sweep --slurm: #SBATCH lines cannot name a folder with spaces or quotes: "
        << (has_space(in.cwd) ? in.cwd : in.out_abs) << "\n";
    return 2;
  }
  if (!in.out_abs.empty() && in.out_abs.back() == '/') in.out_abs.pop_back();
  if (!write_plan(dir, plan, err)) return 2;
  const fs::path sdir = fs::path(dir) / "slurm";
  fs::create_directories(sdir, ec);
  // Slurm's output of an earlier submission to this folder would be taken for this one's.
  for (size_t i = 0; i < plan.points.size(); ++i)
    fs::remove(sdir / (fs::path(point_dir(dir, i)).filename().string() + ".out"), ec);
  fs::remove(sdir / "collect.out", ec);
  const fs::path array_file = sdir / "sweep.sbatch", collect_file = sdir / "collect.sbatch";
  if (!write_file(array_file, slurm_array_script(in), err) || !write_file(collect_file, slurm_collect_script(in), err))
    return 2;

  const Captured a = capture({sbatch, "--parsable", array_file.string()});
  const std::string id = job_id(a.out);
  if (a.code != 0 || id.empty()) {
    err << "hmmsim: sweep " << plan.name << ": sbatch " << array_file.string() << " failed (exit " << a.code
        << "): " << trim(a.err) << "\n";
    return 2;
  }
  const std::string limit = slurm.max_parallel ? ", at most " + std::to_string(slurm.max_parallel) + " at once" : "";
  out << "hmmsim: sweep " << plan.name << ": " << plan.points.size() << " points submitted to Slurm as job array "
      << id << " (" << array_file.string() << limit << ")" << (opt.wait ? "; waiting for it" : "") << "\n";
  out.flush();
  if (opt.wait) {
    if (!wait_for_array(squeue, id, dir, plan, opt.quiet, out, err)) return 2;
    return merge_results(dir, plan, out, err);
  }
  const Captured c = capture({sbatch, "--parsable", "--dependency=afterany:" + id, collect_file.string()});
  const std::string cid = job_id(c.out);
  if (c.code != 0 || cid.empty()) {
    err << "hmmsim: sweep " << plan.name << ": sbatch " << collect_file.string() << " failed (exit " << c.code
        << "): " << trim(c.err) << "\nhmmsim: the points run; `hmmsim sweep collect " << dir
        << "` merges them when array " << id << " has finished\n";
    return 2;
  }
  out << "hmmsim: sweep " << plan.name << ": job " << cid << " merges them into " << dir
      << "/results.csv when the array has finished\n"
      << "hmmsim: `squeue -j " << id << "` follows the points; `hmmsim sweep collect " << dir
      << "` merges those that have finished\n";
  return 0;
}

}  // namespace hmmsim::sim
