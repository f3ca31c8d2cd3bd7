#include "geo/data/language.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace geo {
namespace {

TEST(ValidateLanguageTest, AcceptsBcp47ShapedTags) {
  for (const char* tag :
       {"", "en", "de", "pt-BR", "zh-CN", "es", "fr", "ja", "ru", "xx", "ast",
        "zh-Hant-TW", "de-CH-1996", "EN", "en-001", "sgn-BE-FR"}) {
    EXPECT_TRUE(ValidateLanguage(tag).ok()) << tag;
  }
  const std::string longest = "abc-12345678-12345678-12345678-1234";
  ASSERT_EQ(longest.size(), kMaxLanguageBytes);
  EXPECT_TRUE(ValidateLanguage(longest).ok());
}

TEST(ValidateLanguageTest, RefusesEverythingElseWithoutEchoingIt) {
  for (const std::string& tag : std::vector<std::string>{
           "e", "engl", "en-", "-en", "en--US", "en_US", "pt-BR ", " en", "de;",
           "1a", "en-123456789", "de\n", std::string("de\0", 3), "ü",
           "abc-12345678-12345678-12345678-12345", std::string(1 << 20, 'a'),
           std::string(16384, 'x') + "-y"}) {
    const absl::Status status = ValidateLanguage(tag);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << tag;
    EXPECT_EQ(status.message(), kInvalidLanguageMessage);
  }
}

}  // namespace
}  // namespace geo
