#ifndef SUBSTRATE_FUZZ_SUPPORT_H
#define SUBSTRATE_FUZZ_SUPPORT_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver (compiler-rt, LLVM ≥ 12). SwiftPM links executables with `main` = `<Target>_main`, so each
/// target defines that symbol and hands control to the driver with its callback instead of using libFuzzer's main.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
#endif
