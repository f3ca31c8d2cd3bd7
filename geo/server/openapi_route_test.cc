// The OpenAPI document against the real router: every path and method the
// document names is answered by the router built by BuildHttpRoutes (plus
// AddOpenApiRoute), with a status the document lists for it; every method the
// document leaves out of a path is refused by the router; and every route
// template in the server's sources is a path of the document.
#include "geo/server/openapi_route.h"

#include <filesystem>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_replace.h"
#include "api/openapi/openapi_document.h"
#include "geo/common/clock.h"
#include "geo/data/geo_store.h"
#include "geo/http/http_message.h"
#include "geo/policy/policy_store.h"
#include "geo/server/caller_address.h"
#include "geo/server/http_routes.h"
#include "geo/server/lookup_service.h"
#include "geo/server/server_metrics.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

const std::vector<std::string>& Methods() {
  static const auto* methods = new std::vector<std::string>{
      "GET", "PUT", "POST", "DELETE", "OPTIONS", "HEAD", "PATCH"};
  return *methods;
}

std::string Lower(std::string text) {
  for (char& c : text) c = static_cast<char>(std::tolower(c));
  return text;
}

// A concrete path for a template: an address for {ip}, two segments for
// {path} (the rest of a path), a word for anything else.
std::string Instantiate(const std::string& path_template) {
  std::string path = absl::StrReplaceAll(
      path_template, {{"{ip}", "81.2.69.142"}, {"{path}", "app/admin"}});
  return std::regex_replace(path, std::regex("\\{[^}]*\\}"), "x");
}

// The router's own answers for a path nobody serves and a method nobody
// serves on that path (geo/http/router.h).
bool IsRoutingRefusal(const http::HttpResponse& response) {
  return (response.status() == 404 &&
          absl::StrContains(response.body(), "\"Not Found\"")) ||
         (response.status() == 501 &&
          absl::StrContains(response.body(), "\"Method Not Allowed\""));
}

class OpenApiRouteTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metrics_ = std::make_unique<ServerMetrics>(
        std::make_shared<prometheus::Registry>(), Clock::Real());
    GeoStoreOptions store_options;
    store_options.log_reloads = false;
    store_ = std::make_unique<GeoStore>(store_options);
    policies_ = std::make_unique<policy::PolicyStore>();
    auto callers = CallerResolver::Create({});
    ASSERT_TRUE(callers.ok()) << callers.status();
    callers_ = std::make_unique<CallerResolver>(*std::move(callers));
    service_ = std::make_unique<LookupService>(
        store_.get(), policies_.get(), callers_.get(), metrics_.get(),
        Clock::Real(), LookupService::Options{});
    auto router = BuildHttpRoutes(service_.get(), [] { return false; });
    ASSERT_TRUE(router.ok()) << router.status();
    router_ = *std::move(router);
    // Until BuildHttpRoutes registers the document itself.
    if (IsRoutingRefusal(Send("GET", kOpenApiPath))) {
      ASSERT_TRUE(AddOpenApiRoute(router_.get()).ok());
    }
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(
                    std::string(api::OpenApiDocument()), &document_)
                    .ok());
    ASSERT_TRUE(document_.fields().count("paths"));
  }

  http::HttpResponse Send(const std::string& method, const std::string& path) {
    http::HttpHeaderList headers;
    http::HttpRequest request(method, path, &headers, "", "127.0.0.1");
    http::HttpResponse response;
    router_->Handle(request, &response);
    return response;
  }

  const google::protobuf::Map<std::string, Value>& Paths() const {
    return document_.fields().at("paths").struct_value().fields();
  }

  std::unique_ptr<ServerMetrics> metrics_;
  std::unique_ptr<GeoStore> store_;
  std::unique_ptr<policy::PolicyStore> policies_;
  std::unique_ptr<CallerResolver> callers_;
  std::unique_ptr<LookupService> service_;
  std::unique_ptr<http::Router> router_;
  Struct document_;
};

TEST_F(OpenApiRouteTest, ServesTheGeneratedDocument) {
  http::HttpResponse response = Send("GET", kOpenApiPath);
  EXPECT_EQ(response.status(), 200);
  EXPECT_EQ(response.content_type(), "application/json");
  EXPECT_EQ(response.body(), api::OpenApiDocument());
  EXPECT_EQ(document_.fields().at("swagger").string_value(), "2.0");
  // Generated from the proto, not only the hand-written supplement.
  EXPECT_TRUE(Paths().count("/v1/lookup/{ip}"));
  EXPECT_TRUE(document_.fields()
                  .at("definitions")
                  .struct_value()
                  .fields()
                  .count("v1LookupResponse"));
}

TEST_F(OpenApiRouteTest,
       EveryDocumentedOperationIsRoutedWithADocumentedStatus) {
  int operations = 0;
  for (const auto& [path, item] : Paths()) {
    const auto& methods = item.struct_value().fields();
    for (const std::string& method : Methods()) {
      const std::string path_instance = Instantiate(path);
      http::HttpResponse response = Send(method, path_instance);
      auto operation = methods.find(Lower(method));
      if (operation == methods.end()) {
        EXPECT_TRUE(IsRoutingRefusal(response))
            << method << " " << path_instance << " answers "
            << response.status() << " but the document has no " << Lower(method)
            << " operation for " << path;
        continue;
      }
      ++operations;
      EXPECT_FALSE(IsRoutingRefusal(response))
          << "the document has " << method << " " << path
          << ", the router does not serve " << path_instance;
      const auto& responses = operation->second.struct_value()
                                  .fields()
                                  .at("responses")
                                  .struct_value()
                                  .fields();
      const std::string status = std::to_string(response.status());
      ASSERT_TRUE(responses.count(status))
          << method << " " << path_instance << " answered " << status
          << ", which the document does not list for it";
      const auto& schema = responses.at(status).struct_value().fields();
      if (schema.count("schema") &&
          schema.at("schema").struct_value().fields().count("$ref") &&
          schema.at("schema")
                  .struct_value()
                  .fields()
                  .at("$ref")
                  .string_value() == "#/definitions/geoError") {
        Struct body;
        ASSERT_TRUE(
            google::protobuf::util::JsonStringToMessage(response.body(), &body)
                .ok())
            << response.body();
        for (const char* key : {"code", "message", "details"}) {
          EXPECT_TRUE(body.fields().count(key))
              << method << " " << path_instance << ": error body without \""
              << key << "\": " << response.body();
        }
      }
    }
  }
  EXPECT_GE(operations, 7);
}

// Route templates are string literals in the server's sources (every .cc and
// .h of geo/server); each one the router answers must be a path of the
// document.
TEST_F(OpenApiRouteTest, EveryRouteInTheSourcesIsDocumented) {
  const std::regex literal("\"(/(?:v1/[^\"\\s]*|healthz|readyz))\"");
  std::set<std::string> routes;
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator("geo/server")) {
    const std::string file = entry.path().string();
    if (absl::EndsWith(file, "_test.cc") ||
        !(absl::EndsWith(file, ".cc") || absl::EndsWith(file, ".h"))) {
      continue;
    }
    ++files;
    const std::string text = testing::ReadFile(file);
    for (std::sregex_iterator it(text.begin(), text.end(), literal), end;
         it != end; ++it) {
      routes.insert((*it)[1].str());
    }
  }
  ASSERT_GT(files, 5) << "the server's sources are not in the runfiles";
  ASSERT_GE(routes.size(), 7u);
  for (const std::string& route : routes) {
    // "{path=**}" and friends: a variable is documented as "{name}".
    const std::string documented =
        std::regex_replace(route, std::regex("\\{([a-z_]+)[^}]*\\}"), "{$1}");
    bool routed = false;
    for (const std::string& method : Methods()) {
      routed |= !IsRoutingRefusal(Send(method, Instantiate(documented)));
    }
    if (!routed) continue;  // A literal that is not a route (a prefix, ...).
    EXPECT_TRUE(Paths().count(documented))
        << "the server routes " << route << " but the OpenAPI document ("
        << "api/openapi/supplement.json or the proto's annotations) has no "
        << documented;
  }
}

}  // namespace
}  // namespace geo
