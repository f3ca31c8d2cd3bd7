// What every binary's settings table must satisfy, for that binary's tests.
#ifndef GEO_COMMON_SETTINGS_TESTING_H_
#define GEO_COMMON_SETTINGS_TESTING_H_

#include <string>

#include "absl/strings/str_cat.h"
#include "geo/common/settings.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::settings::testing {

// Every default of `table` parses (a default-constructed options struct
// aborts otherwise), and its --help names every setting: the flag with its
// value or boolean form, every variable read (NAME_FILE variants included),
// every config-file key, and the default unless the setting is a secret.
template <typename Options>
void ExpectDefaultsParseAndUsageNamesEverySetting(
    const SettingsTable<Options>& table) {
  const absl::Status defaults = table.CheckDefaults();
  EXPECT_TRUE(defaults.ok()) << defaults;
  const std::string usage = table.Usage();
  for (const SettingSpec& spec : table.specs()) {
    SCOPED_TRACE(spec.DisplayName());
    if (!spec.flag.empty()) {
      EXPECT_THAT(usage, ::testing::HasSubstr(absl::StrCat(
                             "  --", spec.flag, spec.is_bool ? "[" : "=")));
    }
    for (const std::string& name : spec.EnvironmentNames()) {
      EXPECT_THAT(usage, ::testing::HasSubstr(name));
    }
    for (const std::string& key : spec.conf_keys) {
      EXPECT_THAT(usage, ::testing::HasSubstr(key));
    }
    if (spec.default_value.has_value() && !spec.secret) {
      EXPECT_THAT(usage, ::testing::HasSubstr(absl::StrCat(
                             "default: \"", *spec.default_value, "\"")));
    }
  }
}

}  // namespace geo::settings::testing

#endif  // GEO_COMMON_SETTINGS_TESTING_H_
