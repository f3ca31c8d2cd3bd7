// FUZZ_CHECK: an oracle failure inside a fuzz target. Aborts (libFuzzer
// records the input as a crash; the corpus driver's test fails) with the
// condition and a message.
#ifndef TESTS_FUZZ_FUZZ_CHECK_H_
#define TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>
#include <string>

#define FUZZ_CHECK(condition, message)                                     \
  do {                                                                     \
    if (!(condition)) {                                                    \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK(%s) failed: %s\n", __FILE__, \
                   __LINE__, #condition, std::string(message).c_str());    \
      std::abort();                                                        \
    }                                                                      \
  } while (0)

#endif  // TESTS_FUZZ_FUZZ_CHECK_H_
