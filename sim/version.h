#pragma once
// hmmsim's version (CMake's project version) and the source commit it was
// built from (`git describe --always --dirty`, "unknown" outside a clone).

namespace hmmsim::sim {

extern const char* const kVersion;
extern const char* const kCommit;

}  // namespace hmmsim::sim
