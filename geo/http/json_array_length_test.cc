#include "geo/http/json_array_length.h"

#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using ::testing::HasSubstr;

absl::StatusCode Check(absl::string_view json, int max_items) {
  return CheckJsonArrayLength(json, "ips", max_items).code();
}

constexpr absl::StatusCode kOk = absl::StatusCode::kOk;
constexpr absl::StatusCode kTooMany = absl::StatusCode::kInvalidArgument;

TEST(CheckJsonArrayLengthTest, CountsTheTopLevelArray) {
  EXPECT_EQ(Check(R"({"ips":["1.1.1.1","2.2.2.2"]})", 2), kOk);
  EXPECT_EQ(Check(R"({"ips":["1.1.1.1","2.2.2.2","3.3.3.3"]})", 2), kTooMany);
  EXPECT_EQ(Check(R"({"ips":[]})", 0), kOk);
  EXPECT_EQ(Check(R"({"ips":["1.1.1.1"]})", 0), kTooMany);
  const absl::Status status =
      CheckJsonArrayLength(R"({"ips":["a","b","c"]})", "ips", 2);
  EXPECT_EQ(status.message(), "a batch holds at most 2 addresses; got more");
}

TEST(CheckJsonArrayLengthTest, Whitespace) {
  EXPECT_EQ(Check(" \n{ \"ips\" \t:\r\n[ \"a\" , \"b\" ,\n\"c\" ] }\n", 2),
            kTooMany);
  EXPECT_EQ(Check(" \n{ \"ips\" \t:\r\n[ \"a\" , \"b\" ] }\n", 2), kOk);
  EXPECT_EQ(Check("{\"ips\":[ ]}", 0), kOk);
}

TEST(CheckJsonArrayLengthTest, StringsWithEscapesAndBrackets) {
  // Commas, brackets and escaped quotes inside strings are not elements.
  EXPECT_EQ(Check(R"({"ips":["a,b,c","\"],[","\\",",,,"]})", 4), kOk);
  EXPECT_EQ(Check(R"({"ips":["a,b,c","\"],[","\\",",,,"]})", 3), kTooMany);
  // Another member holding a string that looks like the field.
  EXPECT_EQ(Check(R"({"language":"\"ips\":[1,2,3]","ips":["a"]})", 1), kOk);
}

TEST(CheckJsonArrayLengthTest, NestedValuesCountOnce) {
  EXPECT_EQ(Check(R"({"ips":[[1,2,3],{"a":[4,5],"b":"]"},"x"]})", 3), kOk);
  EXPECT_EQ(Check(R"({"ips":[[1,2,3],{"a":[4,5],"b":"]"},"x"]})", 2), kTooMany);
  // Only the top-level member counts, not one of the same name deeper down.
  EXPECT_EQ(Check(R"({"other":{"ips":[1,2,3]},"ips":[1]})", 1), kOk);
  EXPECT_EQ(Check(R"({"other":[{"ips":[1,2,3]}],"ips":[1]})", 1), kOk);
}

TEST(CheckJsonArrayLengthTest, OtherMembersAndValueKinds) {
  EXPECT_EQ(Check(R"({"language":"de","n":-1.5e3,"t":true,"z":null,)"
                  R"("ips":[1,2,3]})",
                  2),
            kTooMany);
  EXPECT_EQ(Check(R"({"ips":null})", 0), kOk);
  EXPECT_EQ(Check(R"({"ips":"1,2,3"})", 0), kOk);
  EXPECT_EQ(Check(R"({"ipsx":[1,2,3],"xips":[1,2,3]})", 0), kOk);
}

TEST(CheckJsonArrayLengthTest, EscapedMemberNamesAndDuplicates) {
  EXPECT_EQ(Check(R"({"\u0069ps":[1,2,3]})", 2), kTooMany);
  EXPECT_EQ(Check(R"({"i\u0070\u0073":[1,2,3]})", 2), kTooMany);
  EXPECT_EQ(Check(R"({"\u0069\u0070\u00e9":[1,2,3]})", 2), kOk);
  // A repeated member adds to the same repeated field.
  EXPECT_EQ(Check(R"({"ips":[1,2],"ips":[3]})", 2), kTooMany);
  EXPECT_EQ(Check(R"({"ips":[1],"ips":[3]})", 2), kOk);
}

TEST(CheckJsonArrayLengthTest, StopsAtTheFirstElementOverTheLimit) {
  // Everything after the third element is garbage that is never looked at.
  EXPECT_EQ(Check(R"({"ips":[1,2,3,)" + std::string(1000, '{'), 2), kTooMany);
}

TEST(CheckJsonArrayLengthTest, MalformedInputIsLeftToTheParser) {
  for (const absl::string_view json :
       {"", "[1,2,3]", "{", "{\"ips\"", "{\"ips\":", "{\"ips\":[1,2",
        "{\"ips\":[1,,2,3]}", "{\"ips\":[,1,2,3]}", "{\"ips\":[1 2 3]}",
        "{\"ips\" [1,2,3]}", "{ips:[1,2,3]}", "{\"ips\":[\"1,2,3]}",
        "{\"a\":\"\\", "{\"\\u00\":[1,2,3]}", "{\"a\":[[[[[", "\"ips\":[1,2,3]",
        "{\"ips\":[1]]]]]]]]]]]}"}) {
    EXPECT_EQ(Check(json, 2), kOk) << json;
  }
}

TEST(CheckJsonArrayLengthTest, TruncatedAfterTooManyElementsIsRefused) {
  // Streaming: the elements seen are already too many, whatever follows.
  EXPECT_EQ(Check(R"({"ips":[1,2,3)", 2), kTooMany);
}

TEST(CheckJsonArrayLengthTest, DeepNestingDoesNotRecurse) {
  const std::string deep =
      absl::StrCat(R"({"a":)", std::string(1000000, '['),
                   std::string(1000000, ']'), R"(,"ips":[1,2,3]})");
  EXPECT_EQ(Check(deep, 2), kTooMany);
  EXPECT_EQ(Check(std::string(1000000, '{'), 2), kOk);
}

TEST(CheckJsonArrayLengthTest, LargeBatchAtTheLimit) {
  std::string json = R"({"ips":[)";
  for (int i = 0; i < 1000; ++i) {
    absl::StrAppend(&json, i == 0 ? "" : ",", "\"10.0.", i / 256, ".", i % 256,
                    "\"");
  }
  json += "]}";
  EXPECT_EQ(Check(json, 1000), kOk);
  EXPECT_EQ(Check(json, 999), kTooMany);
  EXPECT_THAT(CheckJsonArrayLength(json, "ips", 999).message(),
              HasSubstr("at most 999"));
}

}  // namespace
}  // namespace geo::http
