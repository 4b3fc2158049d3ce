#include "sim/sweep_command.h"

#include <iostream>

#include <CLI/CLI.hpp>

namespace hmmsim::sim {

CLI::App* add_sweep_command(CLI::App& app, SweepCommandArgs& a) {
  CLI::App* sweep = app.add_subcommand("sweep", "run an experiment at every point of a sweep file, here or as a "
                                                "Slurm job array (docs/sweeps.md)");
  sweep->add_option("file", a.file, "sweep YAML: a base config and the parameters to vary");
  sweep->add_option("-j,--jobs", a.opt.jobs,
                    "points run at once, each its own process (default 1); with --slurm, at most N array tasks "
                    "at once (instead of slurm.max_parallel)")
      ->check(CLI::Range(1u, 1024u));
  sweep->add_option("--out,-o", a.opt.out_dir, "output folder (default: out/<sweep name>)");
  sweep->add_flag("--quiet,-q", a.opt.quiet, "print only the result line");
  CLI::Option* slurm = sweep->add_flag(
      "--slurm", a.opt.slurm,
      "submit one Slurm array task per point (resources from the file's slurm: section) and a job that merges "
      "them into OUT/results.csv when they have finished");
  sweep->add_flag("--wait", a.opt.wait, "with --slurm: wait for the array and merge here (no merge job)")
      ->needs(slurm);
  sweep->require_subcommand(0, 1);
  a.collect = sweep->add_subcommand("collect", "merge the points of a sweep's folder that have finished into "
                                               "DIR/results.csv (exit 1 if one failed or is missing)");
  a.collect->add_option("dir", a.dir, "the sweep's output folder (it holds sweep.json)")->required();
  a.run_point = sweep->add_subcommand("run-point", "run one point of a sweep's folder (what a Slurm array task runs)");
  a.run_point->add_option("dir", a.dir, "the sweep's output folder (it holds sweep.json)")->required();
  a.run_point->add_option("index", a.index, "the point, from 0")->required();
  a.run_point->group("");  // hidden from --help
  a.sweep = sweep;
  return sweep;
}

int sweep_command(const SweepCommandArgs& a, const std::string& exe, std::ostream& out, std::ostream& err) {
  const bool sub = a.collect->parsed() || a.run_point->parsed();
  if (sub && (!a.file.empty() || a.opt.slurm || !a.opt.out_dir.empty() || a.sweep->count("--jobs"))) {
    err << "hmmsim: sweep " << (a.collect->parsed() ? "collect" : "run-point")
        << " takes a sweep's output folder only (no sweep file, --out, -j or --slurm)\n";
    return 2;
  }
  if (a.collect->parsed()) return collect_sweep(a.dir, out, err);
  if (a.run_point->parsed()) return run_sweep_point(exe, a.dir, a.index, out, err);
  if (a.file.empty()) {
    err << "hmmsim: sweep: a sweep file is required (hmmsim sweep FILE, or hmmsim sweep collect DIR)\n";
    return 2;
  }
  SweepOptions opt = a.opt;
  opt.jobs_given = a.sweep->count("--jobs") > 0;
  return run_sweep(exe, a.file, opt, out, err);
}

}  // namespace hmmsim::sim
