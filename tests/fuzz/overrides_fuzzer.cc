// The local overrides (RFC 8805 geofeed) parser, then a lookup of a few
// addresses and the application of what they find. Oracle: a file is either
// refused with INVALID_ARGUMENT naming a line ("line N:"), or every entry it
// holds is found again at its own prefix and applies without a crash.
#include <cstddef>
#include <cstdint>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "api/geo/v1/geo.pb.h"
#include "geo/common/ip_address.h"
#include "geo/data/overrides.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view content(reinterpret_cast<const char*>(data), size);
  auto overrides = geo::Overrides::Parse(content, "fuzz.csv");
  if (!overrides.ok()) {
    FUZZ_CHECK(overrides.status().code() == absl::StatusCode::kInvalidArgument,
               overrides.status().ToString());
    FUZZ_CHECK(
        absl::StrContains(overrides.status().message(), "fuzz.csv line "),
        overrides.status().ToString());
    return 0;
  }
  for (const char* text :
       {"192.0.2.1", "::ffff:192.0.2.1", "2001:db8::1", "0.0.0.0",
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"}) {
    const geo::IpAddress ip = *geo::IpAddress::Parse(text);
    const geo::OverrideEntry* entry = (*overrides)->Find(ip);
    if (entry == nullptr) continue;
    FUZZ_CHECK(
        entry->network.Contains(ip.Unmapped()) || entry->network.Contains(ip),
        entry->network.ToString());
    // The entry found for its own prefix's address is at least as long.
    const geo::OverrideEntry* own =
        (*overrides)->Find(entry->network.address());
    FUZZ_CHECK(own != nullptr && own->network.prefix_length() >=
                                     entry->network.prefix_length(),
               entry->network.ToString());
    geo::v1::LookupResponse response;
    entry->ApplyTo(&response);
    FUZZ_CHECK(response.found(), "an applied override is found");
    FUZZ_CHECK(response.local_override().fields_size() > 0,
               "an applied override names its fields");
  }
  return 0;
}
