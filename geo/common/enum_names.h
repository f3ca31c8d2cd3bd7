// Tables that pair each value of a small enum with its name (a metric label,
// a setting's value, a status payload), read both ways by a scan, so that a
// name is written once for both directions.
#ifndef GEO_COMMON_ENUM_NAMES_H_
#define GEO_COMMON_ENUM_NAMES_H_

#include <cstddef>
#include <optional>

#include "absl/strings/string_view.h"

namespace geo {

template <typename Enum>
struct EnumName {
  Enum value;
  absl::string_view name;
};

// The name `names` gives `value`, or `fallback` when it lists no such value.
template <typename Enum, size_t N>
constexpr absl::string_view NameOf(const EnumName<Enum> (&names)[N], Enum value,
                                   absl::string_view fallback) {
  for (const EnumName<Enum>& entry : names) {
    if (entry.value == value) return entry.name;
  }
  return fallback;
}

// The value `names` calls `name` (case-sensitive), or nullopt. `name` is
// any text that compares with a string_view where it lies (a string_view, a
// std::string, an absl::Cord payload), so nothing is copied to look it up.
template <typename Enum, size_t N, typename Text>
constexpr std::optional<Enum> ValueNamed(const EnumName<Enum> (&names)[N],
                                         const Text& name) {
  for (const EnumName<Enum>& entry : names) {
    if (name == entry.name) return entry.value;
  }
  return std::nullopt;
}

}  // namespace geo

#endif  // GEO_COMMON_ENUM_NAMES_H_
