#include "updater/database_validator.h"

#include <string>

#include "gtest/gtest.h"
#include "tests/updater/test_archives.h"

namespace geo::updater {
namespace {

using namespace ::geo::updater::testing;  // NOLINT: test helpers

std::string Write(const std::string& contents) {
  std::string path = MakeTempDirectory() + "/db.mmdb";
  WriteFileOrDie(path, contents);
  return path;
}

TEST(DatabaseValidatorTest, AcceptsTheRightEdition) {
  std::string path = Write(ReadTestDatabase("GeoIP2-City-Test.mmdb"));
  EXPECT_TRUE(ValidateDatabase(path, "GeoIP2-City").ok());
  absl::Status wrong = ValidateDatabase(path, "GeoLite2-City");
  EXPECT_TRUE(absl::IsDataLoss(wrong));
  EXPECT_NE(wrong.message().find("database_type"), absl::string_view::npos);
}

TEST(DatabaseValidatorTest, RefusesDamagedFiles) {
  std::string city = ReadTestDatabase("GeoIP2-City-Test.mmdb");
  EXPECT_TRUE(absl::IsDataLoss(
      ValidateDatabase(Write(city.substr(0, city.size() / 2)), "GeoIP2-City")));
  EXPECT_TRUE(absl::IsDataLoss(ValidateDatabase(Write("junk"), "GeoIP2-City")));
}

}  // namespace
}  // namespace geo::updater
