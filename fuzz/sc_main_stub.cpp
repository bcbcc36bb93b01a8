// libsystemc.so calls sc_main() from its own main(); the fuzz targets use libFuzzer's main()
// instead (the executable's wins), but the library still needs the symbol to link.
extern "C" int sc_main(int, char**) {
  return 0;
}
