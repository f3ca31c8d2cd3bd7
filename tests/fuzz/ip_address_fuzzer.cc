// IpAddress::Parse and IpNetwork::Parse on arbitrary text. Oracle: whatever
// parses prints in canonical form and parses back to the same value, and a
// network contains its own address.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/ip_address.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

// `parsed` is either INVALID_ARGUMENT or a value whose canonical text parses
// back to the same value; the canonical text of a value.
template <typename T>
std::optional<std::string> CheckRoundTrip(const absl::StatusOr<T>& parsed) {
  if (!parsed.ok()) {
    FUZZ_CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument,
               parsed.status().ToString());
    return std::nullopt;
  }
  const std::string canonical = parsed->ToString();
  absl::StatusOr<T> again = T::Parse(canonical);
  FUZZ_CHECK(again.ok(), canonical);
  FUZZ_CHECK(*again == *parsed, canonical);
  return canonical;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  const absl::StatusOr<geo::IpAddress> ip = geo::IpAddress::Parse(text);
  if (const std::optional<std::string> canonical = CheckRoundTrip(ip)) {
    FUZZ_CHECK(ip->Unmapped().MappedToV6().Unmapped() == ip->Unmapped(),
               *canonical);
    (void)ip->IsPrivateOrReserved();
  }

  const absl::StatusOr<geo::IpNetwork> network = geo::IpNetwork::Parse(text);
  if (const std::optional<std::string> canonical = CheckRoundTrip(network)) {
    FUZZ_CHECK(network->Contains(network->address()), *canonical);
  }
  return 0;
}
