// One temporary file per fuzz process, rewritten with each input, for entry
// points that take a path (Database::Open, ExtractMmdb).
#ifndef TESTS_FUZZ_TEMP_INPUT_FILE_H_
#define TESTS_FUZZ_TEMP_INPUT_FILE_H_

#include <fcntl.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <string>

#include "tests/fuzz/fuzz_check.h"

namespace geo::fuzz {

// Writes `data` as the whole content of the process's temp file (suffix
// `suffix`) and returns its path. The file is replaced, not rewritten in
// place, so an mmap from the previous input never sees the new bytes.
inline std::string WriteTempInput(const uint8_t* data, size_t size,
                                  const std::string& suffix) {
  static const std::string* const dir = [] {
    const char* base = std::getenv("TEST_TMPDIR");
    if (base == nullptr) base = std::getenv("TMPDIR");
    std::string pattern =
        std::string(base != nullptr ? base : "/tmp") + "/geo_fuzz.XXXXXX";
    FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, pattern);
    return new std::string(pattern);
  }();
  const std::string path = *dir + "/input" + suffix;
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  FUZZ_CHECK(fd >= 0, temporary);
  size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    FUZZ_CHECK(n > 0, temporary);
    written += static_cast<size_t>(n);
  }
  close(fd);
  FUZZ_CHECK(rename(temporary.c_str(), path.c_str()) == 0, path);
  return path;
}

}  // namespace geo::fuzz

#endif  // TESTS_FUZZ_TEMP_INPUT_FILE_H_
