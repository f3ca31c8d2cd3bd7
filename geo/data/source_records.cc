#include "geo/data/source_records.h"

#include <array>
#include <cstdlib>
#include <cstring>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/test_files.h"

namespace geo {
namespace testing {
namespace {

using ::google::protobuf::FieldDescriptor;
using ::google::protobuf::Message;
using ::google::protobuf::Reflection;
using ::google::protobuf::Struct;
using ::google::protobuf::Value;

// Where MaxMind's network keys go in the API, the way the GeoIP2 web
// services place them: the same key means the same field whether it is at
// the top level (ISP, Connection Type, Domain, Anonymous IP, Density/Income,
// ASN records) or under `traits` (Enterprise records). Keys not listed keep
// their path (`city.confidence` is `city.confidence`).
const std::map<std::string, std::vector<std::string>>& NetworkKeys() {
  static const auto* keys = new std::map<std::string, std::vector<std::string>>{
      {"autonomous_system_number", {"autonomous_system", "number"}},
      {"autonomous_system_organization", {"autonomous_system", "organization"}},
      {"isp", {"traits", "isp"}},
      {"organization", {"traits", "organization"}},
      {"connection_type", {"traits", "connection_type"}},
      {"domain", {"traits", "domain"}},
      {"user_type", {"traits", "user_type"}},
      {"user_count", {"traits", "user_count"}},
      {"static_ip_score", {"traits", "static_ip_score"}},
      {"is_legitimate_proxy", {"traits", "is_legitimate_proxy"}},
      {"mobile_country_code", {"traits", "mobile_country_code"}},
      {"mobile_network_code", {"traits", "mobile_network_code"}},
      {"is_anonymous", {"anonymizer", "is_anonymous"}},
      {"is_anonymous_vpn", {"anonymizer", "is_anonymous_vpn"}},
      {"is_hosting_provider", {"anonymizer", "is_hosting_provider"}},
      {"is_public_proxy", {"anonymizer", "is_public_proxy"}},
      {"is_residential_proxy", {"anonymizer", "is_residential_proxy"}},
      {"is_tor_exit_node", {"anonymizer", "is_tor_exit_node"}},
      {"average_income", {"location", "average_income"}},
      {"population_density", {"location", "population_density"}},
  };
  return *keys;
}

// Networks inside ::/96 with a prefix of at least 96 are IPv4 networks
// written in IPv6 notation (the writer aliases them); users look them up as
// IPv4.
absl::StatusOr<IpNetwork> ToNetwork(const std::string& cidr) {
  // The source has networks with host bits set ("::74.209.24.0/116"); the
  // writer masks them, and so does FromAddress.
  const size_t slash = cidr.find('/');
  int prefix = 0;
  if (slash == std::string::npos ||
      !absl::SimpleAtoi(cidr.substr(slash + 1), &prefix)) {
    return absl::InvalidArgumentError(absl::StrCat("bad network ", cidr));
  }
  absl::StatusOr<IpAddress> address = IpAddress::Parse(cidr.substr(0, slash));
  if (!address.ok()) return address.status();
  if (address->is_v6() && prefix >= 96) {
    bool embedded_v4 = true;
    for (int i = 0; i < 12; ++i) embedded_v4 &= address->bytes()[i] == 0;
    if (embedded_v4) {
      const uint8_t* b = address->bytes();
      return IpNetwork::FromAddress(
          IpAddress::FromV4Bytes({b[12], b[13], b[14], b[15]}), prefix - 96);
    }
  }
  return IpNetwork::FromAddress(*address, prefix);
}

// The address of `network` with host bits set to `pattern`: 0 first, 1 last,
// 2 the middle, 3 just below the middle.
IpAddress HostAddress(const IpNetwork& network, int pattern) {
  std::array<uint8_t, 16> bytes{};
  const IpAddress& base = network.address();
  std::memcpy(bytes.data(), base.bytes(), base.byte_length());
  for (int bit = network.prefix_length(); bit < base.bit_length(); ++bit) {
    const bool first_host_bit = bit == network.prefix_length();
    bool set = false;
    if (pattern == 1) set = true;
    if (pattern == 2) set = first_host_bit;
    if (pattern == 3) set = !first_host_bit;
    if (set) bytes[bit / 8] |= static_cast<uint8_t>(0x80 >> (bit % 8));
  }
  if (base.is_v4()) {
    return IpAddress::FromV4Bytes({bytes[0], bytes[1], bytes[2], bytes[3]});
  }
  return IpAddress::FromV6Bytes(bytes);
}

absl::Status Unmapped(const std::vector<std::string>& path,
                      absl::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("source field ", absl::StrJoin(path, "."), ": ", why));
}

// Sets the scalar `field` of `message` from a source value. The source writes
// numbers as numbers or strings ("geoname_id": "2655045") and flags as
// booleans or 0/1.
absl::Status SetScalar(const std::vector<std::string>& path,
                       const FieldDescriptor* field, const Value& value,
                       Message* message) {
  const Reflection* reflection = message->GetReflection();
  double number = 0;
  const bool numeric = value.has_number_value() ||
                       (value.has_string_value() &&
                        absl::SimpleAtod(value.string_value(), &number));
  if (value.has_number_value()) number = value.number_value();
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING:
      if (!value.has_string_value()) return Unmapped(path, "not a string");
      reflection->SetString(message, field, value.string_value());
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_UINT32:
      if (!numeric || number < 0) return Unmapped(path, "not a uint32");
      reflection->SetUInt32(message, field, static_cast<uint32_t>(number));
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_DOUBLE:
      if (!numeric) return Unmapped(path, "not a number");
      reflection->SetDouble(message, field, number);
      return absl::OkStatus();
    case FieldDescriptor::CPPTYPE_BOOL:
      if (value.has_bool_value()) {
        reflection->SetBool(message, field, value.bool_value());
      } else if (numeric) {
        reflection->SetBool(message, field, number != 0);
      } else {
        return Unmapped(path, "not a flag");
      }
      return absl::OkStatus();
    default:
      return Unmapped(path, "API field has an unexpected type");
  }
}

absl::Status SetPath(const std::vector<std::string>& source_path,
                     const std::vector<std::string>& api_path,
                     const Value& value, const std::string& language,
                     Message* message);

// `value` belongs at `api_path[index..]` of `message`.
absl::Status SetAt(const std::vector<std::string>& source_path,
                   const std::vector<std::string>& api_path, size_t index,
                   const Value& value, const std::string& language,
                   Message* message) {
  const std::string& name = api_path[index];
  if (name == "names") {
    // A place's names: the API carries the one in `language`, else English.
    if (!value.has_struct_value() || index + 1 != api_path.size()) {
      return Unmapped(source_path, "names is not a map");
    }
    const FieldDescriptor* field =
        message->GetDescriptor()->FindFieldByName("name");
    if (field == nullptr) return Unmapped(source_path, "no API name field");
    const auto& names = value.struct_value().fields();
    auto it = names.find(language);
    if (it == names.end()) it = names.find("en");
    if (it == names.end()) return absl::OkStatus();
    return SetScalar(source_path, field, it->second, message);
  }
  const FieldDescriptor* field =
      message->GetDescriptor()->FindFieldByName(name);
  if (field == nullptr) return Unmapped(source_path, "no API field");
  const Reflection* reflection = message->GetReflection();
  if (field->is_repeated()) {
    if (field->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
        !value.has_list_value()) {
      return Unmapped(source_path, "list shape differs");
    }
    for (const Value& item : value.list_value().values()) {
      Message* element = reflection->AddMessage(message, field);
      if (!item.has_struct_value()) return Unmapped(source_path, "not a map");
      for (const auto& [key, child] : item.struct_value().fields()) {
        std::vector<std::string> child_source = source_path;
        child_source.push_back(key);
        absl::Status status =
            SetPath(child_source, {key}, child, language, element);
        if (!status.ok()) return status;
      }
    }
    return absl::OkStatus();
  }
  if (field->cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
    Message* child = reflection->MutableMessage(message, field);
    if (index + 1 < api_path.size()) {
      return SetAt(source_path, api_path, index + 1, value, language, child);
    }
    if (!value.has_struct_value()) return Unmapped(source_path, "not a map");
    for (const auto& [key, item] : value.struct_value().fields()) {
      std::vector<std::string> item_source = source_path;
      item_source.push_back(key);
      // Inside traits, the network keys go where they go at the top level.
      std::vector<std::string> item_api = {key};
      if (name == "traits") {
        auto mapped = NetworkKeys().find(key);
        if (mapped != NetworkKeys().end()) {
          absl::Status status =
              SetPath(item_source, mapped->second, item, language, message);
          if (!status.ok()) return status;
          continue;
        }
      }
      absl::Status status =
          SetPath(item_source, item_api, item, language, child);
      if (!status.ok()) return status;
    }
    return absl::OkStatus();
  }
  if (index + 1 != api_path.size()) {
    return Unmapped(source_path, "API field is not a message");
  }
  return SetScalar(source_path, field, value, message);
}

absl::Status SetPath(const std::vector<std::string>& source_path,
                     const std::vector<std::string>& api_path,
                     const Value& value, const std::string& language,
                     Message* message) {
  return SetAt(source_path, api_path, 0, value, language, message);
}

}  // namespace

absl::StatusOr<std::vector<SourceNetwork>> LoadSourceNetworks(
    const std::string& json_path) {
  const std::string json = ReadFile(json_path);
  if (json.empty()) {
    return absl::NotFoundError(absl::StrCat("cannot read ", json_path));
  }
  google::protobuf::ListValue list;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &list);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(json_path, ": ", parsed.ToString()));
  }
  std::map<std::string, size_t> index;
  std::vector<SourceNetwork> networks;
  for (const Value& item : list.values()) {
    for (const auto& [cidr, record] : item.struct_value().fields()) {
      absl::StatusOr<IpNetwork> network = ToNetwork(cidr);
      if (!network.ok()) return network.status();
      SourceNetwork source{*network, record.struct_value()};
      auto [it, inserted] =
          index.emplace(source.network.ToString(), networks.size());
      if (inserted) {
        networks.push_back(std::move(source));
      } else {
        networks[it->second] = std::move(source);
      }
    }
  }
  return networks;
}

bool ProbeAddress(const SourceNetwork& source,
                  const std::vector<SourceNetwork>& all, IpAddress* probe) {
  for (int pattern = 0; pattern < 4; ++pattern) {
    const IpAddress candidate = HostAddress(source.network, pattern);
    bool shadowed = false;
    for (const SourceNetwork& other : all) {
      if (other.network.prefix_length() > source.network.prefix_length() &&
          other.network.address().is_v4() == candidate.is_v4() &&
          other.network.Contains(candidate)) {
        shadowed = true;
        break;
      }
    }
    if (!shadowed) {
      *probe = candidate;
      return true;
    }
  }
  return false;
}

const SourceNetwork* MostSpecific(const std::vector<SourceNetwork>& all,
                                  const IpAddress& address) {
  const SourceNetwork* best = nullptr;
  for (const SourceNetwork& source : all) {
    if (source.network.address().is_v4() != address.is_v4()) continue;
    if (!source.network.Contains(address)) continue;
    if (best == nullptr ||
        source.network.prefix_length() > best->network.prefix_length()) {
      best = &source;
    }
  }
  return best;
}

absl::Status SourceToFields(const Struct& record, const std::string& language,
                            geo::v1::LookupResponse* fields,
                            bool* has_subdivisions) {
  *has_subdivisions = record.fields().count("subdivisions") > 0;
  for (const auto& [key, value] : record.fields()) {
    auto mapped = NetworkKeys().find(key);
    const std::vector<std::string> api_path =
        mapped != NetworkKeys().end() ? mapped->second
                                      : std::vector<std::string>{key};
    absl::Status status = SetPath({key}, api_path, value, language, fields);
    if (!status.ok()) return status;
  }
  return absl::OkStatus();
}

}  // namespace testing
}  // namespace geo
