#include "sim/report_command.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#ifndef HMMSIM_REPORT_SCRIPT_PATH
#define HMMSIM_REPORT_SCRIPT_PATH ""
#endif

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

// Where scripts/report.py is, or "" with what was tried in `tried`.
std::string find_script(const std::string& exe, std::string& tried) {
  std::vector<fs::path> candidates;
  if (const std::string e = env("HMMSIM_REPORT_SCRIPT"); !e.empty()) {
    tried = e + " (HMMSIM_REPORT_SCRIPT)";
    return fs::is_regular_file(e) ? e : "";
  }
  if (*HMMSIM_REPORT_SCRIPT_PATH) candidates.emplace_back(HMMSIM_REPORT_SCRIPT_PATH);
  // A build tree inside the clone: build/release/hmmsim, or build/hmmsim.
  const fs::path bin = fs::path(exe).parent_path();
  candidates.push_back(bin.parent_path().parent_path() / "scripts" / "report.py");
  candidates.push_back(bin.parent_path() / "scripts" / "report.py");
  for (const auto& c : candidates) {
    std::error_code ec;
    if (fs::is_regular_file(c, ec)) return c.string();
    tried += (tried.empty() ? "" : ", ") + c.string();
  }
  return "";
}

std::string find_python() {
  if (const std::string e = env("HMMSIM_PYTHON"); !e.empty()) return e;
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  return "python3";
}

// Copies what is readable on `fd` to `os`; false at end of file.
bool forward(int fd, std::ostream& os) {
  char buf[4096];
  const ssize_t n = read(fd, buf, sizeof buf);
  if (n > 0) {
    os.write(buf, n);
    os.flush();
    return true;
  }
  return n < 0 && errno == EINTR;
}

}  // namespace

CLI::App* add_report_command(CLI::App& app, ReportCommandArgs& a) {
  CLI::App* r = app.add_subcommand("report", "write a self-contained HTML page with plots of a run's or a sweep's "
                                             "output folder (docs/outputs.md)");
  r->add_option("outdir", a.dir, "a run's folder (stats.json, timeseries.csv, ...) or a sweep's (results.csv)")
      ->required();
  r->add_option("-o,--output", a.output, "the HTML file to write (default: OUTDIR/report.html)");
  r->add_option("--stat", a.stats,
                "sweep: a stat to plot against the parameters, a results.csv column or any stats.json key "
                "(repeatable; default: every numeric column of results.csv); run: an extra key figure")
      ->take_all();
  r->add_flag("--points", a.points, "sweep: also write each point's own report (OUTDIR/point-NNN/report.html)");
  return r;
}

int report_command(const ReportCommandArgs& a, const std::string& exe, std::ostream& out, std::ostream& err) {
  std::string tried;
  const std::string script = find_script(exe, tried);
  if (script.empty()) {
    err << "hmmsim report: cannot find scripts/report.py (looked at " << tried
        << "): set HMMSIM_REPORT_SCRIPT to its path\n";
    return 2;
  }
  const std::string python = find_python();
  std::vector<std::string> args{python, script, a.dir};
  if (!a.output.empty()) args.insert(args.end(), {"--output", a.output});
  for (const auto& s : a.stats) args.insert(args.end(), {"--stat", s});
  if (a.points) args.push_back("--points");

  // The child's stdout and stderr come back through pipes to `out` and
  // `err`; a third pipe, closed by a successful exec, carries exec's errno.
  int pout[2], perr[2], pexec[2];
  if (pipe(pout) != 0 || pipe(perr) != 0 || pipe2(pexec, O_CLOEXEC) != 0) {
    err << "hmmsim report: cannot create pipes: " << std::strerror(errno) << "\n";
    return 2;
  }
  const pid_t pid = fork();
  if (pid < 0) {
    err << "hmmsim report: cannot start " << python << ": " << std::strerror(errno) << "\n";
    return 2;
  }
  if (pid == 0) {
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    dup2(pout[1], STDOUT_FILENO);
    dup2(perr[1], STDERR_FILENO);
    for (int fd : {pout[0], pout[1], perr[0], perr[1], pexec[0]}) close(fd);
    std::vector<char*> argv;
    for (auto& s : args) argv.push_back(s.data());
    argv.push_back(nullptr);
    execvp(argv[0], argv.data());
    const int e = errno;
    (void)!write(pexec[1], &e, sizeof e);
    _exit(127);
  }
  for (int fd : {pout[1], perr[1], pexec[1]}) close(fd);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(pexec[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close(pexec[0]);
  pollfd fds[2] = {{pout[0], POLLIN, 0}, {perr[0], POLLIN, 0}};
  std::ostream* streams[2] = {&out, &err};
  int open_fds = 2;
  while (open_fds > 0) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd >= 0 && (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) && !forward(fds[i].fd, *streams[i])) {
        close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto& f : fds)
    if (f.fd >= 0) close(f.fd);
  int st = 0;
  while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
  }
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    err << "hmmsim report: cannot run " << python << ": " << std::strerror(exec_errno)
        << " (it needs python3 with matplotlib: Debian's python3-matplotlib, or set HMMSIM_PYTHON)\n";
    return 2;
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

}  // namespace hmmsim::sim
