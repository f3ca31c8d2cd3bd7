#include "geo/common/text_template.h"

#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace geo {
namespace {

TEST(TextTemplateTest, FillsEachHoleWithItsPlaceholdersValue) {
  const std::optional<TextTemplate> cut = TextTemplate::Cut(
      R"({"a":"P1","b":["P2","P1"],"c":1})", {{"P1", 2}, {"P2", 1}});
  ASSERT_TRUE(cut.has_value());
  std::string out = "before:";
  cut->AppendTo({"x", "yy"}, &out);
  EXPECT_EQ(out, R"(before:{"a":"x","b":["yy","x"],"c":1})");
  // The literals alone, without the values.
  EXPECT_EQ(cut->size(), std::string(R"({"a":"","b":["",""],"c":1})").size());
}

TEST(TextTemplateTest, RefusesAnAmbiguousCut) {
  // Fewer or more times than said.
  EXPECT_FALSE(TextTemplate::Cut(R"({"a":"P1"})", {{"P1", 2}}).has_value());
  EXPECT_FALSE(
      TextTemplate::Cut(R"({"a":"P1","b":"P1"})", {{"P1", 1}}).has_value());
  // Inside another string, or not a whole string.
  EXPECT_FALSE(
      TextTemplate::Cut(R"({"a":"P1","b":"xP1"})", {{"P1", 1}}).has_value());
  EXPECT_FALSE(TextTemplate::Cut(R"({"a":P1})", {{"P1", 1}}).has_value());
  EXPECT_TRUE(TextTemplate::Cut(R"({"a":"P1"})", {{"P1", 1}}).has_value());
}

}  // namespace
}  // namespace geo
