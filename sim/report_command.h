#pragma once
// `hmmsim report OUTDIR [-o FILE] [--stat KEY]... [--points]`: a run's or a
// sweep's output folder as one self-contained HTML page with plots. The work
// is scripts/report.py, run with a python3 that has matplotlib; this finds
// both and passes the arguments on (docs/outputs.md, "Reports").
//
// The script: $HMMSIM_REPORT_SCRIPT, else the source tree's scripts/report.py
// this hmmsim was built from, else scripts/report.py two or one folders above
// the hmmsim binary. The interpreter: $HMMSIM_PYTHON, else /usr/bin/python3
// (Debian's, where python3-matplotlib installs), else python3 on the PATH.
// Exit codes are the script's: 0 written, 2 bad input or no matplotlib, 1 the
// page cannot be written; 2 as well when the script or interpreter is missing.
#include <iosfwd>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace hmmsim::sim {

struct ReportCommandArgs {
  std::string dir;
  std::string output;              // -o: default DIR/report.html
  std::vector<std::string> stats;  // --stat
  bool points = false;             // --points: each point's report too
};

// Adds `report` to `app`; returns it.
CLI::App* add_report_command(CLI::App& app, ReportCommandArgs& a);
// After parsing, when `report` was given; `exe` is this hmmsim (absolute).
int report_command(const ReportCommandArgs& a, const std::string& exe, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
