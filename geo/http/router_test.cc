#include "geo/http/router.h"

#include <string>

#include "geo/http/http_message.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::http {
namespace {

using ::testing::HasSubstr;

// Routes that answer with their name and variables.
class RouterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AddEcho("GET", "/v1/lookup/{ip}", "lookup");
    AddEcho("POST", "/v1/lookup:batch", "batch");
    AddEcho("GET", "/v1/check/{ip}", "check");
    AddEcho("GET", "/v1/databases", "databases");
    AddEcho("POST", "/v1/items/{id}:cancel", "cancel");
  }

  void AddEcho(const std::string& method, const std::string& path_template,
               const std::string& name) {
    ASSERT_TRUE(
        router_
            .Add(method, path_template,
                 [name](const HttpRequest&, const PathVariables& variables,
                        HttpResponse* response) {
                   std::string body = name;
                   for (const char* variable : {"ip", "id"}) {
                     if (!variables.Get(variable).empty()) {
                       body += " " + std::string(variables.Get(variable));
                     }
                   }
                   response->set_body(body);
                 })
            .ok());
  }

  HttpResponse Call(absl::string_view method, absl::string_view target) {
    HttpResponse response;
    router_.Handle(HttpRequest(method, target, nullptr, "", "127.0.0.1"),
                   &response);
    return response;
  }

  Router router_;
};

TEST_F(RouterTest, RoutesByTemplate) {
  EXPECT_EQ(Call("GET", "/v1/lookup/8.8.8.8").body(), "lookup 8.8.8.8");
  EXPECT_EQ(Call("GET", "/v1/lookup/8.8.8.8?language=de").body(),
            "lookup 8.8.8.8");
  EXPECT_EQ(Call("POST", "/v1/lookup:batch").body(), "batch");
  EXPECT_EQ(Call("GET", "/v1/check/me").body(), "check me");
  EXPECT_EQ(Call("GET", "/v1/databases").body(), "databases");
  EXPECT_EQ(Call("POST", "/v1/items/42:cancel").body(), "cancel 42");
}

TEST_F(RouterTest, VariablesTakeColonsAndArePercentDecoded) {
  EXPECT_EQ(Call("GET", "/v1/lookup/2001:db8::1").body(), "lookup 2001:db8::1");
  EXPECT_EQ(Call("GET", "/v1/lookup/2001%3Adb8%3A%3A1").body(),
            "lookup 2001:db8::1");
  EXPECT_EQ(Call("GET", "/v1/lookup/::ffff:1.2.3.4").body(),
            "lookup ::ffff:1.2.3.4");
}

TEST_F(RouterTest, UnknownPathIsNotFound) {
  for (const char* target :
       {"/", "/v1", "/v1/lookup", "/v1/lookup/", "/v1/databases/",
        "/v1/lookup/1.2.3.4/extra", "/v1/lookup:other", "/v1/items/42",
        "/v1/lookup/%zz", "no-slash"}) {
    const HttpResponse response = Call("GET", target);
    EXPECT_EQ(response.status(), 404) << target;
    EXPECT_EQ(response.content_type(), "application/json");
    EXPECT_EQ(response.body(),
              R"({"code":5,"message":"Not Found","details":[]})")
        << target;
  }
}

TEST_F(RouterTest, KnownPathWithWrongMethodIsUnimplemented) {
  for (const auto& [method, target] :
       std::vector<std::pair<const char*, const char*>>{
           {"POST", "/v1/lookup/1.2.3.4"},
           {"GET", "/v1/lookup:batch"},
           {"DELETE", "/v1/databases"},
           {"get", "/v1/databases"}}) {
    const HttpResponse response = Call(method, target);
    EXPECT_EQ(response.status(), 501) << method << " " << target;
    EXPECT_EQ(response.body(),
              R"({"code":12,"message":"Method Not Allowed","details":[]})");
  }
}

TEST_F(RouterTest, FirstAddedRouteWins) {
  AddEcho("GET", "/v1/lookup/special", "special");
  EXPECT_EQ(Call("GET", "/v1/lookup/special").body(), "lookup special");
}

TEST_F(RouterTest, PrefixRoutesTakeEveryMethodAndThePathBelow) {
  ASSERT_TRUE(
      router_
          .AddPrefix(
              "/v1/authorize",
              [](const HttpRequest& request, const PathVariables& variables,
                 HttpResponse* response) {
                response->set_body(std::string(request.method()) + " [" +
                                   std::string(variables.Get("path")) + "]");
              })
          .ok());
  EXPECT_EQ(Call("GET", "/v1/authorize").body(), "GET []");
  EXPECT_EQ(Call("DELETE", "/v1/authorize?x=1").body(), "DELETE []");
  EXPECT_EQ(Call("PATCH", "/v1/authorize/api/v2/it%20em").body(),
            "PATCH [/api/v2/it%20em]");
  // Not a segment boundary: not the prefix route.
  EXPECT_EQ(Call("GET", "/v1/authorizeX").status(), 404);
  EXPECT_FALSE(router_.AddPrefix("v1", nullptr).ok());
  EXPECT_FALSE(router_.AddPrefix("/v1/", nullptr).ok());
}

TEST(RouterAddTest, RejectsMalformedTemplates) {
  Router router;
  const RouteHandler handler = [](const HttpRequest&, const PathVariables&,
                                  HttpResponse*) {};
  for (const char* path_template :
       {"v1/lookup", "/v1//lookup", "/v1/{}", "/v1/{ip", "/v1/x{ip}",
        "/v1/lookup:", "/v1/lookup:a/b", "/v1/{i-p}"}) {
    const absl::Status status = router.Add("GET", path_template, handler);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument)
        << path_template;
    EXPECT_THAT(status.message(), HasSubstr("template"));
  }
  EXPECT_FALSE(router.Add("", "/v1", handler).ok());
  EXPECT_TRUE(router.Add("GET", "/", handler).ok());
}

}  // namespace
}  // namespace geo::http
