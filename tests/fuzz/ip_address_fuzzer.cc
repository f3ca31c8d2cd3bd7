// IpAddress::Parse and IpNetwork::Parse on arbitrary text. Oracle: whatever
// parses prints in canonical form and parses back to the same value, and a
// network contains its own address.
#include <cstddef>
#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "geo/common/ip_address.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);

  absl::StatusOr<geo::IpAddress> ip = geo::IpAddress::Parse(text);
  if (ip.ok()) {
    const std::string canonical = ip->ToString();
    absl::StatusOr<geo::IpAddress> again = geo::IpAddress::Parse(canonical);
    FUZZ_CHECK(again.ok(), canonical);
    FUZZ_CHECK(*again == *ip, canonical);
    FUZZ_CHECK(ip->Unmapped().MappedToV6().Unmapped() == ip->Unmapped(),
               canonical);
    (void)ip->IsPrivateOrReserved();
  } else {
    FUZZ_CHECK(ip.status().code() == absl::StatusCode::kInvalidArgument,
               ip.status().ToString());
  }

  absl::StatusOr<geo::IpNetwork> network = geo::IpNetwork::Parse(text);
  if (network.ok()) {
    const std::string canonical = network->ToString();
    absl::StatusOr<geo::IpNetwork> again = geo::IpNetwork::Parse(canonical);
    FUZZ_CHECK(again.ok(), canonical);
    FUZZ_CHECK(*again == *network, canonical);
    FUZZ_CHECK(network->Contains(network->address()), canonical);
  } else {
    FUZZ_CHECK(network.status().code() == absl::StatusCode::kInvalidArgument,
               network.status().ToString());
  }
  return 0;
}
