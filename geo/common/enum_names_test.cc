#include "geo/common/enum_names.h"

#include "gtest/gtest.h"

namespace geo {
namespace {

enum class Color { kRed, kGreen, kBlue };

constexpr EnumName<Color> kColorNames[] = {
    {Color::kRed, "red"},
    {Color::kGreen, "green"},
};

TEST(EnumNamesTest, NameOfFindsTheValueOrFallsBack) {
  EXPECT_EQ(NameOf(kColorNames, Color::kRed, "?"), "red");
  EXPECT_EQ(NameOf(kColorNames, Color::kGreen, "?"), "green");
  EXPECT_EQ(NameOf(kColorNames, Color::kBlue, "?"), "?");
}

TEST(EnumNamesTest, ValueNamedIsTheInverseAndCaseSensitive) {
  EXPECT_EQ(ValueNamed(kColorNames, "red"), Color::kRed);
  EXPECT_EQ(ValueNamed(kColorNames, "green"), Color::kGreen);
  EXPECT_EQ(ValueNamed(kColorNames, "Green"), std::nullopt);
  EXPECT_EQ(ValueNamed(kColorNames, "blue"), std::nullopt);
  EXPECT_EQ(ValueNamed(kColorNames, ""), std::nullopt);
}

}  // namespace
}  // namespace geo
