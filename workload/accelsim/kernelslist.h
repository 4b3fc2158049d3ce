#pragma once
// Accel-Sim program description: `kernelslist.g`, one command per line,
//   MemcpyHtoD,0x<dst>,<bytes>   a host-to-device copy (bytes in decimal)
//   kernel-N.traceg[.xz]         a launch (any line starting with "kernel"),
//                                named relative to the list's folder
// blank lines ignored. A folder stands for its kernelslist.g; a `.traceg`
// or `.traceg.xz` file stands for a program of that one kernel.
#include <string>

#include "workload/io/trace_program.h"

namespace hmmsim::workload::accelsim {

// Every kernel file named must exist (checked here, read later). Throws
// hw::SourceError "<list>:<line>: <what was expected>".
TraceProgram load_program(const std::string& path);

}  // namespace hmmsim::workload::accelsim
