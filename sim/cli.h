#pragma once
// The command line: `hmmsim run CONFIG [--set key=value]... [--out DIR]`.
// Exit codes: 0 success, 1 failed expectation or fatal simulated error,
// 2 bad input (config, arguments).
#include <iosfwd>

namespace hmmsim::sim {

int cli_main(int argc, char** argv, std::ostream& out, std::ostream& err);

}  // namespace hmmsim::sim
