// The MaxMind metadata response ({"databases":[{"edition_id","md5","date"}]})
// as the updater parses it. Oracle: failures are DATA_LOSS or NOT_FOUND (the
// updater's retry policy depends on the code); an accepted entry names the
// edition asked for and carries a 32-character md5.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "tests/fuzz/fuzz_check.h"
#include "updater/maxmind_source.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view json(reinterpret_cast<const char*>(data), size);
  auto metadata = geo::updater::ParseMaxMindMetadata(json, "GeoLite2-City");
  if (!metadata.ok()) {
    FUZZ_CHECK(metadata.status().code() == absl::StatusCode::kDataLoss ||
                   metadata.status().code() == absl::StatusCode::kNotFound,
               metadata.status().ToString());
    return 0;
  }
  FUZZ_CHECK(metadata->edition == "GeoLite2-City", metadata->edition);
  FUZZ_CHECK(metadata->md5.size() == 32, metadata->md5);
  return 0;
}
