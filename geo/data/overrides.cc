#include "geo/data/overrides.h"

#include <fstream>
#include <functional>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "geo/data/country_codes.h"

namespace geo {
namespace {

constexpr size_t kMaxFileBytes = size_t{64} << 20;
// RFC 8805's five columns, then asn and organization.
constexpr size_t kMinColumns = 5;
constexpr size_t kMaxColumns = 7;

bool IsAlnum(absl::string_view text) {
  for (const char c : text) {
    if (!absl::ascii_isalnum(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// Printable text without control characters (a city, a postal code, an
// organisation).
bool IsText(absl::string_view text) {
  for (const char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace

void OverrideEntry::ApplyTo(geo::v1::LookupResponse* response) const {
  geo::v1::LocalOverride* applied = response->mutable_local_override();
  applied->set_network(network.ToString());
  if (overrides_location()) {
    response->clear_continent();
    response->clear_location();
    response->clear_represented_country();
    response->clear_country();
    response->clear_subdivisions();
    response->clear_city();
    response->clear_postal();
    if (!country.empty()) response->mutable_country()->set_iso_code(country);
    if (!subdivision.empty()) {
      response->add_subdivisions()->set_iso_code(subdivision);
    }
    if (!city.empty()) response->mutable_city()->set_name(city);
    if (!postal.empty()) response->mutable_postal()->set_code(postal);
    for (const char* field : {"country", "subdivisions", "city", "postal"}) {
      applied->add_fields(field);
    }
  }
  if (overrides_autonomous_system()) {
    geo::v1::AutonomousSystem* system = response->mutable_autonomous_system();
    system->Clear();
    system->set_number(asn);
    system->set_organization(organization);
    system->set_network(network.ToString());
    applied->add_fields("autonomous_system");
  }
  response->set_found(true);
  if (response->network().empty()) response->set_network(network.ToString());
}

absl::StatusOr<std::shared_ptr<const Overrides>> Overrides::Parse(
    absl::string_view content, absl::string_view name) {
  std::shared_ptr<Overrides> overrides(new Overrides());
  std::map<int, absl::flat_hash_map<Key, const OverrideEntry*>,
           std::greater<int>>
      levels;
  int line_number = 0;
  const auto error = [&](absl::string_view message) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " line ", line_number, ": ", message));
  };
  for (absl::string_view raw : absl::StrSplit(content, '\n')) {
    ++line_number;
    absl::string_view line = absl::StripAsciiWhitespace(raw);
    if (line.empty() || line[0] == '#') continue;
    std::vector<absl::string_view> columns = absl::StrSplit(line, ',');
    if (columns.size() < kMinColumns || columns.size() > kMaxColumns) {
      return error(absl::StrCat("has ", columns.size(),
                                " columns; want prefix,country,region,city,"
                                "postal[,asn[,organization]]"));
    }
    for (absl::string_view& column : columns) {
      column = absl::StripAsciiWhitespace(column);
      if (!IsText(column)) return error("has a control character");
    }
    absl::StatusOr<IpNetwork> network = IpNetwork::Parse(columns[0]);
    if (!network.ok()) return error(network.status().message());
    auto entry = std::make_unique<OverrideEntry>(*network);
    entry->line = line_number;
    entry->country = absl::AsciiStrToUpper(columns[1]);
    if (!entry->country.empty() && !IsCountryCode(entry->country)) {
      return error(absl::StrCat("\"", columns[1],
                                "\" is not an ISO 3166-1 alpha-2 country "
                                "code"));
    }
    const std::string region = absl::AsciiStrToUpper(columns[2]);
    if (!region.empty()) {
      const size_t dash = region.find('-');
      const absl::string_view part =
          dash == std::string::npos
              ? ""
              : absl::string_view(region).substr(dash + 1);
      if (dash != 2 || part.empty() || part.size() > 3 || !IsAlnum(part)) {
        return error(absl::StrCat("\"", columns[2],
                                  "\" is not an ISO 3166-2 code like "
                                  "\"US-CA\""));
      }
      if (entry->country.empty() || region.substr(0, 2) != entry->country) {
        return error(absl::StrCat("region \"", columns[2],
                                  "\" is not in country \"", columns[1], "\""));
      }
      entry->subdivision = std::string(part);
    }
    entry->city = std::string(columns[3]);
    entry->postal = std::string(columns[4]);
    if (columns.size() > 5 && !columns[5].empty()) {
      absl::string_view digits = columns[5];
      if (absl::StartsWithIgnoreCase(digits, "AS")) digits.remove_prefix(2);
      uint32_t asn = 0;
      if (!absl::SimpleAtoi(digits, &asn) || asn == 0 || !IsAlnum(digits)) {
        return error(absl::StrCat("\"", columns[5],
                                  "\" is not an autonomous system number"));
      }
      entry->asn = asn;
    }
    if (columns.size() > 6) entry->organization = std::string(columns[6]);
    if (!entry->overrides_location() && !entry->overrides_autonomous_system()) {
      return error(
          "overrides nothing (every column after the prefix is "
          "empty)");
    }
    const int prefix_length = entry->network.prefix_length() +
                              (entry->network.address().is_v4() ? 96 : 0);
    const Key key =
        MaskHalves(HalvesOf(entry->network.address()), prefix_length);
    const auto [it, inserted] = levels[prefix_length].emplace(key, entry.get());
    if (!inserted) {
      return error(absl::StrCat("prefix ", entry->network.ToString(),
                                " is also on line ", it->second->line));
    }
    overrides->entries_.push_back(std::move(entry));
  }
  for (auto& [prefix_length, entries] : levels) {
    overrides->levels_.push_back({prefix_length, std::move(entries)});
  }
  return std::shared_ptr<const Overrides>(std::move(overrides));
}

absl::StatusOr<std::shared_ptr<const Overrides>> Overrides::FromFile(
    const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::NotFoundError(absl::StrCat("cannot read overrides ", path));
  }
  std::string content;
  char buffer[64 * 1024];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    content.append(buffer, static_cast<size_t>(in.gcount()));
    if (content.size() > kMaxFileBytes) {
      return absl::InvalidArgumentError(absl::StrCat(
          "overrides ", path, " is larger than ", kMaxFileBytes, " bytes"));
    }
  }
  return Parse(content, path);
}

const OverrideEntry* Overrides::Find(const IpAddress& ip) const {
  if (levels_.empty()) return nullptr;
  const Key key = HalvesOf(ip);
  for (const Level& level : levels_) {
    const auto it = level.entries.find(MaskHalves(key, level.prefix_length));
    if (it != level.entries.end()) return it->second;
  }
  return nullptr;
}

}  // namespace geo
