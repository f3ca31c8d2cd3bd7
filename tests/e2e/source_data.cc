#include "tests/e2e/source_data.h"

#include <array>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "geo/data/source_records.h"

namespace geo::testing {
namespace {

const google::protobuf::Value* ValueAt(const google::protobuf::Struct& record,
                                       const std::string& path) {
  const google::protobuf::Value* current = nullptr;
  const google::protobuf::Struct* object = &record;
  const google::protobuf::ListValue* list = nullptr;
  for (absl::string_view part : absl::StrSplit(path, '.')) {
    if (object != nullptr) {
      auto it = object->fields().find(std::string(part));
      if (it == object->fields().end()) return nullptr;
      current = &it->second;
    } else if (list != nullptr) {
      int index = 0;
      if (!absl::SimpleAtoi(part, &index) || index < 0 ||
          index >= list->values_size()) {
        return nullptr;
      }
      current = &list->values(index);
    } else {
      return nullptr;
    }
    object = current->has_struct_value() ? &current->struct_value() : nullptr;
    list = current->has_list_value() ? &current->list_value() : nullptr;
  }
  return current;
}

}  // namespace

absl::StatusOr<std::vector<SourceRecord>> LoadSourceRecords(
    const std::string& path) {
  absl::StatusOr<std::vector<SourceNetwork>> networks =
      LoadSourceNetworks(path);
  if (!networks.ok()) return networks.status();
  std::vector<SourceRecord> records;
  records.reserve(networks->size());
  for (SourceNetwork& source : *networks) {
    records.push_back({source.network, source.network.address().ToString(),
                       std::move(source.record)});
  }
  return records;
}

std::string StringAt(const google::protobuf::Struct& record,
                     const std::string& path) {
  const google::protobuf::Value* value = ValueAt(record, path);
  return value != nullptr && value->has_string_value() ? value->string_value()
                                                       : "";
}

double NumberAt(const google::protobuf::Struct& record,
                const std::string& path) {
  const google::protobuf::Value* value = ValueAt(record, path);
  return value != nullptr && value->has_number_value() ? value->number_value()
                                                       : 0;
}

const SourceRecord* FindIpv4(
    const std::vector<SourceRecord>& records,
    const std::function<bool(const SourceRecord&)>& want) {
  for (const SourceRecord& record : records) {
    if (record.address.find(':') == std::string::npos && want(record)) {
      return &record;
    }
  }
  return nullptr;
}

bool Uncovered(const std::vector<SourceRecord>& records,
               const IpAddress& address) {
  // The tree keeps IPv4 under ::a.b.c.d, so an IPv6 network of the source
  // that holds that form covers the IPv4 address too.
  std::array<uint8_t, 16> compatible{};
  if (address.is_v4()) {
    for (int i = 0; i < 4; ++i) compatible[12 + i] = address.bytes()[i];
  }
  const IpAddress as_compatible = IpAddress::FromV6Bytes(compatible);
  for (const SourceRecord& record : records) {
    if (record.network.Contains(address)) return false;
    if (address.is_v4() && record.network.Contains(as_compatible)) return false;
  }
  return true;
}

}  // namespace geo::testing
