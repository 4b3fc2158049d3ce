// hmmsim entry point. SystemC calls sc_main; everything else is in sim/cli.
#include <cstdlib>
#include <iostream>

#include <systemc>

#include "sim/cli.h"

namespace {
// SystemC prints its banner when the kernel starts unless told otherwise;
// set the variable before any SystemC object exists.
const int kQuietBanner = setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0);
}  // namespace

int sc_main(int argc, char** argv) {
  // sc_stop() ends every successful run; that is not news to the user.
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  // Nor is a second sc_stop(): a thread ending the run after host RAM ran
  // out (sim/host_ram.cpp) or another thread already stopped it.
  sc_core::sc_report_handler::set_actions(sc_core::SC_ID_SIMULATION_STOP_CALLED_TWICE_, sc_core::SC_DO_NOTHING);
  return hmmsim::sim::cli_main(argc, argv, std::cout, std::cerr);
}
