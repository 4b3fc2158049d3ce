// libsystemc.so defines main() and calls sc_main(); hmm_bench uses Google
// Benchmark's main instead, but the library still needs the symbol (with
// the C linkage <systemc> declares).
#include <systemc>

int sc_main(int, char**) { return 0; }
