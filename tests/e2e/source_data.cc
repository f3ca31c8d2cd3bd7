#include "tests/e2e/source_data.h"

#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/util/json_util.h"
#include "tests/support/test_files.h"

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
  const std::string json = ReadFile(path);
  if (json.empty())
    return absl::NotFoundError(absl::StrCat("cannot read ", path));
  google::protobuf::ListValue list;
  auto status = google::protobuf::util::JsonStringToMessage(json, &list);
  if (!status.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": ", status.ToString()));
  }
  std::vector<SourceRecord> records;
  for (const google::protobuf::Value& entry : list.values()) {
    for (const auto& [cidr, record] : entry.struct_value().fields()) {
      absl::StatusOr<IpNetwork> network = IpNetwork::Parse(cidr);
      if (!network.ok()) return network.status();
      std::string address = network->address().ToString();
      // "::a.b.c.d/N" with N >= 96 is how the source writes IPv4 networks.
      const IpAddress& base = network->address();
      if (base.is_v6() && network->prefix_length() >= 96) {
        bool v4_compatible = true;
        for (int i = 0; i < 12; ++i) v4_compatible &= base.bytes()[i] == 0;
        if (v4_compatible) {
          address = absl::StrCat(base.bytes()[12], ".", base.bytes()[13], ".",
                                 base.bytes()[14], ".", base.bytes()[15]);
        }
      }
      records.push_back({*network, address, record.struct_value()});
    }
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
  // Source networks for IPv4 are written in IPv4-compatible form (::a.b.c.d),
  // so compare in that form as well as directly.
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
