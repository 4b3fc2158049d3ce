#include "sim/cli.h"

#include <cstdlib>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <iostream>
#include <string>
#include <vector>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "hw/kernel/kernel_source.h"
#include "sim/config.h"
#include "sim/platform.h"
#include "sim/report_command.h"
#include "sim/resolved_config.h"
#include "sim/scenario/scenario_runner.h"
#include "sim/sweep_command.h"
#include "sim/trace_command.h"
#include "sim/version.h"

namespace hmmsim::sim {

namespace fs = std::filesystem;

namespace {

int run_scenario_command(const ConfigDoc& doc, const std::string& config, const std::string& out_dir, bool quiet,
                         std::ostream& out, std::ostream& err) {
  ScenarioResult r;
  try {
    r = run_scenario(doc);
  } catch (const ConfigError& e) {
    err << "hmmsim: scenario error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // e.g. a YAML value of the wrong shape
    err << "hmmsim: scenario error in " << config << ": " << e.what() << "\n";
    return 2;
  }
  std::ofstream f(fs::path(out_dir) / "scenario.json");
  f << r.report.dump(2) << "\n";
  f.close();
  if (!f) {
    err << "hmmsim: cannot write " << (fs::path(out_dir) / "scenario.json").string() << "\n";
    return 2;
  }
  // The file as well as its `scenario:` name: names need not be unique.
  const std::string name = r.report.value("scenario", config);
  if (r.exit_code) {
    err << "hmmsim: scenario " << name << " (" << config << ") FAILED at " << r.failure << "\n";
  } else if (!quiet) {
    out << "hmmsim: scenario " << name << " (" << config << "): " << r.steps_run << " steps, PASS\n";
  }
  out << "outputs written to " << out_dir << "/ (scenario.json)\n";
  return r.exit_code;
}

// OUT/config.json: the config as resolved (every default filled in) and
// what produced it; `hmmsim run OUT/config.json` runs the same again.
bool write_resolved_config(const ConfigDoc& doc, const std::string& config, const std::vector<std::string>& sets,
                           const std::string& out_dir, std::ostream& err) {
  nlohmann::json j = doc.resolved ? doc.resolved->tree : nlohmann::json::object();
  j["hmmsim"] = {{"version", kVersion},
                 {"commit", kCommit},
                 {"config", config},
                 {"overrides", sets},
                 {"note", "the resolved config: hmmsim run this file to run it again"}};
  const fs::path p = fs::path(out_dir) / "config.json";
  std::ofstream f(p);
  f << j.dump(2) << "\n";
  f.close();
  if (!f) err << "hmmsim: cannot write " << p.string() << "\n";
  return static_cast<bool>(f);
}

struct RunOptions {
  std::string record, replay;
};

int run_command(const std::string& config, const std::vector<std::string>& sets, std::string out_dir,
                bool quiet, const RunOptions& opt, std::ostream& out, std::ostream& err) {
  SimConfig cfg;
  ConfigDoc doc;
  bool scenario = false;
  try {
    doc = load_config_file(config);
    for (auto& s : sets) apply_override(doc, s);
    scenario = is_scenario(doc);
    if (!scenario) cfg = parse_config(doc);
    cfg.run.progress = !quiet && isatty(STDERR_FILENO);
    cfg.run.record_path = opt.record;
    cfg.run.replay_path = opt.replay;
  } catch (const ConfigError& e) {
    err << "hmmsim: config error: " << e.what() << "\n";
    return 2;
  }
  if (out_dir.empty()) out_dir = (fs::path("out") / fs::path(config).stem()).string();
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) {
    err << "hmmsim: cannot create output folder " << out_dir << ": " << ec.message() << "\n";
    return 2;
  }
  if (scenario) return run_scenario_command(doc, config, out_dir, quiet, out, err);
  if (!write_resolved_config(doc, config, sets, out_dir, err)) return 2;
  if (!cfg.run.vcd_signals.empty()) cfg.run.vcd_file = (fs::path(out_dir) / "signals").string();
  // Before the platform is built: a signal meanwhile still stops the run at
  // its first slice, with outputs.
  install_stop_signals();

  std::unique_ptr<Platform> platform;
  try {
    platform = std::make_unique<Platform>(cfg);
  } catch (const ConfigError& e) {  // a check that needed the program's buffers
    err << "hmmsim: config error: " << e.what() << "\n";
    return 2;
  } catch (const hw::SourceError& e) {  // a trace the program reads is bad
    err << "hmmsim: bad input: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {  // e.g. memory for an enormous machine
    err << "hmmsim: cannot build the platform from " << config << ": " << e.what() << "\n";
    return 2;
  }
  RunResult r;
  try {
    r = platform->run();
  } catch (const std::exception& e) {
    err << "hmmsim: simulation failed: " << e.what() << "\n";
    return 1;
  }

  auto write = [&](const char* name, const std::string& text) {
    std::ofstream f(fs::path(out_dir) / name);
    f << text;
    f.close();
    if (!f) err << "hmmsim: cannot write " << (fs::path(out_dir) / name).string() << "\n";
    return static_cast<bool>(f);
  };
  auto write_timeline = [&] {
    const fs::path p = fs::path(out_dir) / "timeline.json";
    std::ofstream f(p);
    platform->write_timeline(config, std::string(kVersion) + " (" + kCommit + ")", f);
    f.close();
    if (!f) err << "hmmsim: cannot write " << p.string() << "\n";
    return static_cast<bool>(f);
  };
  const bool ok = write("stats.json", r.stats.dump(2) + "\n") && write("stats.txt", platform->stats().to_text()) &&
                  write("summary.txt", r.summary) && (r.timeseries.empty() || write("timeseries.csv", r.timeseries)) &&
                  (!platform->has_timeline() || write_timeline());
  if (!quiet) out << r.summary << r.host_line;
  if (!r.input_error.empty()) err << "hmmsim: bad input: " << r.input_error << "\n";
  if (!r.fatal.empty()) err << "hmmsim: " << r.fatal << "\n";
  if (!ok) return 2;
  out << "outputs written to " << out_dir << "/ (config.json, stats.json, stats.txt, summary.txt"
      << (r.timeseries.empty() ? "" : ", timeseries.csv") << (platform->has_timeline() ? ", timeline.json" : "")
      << (cfg.run.vcd_file.empty() ? "" : ", signals.vcd") << ")\n";
  if (r.incomplete) {
    // SystemC threads are parked in the middle of their work and cannot be
    // unwound: leave without destructors (and without leak reports about
    // their stacks) once everything is written.
    out.flush();
    err.flush();
    std::_Exit(r.exit_code);
  }
  return r.exit_code;
}

}  // namespace

// What `hmmsim --help` says after the subcommands. The exit codes are
// those of run_command, run_scenario_command and trace_command.
const char* const kHelpFooter = R"(Files:
  experiment config  YAML describing the machine and the workload: configs/default.yaml,
                     configs/experiments/, configs/gpus/, docs/parameters.md. `hmmsim run`
                     writes OUT/config.json, stats.json, stats.txt, summary.txt and
                     timeseries.csv; OUT/config.json is an experiment config too.
  scenario file      YAML with a top-level `scenario:` key (configs/scenarios/,
                     docs/scenarios.md): scripted mm/HMM steps with expectations, no
                     timing. `hmmsim run` writes OUT/scenario.json.
  trace file         for `hmmsim trace` (and a program's `trace:` steps, --replay):
                     Accel-Sim kernelslist.g or .traceg[.xz], NVBit text, or hmmsim's
                     native format (--record).
  sweep file         for `hmmsim sweep`: YAML with a top-level `sweep:` key naming a base
                     config and the parameters to vary (configs/sweeps/, docs/sweeps.md);
                     writes OUT/sweep.json, OUT/point-NNN/ per point and OUT/results.csv.
                     --slurm submits one Slurm array task per point (its `slurm:`
                     section: time, mem, ...); `hmmsim sweep collect OUT` merges them.
  report page        `hmmsim report OUT` writes OUT/report.html: a run's or a sweep's
                     folder as one self-contained HTML page with plots (docs/outputs.md;
                     needs Debian's python3-matplotlib). Exit 2 when OUT is not a run's
                     or a sweep's folder or a file in it is malformed.
  OUT is --out, by default out/<file name without .yaml>.

Exit codes:
  0  success: the run passed (or every scenario expectation held; trace done)
  1  the simulation failed: a problem in the summary (a data mismatch, the
     watchdog, a deadlock, an error counter, a failed step), simulated host RAM
     exhausted, or a scenario expectation that did not hold
  2  bad input: command line, config, scenario or sweep file (file:line: key:
     reason), a bad trace, or an output folder that cannot be written
  130, 143  stopped by SIGINT (Ctrl-C) or SIGTERM; the outputs are written, partial
  A sweep (and `sweep collect`) exits with 1 when a point failed (the others still
  ran) or has not finished, 0 when all passed; `sweep --slurm` without --wait exits
  with 0 once the jobs are submitted, 2 when sbatch is missing or refuses them.

Run `hmmsim SUBCOMMAND --help` for a subcommand's options.)";

int cli_main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"hmmsim: a SystemC/TLM model of a GPU with its own MMU and a host HMM driver"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("hmmsim ") + kVersion + " (" + kCommit + ")");
  std::string config, out_dir;
  std::vector<std::string> sets;
  bool quiet = false;
  app.footer(kHelpFooter);
  CLI::App* run = app.add_subcommand("run", "run an experiment config or a scenario file (YAML)");
  run->add_option("config", config,
                  "experiment config (e.g. configs/default.yaml, or a run's OUT/config.json) or scenario file "
                  "(a top-level `scenario:` key, e.g. configs/scenarios/anon_read.yaml)")
      ->required();
  run->add_option("--set", sets, "override a key: --set gpu.sms=4 (repeatable)")->take_all();
  run->add_option("--out,-o", out_dir, "output folder (default: out/<config name>)");
  run->add_flag("--quiet,-q", quiet, "print only where outputs went");
  RunOptions opt;
  run->add_option("--record", opt.record, "write the warp instructions executed to FILE (native trace)");
  run->add_option("--replay", opt.replay, "run the kernels recorded in FILE instead of the config's");
  SweepCommandArgs sweep_args;
  CLI::App* sweep = add_sweep_command(app, sweep_args);
  ReportCommandArgs report_args;
  CLI::App* report = add_report_command(app, report_args);
  TraceCommandArgs targs;
  CLI::App* trace = app.add_subcommand("trace", "look into a trace or convert it to hmmsim's native format");
  trace->require_subcommand(1);
  for (const char* action : {"info", "head", "convert"}) {
    CLI::App* sub = trace->add_subcommand(action, std::string(action) == "info"      ? "what a trace holds, kernel by kernel"
                                                  : std::string(action) == "head" ? "the first instructions of a kernel"
                                                                                  : "write a trace in the native format");
    sub->add_option("input", targs.input, "trace: kernelslist.g, a .traceg[.xz], NVBit text or a native file")
        ->required();
    sub->add_option("--format", targs.format, "accelsim, nvbit, native or auto (default: auto)")
        ->check(CLI::IsMember({"auto", "accelsim", "nvbit", "native"}));
    if (std::string(action) == "head") {
      sub->add_option("-n,--count", targs.count, "instructions to show (default 20)");
      sub->add_option("--kernel", targs.kernel, "which kernel, from 0 (default 0)");
    }
    if (std::string(action) == "convert") {
      sub->add_option("output", targs.output, "the native file to write (.txt: the text form)")->required();
      sub->add_flag("--text", targs.text, "write the text form");
    }
    sub->callback([&targs, action] { targs.action = action; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::ostream& os = e.get_exit_code() == 0 ? out : err;
    const int rc = app.exit(e, os, os);
    return rc == 0 ? 0 : 2;
  }
  if (run->parsed()) return run_command(config, sets, out_dir, quiet, opt, out, err);
  if (trace->parsed()) return trace_command(targs, out, err);
  if (report->parsed()) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return report_command(report_args, ec ? std::string(argv[0]) : self.string(), out, err);
  }
  if (sweep->parsed()) {
    std::error_code ec;
    const fs::path self = fs::read_symlink("/proc/self/exe", ec);
    return sweep_command(sweep_args, ec ? std::string(argv[0]) : self.string(), out, err);
  }
  return 2;
}

}  // namespace hmmsim::sim
