// The test binary's entry point. GoogleTest runs inside sc_main so that tests may elaborate and
// simulate SystemC designs. Each test runs in its own process (ctest + gtest_discover_tests),
// because a process can elaborate only one SystemC design.
#include <gtest/gtest.h>

#include <cstdlib>
#include <systemc>

int sc_main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}

// Our own main() takes precedence over the one in libsystemc.so; it silences the SystemC banner,
// which would otherwise pollute test discovery output.
int main(int argc, char** argv) {
  setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 1);
  return sc_core::sc_elab_and_sim(argc, argv);
}
