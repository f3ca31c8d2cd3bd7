#include "geo/http/http_message.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Optional;

TEST(HttpRequestTest, SplitsPathAndQuery) {
  const HttpRequest request("GET", "/v1/lookup/1.2.3.4?language=pt-BR&x",
                            nullptr, "", "127.0.0.1");
  EXPECT_EQ(request.path(), "/v1/lookup/1.2.3.4");
  EXPECT_EQ(request.query(), "language=pt-BR&x");
  EXPECT_THAT(request.QueryParameter("language"),
              Optional(std::string("pt-BR")));
  EXPECT_THAT(request.QueryParameter("x"), Optional(std::string("")));
  EXPECT_EQ(request.QueryParameter("missing"), std::nullopt);
  EXPECT_EQ(request.peer_address(), "127.0.0.1");
}

TEST(HttpRequestTest, DecodesQueryParameters) {
  const HttpRequest request("GET", "/p?q=a%20b+c&na%6De=v&bad=%zz", nullptr, "",
                            "");
  EXPECT_THAT(request.QueryParameter("q"), Optional(std::string("a b c")));
  EXPECT_THAT(request.QueryParameter("name"), Optional(std::string("v")));
  EXPECT_EQ(request.QueryParameter("bad"), std::nullopt);
}

TEST(HttpRequestTest, HeadersAreCaseInsensitive) {
  const HttpHeaderList headers({{"X-Forwarded-For", "1.2.3.4"}});
  const HttpRequest request("GET", "/", &headers, "", "");
  EXPECT_THAT(request.Header("x-forwarded-for"),
              Optional(absl::string_view("1.2.3.4")));
  EXPECT_EQ(request.Header("accept"), std::nullopt);
}

TEST(HttpRequestTest, HeaderValuesListsEveryLineInOrder) {
  const HttpHeaderList headers({{"X-Forwarded-For", "203.0.113.1, 10.0.0.1"},
                                {"Accept", "*/*"},
                                {"x-forwarded-for", "198.51.100.2"},
                                {"X-FORWARDED-FOR", ""}});
  const HttpRequest request("GET", "/", &headers, "", "");
  EXPECT_THAT(request.HeaderValues("X-Forwarded-For"),
              ElementsAre("203.0.113.1, 10.0.0.1", "198.51.100.2", ""));
  EXPECT_THAT(request.HeaderValues("accept"), ElementsAre("*/*"));
  EXPECT_THAT(request.HeaderValues("forwarded"), IsEmpty());
  // Header still answers with the first line only.
  EXPECT_THAT(request.Header("x-forwarded-for"),
              Optional(absl::string_view("203.0.113.1, 10.0.0.1")));
}

TEST(HttpRequestTest, HeaderValuesWithoutHeaders) {
  const HttpRequest request("GET", "/", nullptr, "", "");
  EXPECT_THAT(request.HeaderValues("x-forwarded-for"), IsEmpty());
  EXPECT_EQ(request.Header("x-forwarded-for"), std::nullopt);
}

TEST(HttpHeaderListTest, FindAllAppends) {
  const HttpHeaderList headers({{"A", "1"}, {"b", "2"}, {"a", "3"}});
  std::vector<absl::string_view> values = {"already"};
  headers.FindAll("a", &values);
  EXPECT_THAT(values, ElementsAre("already", "1", "3"));
}

TEST(PercentDecodeTest, RejectsMalformedEscapes) {
  std::string decoded;
  EXPECT_TRUE(PercentDecode("2001%3Adb8%3a%3A1", false, &decoded));
  EXPECT_EQ(decoded, "2001:db8::1");
  EXPECT_TRUE(PercentDecode("a+b", false, &decoded));
  EXPECT_EQ(decoded, "a+b");
  EXPECT_FALSE(PercentDecode("%4", false, &decoded));
  EXPECT_FALSE(PercentDecode("%", false, &decoded));
  EXPECT_FALSE(PercentDecode("%g1", false, &decoded));
}

TEST(HttpResponseTest, ResetKeepsNothingButCapacity) {
  HttpResponse response;
  response.SetJson(404, "{}");
  response.AddHeader("Retry-After", "1");
  response.Reset();
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(response.content_type(), "");
  EXPECT_TRUE(response.headers().empty());
  EXPECT_EQ(response.body(), "");
}

}  // namespace
}  // namespace geo::http
