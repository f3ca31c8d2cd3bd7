// The updater's archive handling: arbitrary bytes as the downloaded .tar.gz
// (libarchive reads gzip, plain tar, and whatever else it recognises).
// Oracle: failures are DATA_LOSS or OUT_OF_RANGE; a success names a safe
// `.mmdb` entry and streamed no more than the size limit.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "tests/fuzz/temp_input_file.h"
#include "updater/archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string path = geo::fuzz::WriteTempInput(data, size, ".tar.gz");
  constexpr int64_t kMaxBytes = 1 << 20;
  int64_t streamed = 0;
  auto entry = geo::updater::ExtractMmdb(
      path, kMaxBytes, [&streamed](absl::string_view chunk) {
        streamed += static_cast<int64_t>(chunk.size());
        return absl::OkStatus();
      });
  if (!entry.ok()) {
    FUZZ_CHECK(entry.status().code() == absl::StatusCode::kDataLoss ||
                   entry.status().code() == absl::StatusCode::kOutOfRange,
               entry.status().ToString());
    return 0;
  }
  FUZZ_CHECK(absl::EndsWith(*entry, ".mmdb"), *entry);
  FUZZ_CHECK(!geo::updater::IsUnsafeEntryPath(*entry), *entry);
  FUZZ_CHECK(streamed <= kMaxBytes, *entry);
  return 0;
}
