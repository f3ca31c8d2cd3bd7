// End-to-end: the real geo_server binary on loopback, driven by real clients
// (libcurl for HTTP, the generated gRPC C++ stub), with MaxMind's test
// databases. Expected values come from MaxMind's source JSON.
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/e2e/source_data.h"
#include "tests/support/metrics_text.h"
#include "tests/support/proto_json.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;
using ::testing::HasSubstr;

// A copy of a MaxMind test database in a directory the server watches.
std::string CopyDatabase(const std::string& dir, const std::string& name) {
  const std::string target = absl::StrCat(dir, "/", name);
  EXPECT_TRUE(CopyMaxmindTestDatabase(name, target));
  return target;
}

class ServerE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    city_path_ = CopyDatabase(dir_, "GeoIP2-City-Test.mmdb");
    asn_path_ = CopyDatabase(dir_, "GeoLite2-ASN-Test.mmdb");
    auto city = LoadSourceRecords(absl::StrCat(
        MaxmindTestDataDir(), "/source-data/GeoIP2-City-Test.json"));
    ASSERT_TRUE(city.ok()) << city.status();
    city_ = *std::move(city);
    auto asn = LoadSourceRecords(absl::StrCat(
        MaxmindTestDataDir(), "/source-data/GeoLite2-ASN-Test.json"));
    ASSERT_TRUE(asn.ok()) << asn.status();
    asn_ = *std::move(asn);
  }

  absl::StatusOr<ServerProcess> StartServer(std::vector<std::string> args) {
    args.push_back(absl::StrCat("--db=", city_path_, ",", asn_path_));
    args.push_back("--poll_interval=50ms");
    return ServerProcess::Start(GeoServerBinary(), args);
  }

  grpc::health::v1::HealthCheckResponse::ServingStatus Health(
      const ServerProcess& server) {
    auto stub = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        server.grpc_target(), grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status status = stub->Check(&context, request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.status();
  }

  // An IPv4 record with a country and at least one subdivision.
  const SourceRecord& CityRecord() {
    const SourceRecord* record = FindIpv4(city_, [](const SourceRecord& r) {
      return !StringAt(r.record, "country.iso_code").empty() &&
             !StringAt(r.record, "subdivisions.0.iso_code").empty();
    });
    EXPECT_NE(record, nullptr);
    return *record;
  }

  std::string dir_;
  std::string city_path_;
  std::string asn_path_;
  std::vector<SourceRecord> city_;
  std::vector<SourceRecord> asn_;
};

// Lookup is a raw gRPC method (it writes the cached wire format); a body that
// is not a LookupRequest still gets a clear INVALID_ARGUMENT, and the server
// goes on answering.
TEST_F(ServerE2eTest, GrpcLookupRefusesABodyThatIsNotALookupRequest) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  grpc::GenericStub generic(grpc::CreateChannel(
      server->grpc_target(), grpc::InsecureChannelCredentials()));
  // A field tag whose varint never ends.
  const char garbage[] = {'\xff', '\xff', '\xff', '\xff'};
  grpc::Slice slice(garbage, sizeof garbage);
  grpc::ByteBuffer request(&slice, 1);
  grpc::ByteBuffer response;
  grpc::ClientContext context;
  absl::Notification done;
  grpc::Status status;
  generic.UnaryCall(&context, "/geo.v1.GeoService/Lookup", grpc::StubOptions(),
                    &request, &response, [&](grpc::Status finished) {
                      status = std::move(finished);
                      done.Notify();
                    });
  done.WaitForNotification();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("LookupRequest"));

  auto stub = GeoStub(*server);
  geo::v1::LookupResponse answer;
  ASSERT_TRUE(GrpcLookup(*stub, CityRecord().address, &answer).ok());
  EXPECT_TRUE(answer.found());
}

// The HTTP answer is rendered from each cached record's template:
// it must be byte for byte what protobuf's JSON printer makes of the gRPC
// answer, for records of either database, in IPv4 and IPv6, in several
// languages, and on the first (uncached) and a later (cached) call. (MaxMind's
// City and ASN test databases share no network; answers merged from two
// databases are compared in //geo/data:lookup_answer_test.)
TEST_F(ServerE2eTest, HttpBodyIsProtobufJsonOfTheGrpcAnswer) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  std::vector<std::string> addresses;
  for (const std::vector<SourceRecord>* records : {&city_, &asn_}) {
    for (size_t i = 0; i < records->size(); i += 1 + records->size() / 40) {
      addresses.push_back((*records)[i].address);
    }
  }
  addresses.push_back("10.0.0.1");  // No record in either database.
  CurlClient http;
  auto stub = GeoStub(*server);
  size_t with_city = 0;
  size_t with_asn = 0;
  for (int pass = 0; pass < 2; ++pass) {
    for (const std::string& language : {"", "de", "zh-CN"}) {
      for (const std::string& address : addresses) {
        std::string path = "/v1/lookup/" + address;
        if (!language.empty()) path += "?language=" + language;
        absl::StatusOr<CurlResponse> response =
            http.Get(server->http_url(path));
        ASSERT_TRUE(response.ok()) << response.status();
        ASSERT_EQ(response->status, 200) << path << ": " << response->body;

        grpc::ClientContext context;
        geo::v1::LookupRequest request;
        request.set_ip(address);
        request.set_language(language);
        geo::v1::LookupResponse grpc_response;
        grpc::Status status = stub->Lookup(&context, request, &grpc_response);
        ASSERT_TRUE(status.ok()) << status.error_message();
        EXPECT_EQ(response->body, http::MessageToGatewayJson(grpc_response))
            << path;
        if (!grpc_response.city().name().empty()) ++with_city;
        if (grpc_response.autonomous_system().number() != 0) ++with_asn;
      }
    }
  }
  // The comparison covered what it claims to.
  EXPECT_GT(with_city, 0u);
  EXPECT_GT(with_asn, 0u);
}

TEST_F(ServerE2eTest, HttpAndGrpcLookupsAnswerFromBothDatabases) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  const SourceRecord& city = CityRecord();
  CurlClient http;
  absl::StatusOr<CurlResponse> response =
      http.Get(server->http_url("/v1/lookup/" + city.address));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200) << response->body;
  auto looked_up = ParseJson<geo::v1::LookupResponse>(response->body);
  EXPECT_TRUE(looked_up.found());
  EXPECT_EQ(looked_up.ip(), city.address);
  EXPECT_EQ(looked_up.country().iso_code(),
            StringAt(city.record, "country.iso_code"));
  EXPECT_EQ(looked_up.subdivisions(0).iso_code(),
            StringAt(city.record, "subdivisions.0.iso_code"));
  EXPECT_EQ(looked_up.city().name(), StringAt(city.record, "city.names.en"));

  // The same call over gRPC returns the same message.
  auto stub = GeoStub(*server);
  geo::v1::LookupResponse grpc_response;
  grpc::Status status = GrpcLookup(*stub, city.address, &grpc_response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(grpc_response,
                                                                 looked_up))
      << grpc_response.DebugString() << " vs " << looked_up.DebugString();

  // The ASN database answers in the same lookup.
  const SourceRecord* asn = FindIpv4(asn_, [](const SourceRecord& r) {
    return NumberAt(r.record, "autonomous_system_number") > 0;
  });
  ASSERT_NE(asn, nullptr);
  response = http.Get(server->http_url("/v1/lookup/" + asn->address));
  ASSERT_TRUE(response.ok());
  auto with_asn = ParseJson<geo::v1::LookupResponse>(response->body);
  EXPECT_EQ(with_asn.autonomous_system().number(),
            NumberAt(asn->record, "autonomous_system_number"));
  EXPECT_EQ(with_asn.autonomous_system().organization(),
            StringAt(asn->record, "autonomous_system_organization"));

  // Languages: a name in the requested language, English as the fallback.
  const std::string german = StringAt(city.record, "country.names.de");
  response =
      http.Get(server->http_url("/v1/lookup/" + city.address + "?language=de"));
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(
      ParseJson<geo::v1::LookupResponse>(response->body).country().name(),
      german.empty() ? StringAt(city.record, "country.names.en") : german);
}

TEST_F(ServerE2eTest, BatchAnswersEachAddressOnItsOwn) {
  auto server = StartServer({"--max_batch_size=5"});
  ASSERT_TRUE(server.ok()) << server.status();
  const SourceRecord& city = CityRecord();
  CurlClient http;
  absl::StatusOr<CurlResponse> response = http.Send(
      "POST", server->http_url("/v1/lookup:batch"),
      absl::StrCat(R"({"ips":[")", city.address, R"(","not-an-ip","::1"]})"));
  ASSERT_TRUE(response.ok());
  ASSERT_EQ(response->status, 200) << response->body;
  auto batch = ParseJson<geo::v1::BatchLookupResponse>(response->body);
  ASSERT_EQ(batch.results_size(), 3);
  EXPECT_EQ(batch.results(0).response().country().iso_code(),
            StringAt(city.record, "country.iso_code"));
  EXPECT_EQ(batch.results(1).ip(), "not-an-ip");
  EXPECT_EQ(batch.results(1).error_code(), 3);
  EXPECT_THAT(batch.results(1).error_message(), HasSubstr("not-an-ip"));
  EXPECT_EQ(batch.results(2).error_code(), 0);
  EXPECT_FALSE(batch.results(2).response().found());

  // Over the limit: the whole batch is refused.
  response = http.Send("POST", server->http_url("/v1/lookup:batch"),
                       R"({"ips":["1.1.1.1","1.1.1.2","1.1.1.3","1.1.1.4",)"
                       R"("1.1.1.5","1.1.1.6"]})");
  ASSERT_TRUE(response.ok());
  EXPECT_EQ(response->status, 400);
  EXPECT_THAT(response->body, HasSubstr("at most 5"));
}

TEST_F(ServerE2eTest, ErrorsFollowGrpcGatewayConventions) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  struct Case {
    std::string method;
    std::string path;
    std::string body;
    long http_status;
    int code;
  };
  const std::vector<Case> cases = {
      {"GET", "/v1/lookup/999.1.1.1", "", 400, 3},
      {"GET", "/v1/check/garbage", "", 400, 3},
      {"GET", "/v1/nothing-here", "", 404, 5},
      {"POST", "/v1/lookup/1.1.1.1", "", 501, 12},
      {"DELETE", "/v1/databases", "", 501, 12},
      {"POST", "/v1/lookup:batch", "{not json", 400, 3},
      {"POST", "/v1/lookup:batch", R"({"addresses":["1.1.1.1"]})", 400, 3},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.path);
    absl::StatusOr<CurlResponse> response =
        http.Send(c.method, server->http_url(c.path), c.body);
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, c.http_status) << response->body;
    auto error = ParseJson<google::protobuf::Struct>(response->body);
    EXPECT_EQ(error.fields().at("code").number_value(), c.code);
    EXPECT_FALSE(error.fields().at("message").string_value().empty());
    EXPECT_TRUE(error.fields().at("details").has_list_value());
  }
  // gRPC says the same in its own terms.
  auto stub = GeoStub(*server);
  grpc::ClientContext context;
  geo::v1::LookupRequest request;
  request.set_ip("999.1.1.1");
  geo::v1::LookupResponse response;
  grpc::Status status = stub->Lookup(&context, request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("999.1.1.1"));
}

TEST_F(ServerE2eTest, MeIsThePeerUnlessATrustedProxyForwards) {
  const SourceRecord& city = CityRecord();
  {
    auto server = StartServer({});
    ASSERT_TRUE(server.ok()) << server.status();
    CurlClient http;
    auto response = http.Get(server->http_url("/v1/lookup/me"),
                             {"X-Forwarded-For: " + city.address});
    ASSERT_TRUE(response.ok());
    // No trusted proxies: the header is ignored, the peer is the caller.
    EXPECT_EQ(ParseJson<geo::v1::LookupResponse>(response->body).ip(),
              "127.0.0.1");
  }
  auto server = StartServer({"--trusted_proxies=127.0.0.0/8"});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  auto response = http.Get(server->http_url("/v1/lookup/me"),
                           {"X-Forwarded-For: 198.51.100.77, " + city.address});
  ASSERT_TRUE(response.ok());
  auto me = ParseJson<geo::v1::LookupResponse>(response->body);
  EXPECT_EQ(me.ip(), city.address);
  EXPECT_EQ(me.country().iso_code(), StringAt(city.record, "country.iso_code"));

  // gRPC reads x-forwarded-for metadata, as grpc-gateway sends it.
  auto stub = GeoStub(*server);
  grpc::ClientContext context;
  context.AddMetadata("x-forwarded-for", city.address);
  geo::v1::CheckRequest request;
  request.set_ip("me");
  geo::v1::CheckResponse check;
  ASSERT_TRUE(stub->Check(&context, request, &check).ok());
  EXPECT_EQ(check.ip(), city.address);
}

TEST_F(ServerE2eTest, CheckAppliesThePolicyAndNamesTheReason) {
  const SourceRecord& denied = CityRecord();
  const std::string denied_country =
      StringAt(denied.record, "country.iso_code");
  // Another network of the same country, allowed by a CIDR rule.
  const SourceRecord* carved_out = FindIpv4(city_, [&](const SourceRecord& r) {
    return StringAt(r.record, "country.iso_code") == denied_country &&
           r.address != denied.address;
  });
  ASSERT_NE(carved_out, nullptr);
  // A public address that no network of the test database covers.
  std::string unknown;
  for (const char* candidate : {"8.8.8.8", "9.9.9.9", "1.0.0.1", "4.4.4.4"}) {
    if (Uncovered(city_, *IpAddress::Parse(candidate)) &&
        Uncovered(asn_, *IpAddress::Parse(candidate))) {
      unknown = candidate;
      break;
    }
  }
  ASSERT_FALSE(unknown.empty());

  const std::string policy = absl::StrCat(dir_, "/policy.yaml");
  ASSERT_TRUE(WriteFile(policy, absl::StrCat(R"(default_action: allow
private_addresses: deny
unknown_addresses: deny
deny:
  countries: [")",
                                             denied_country, R"("]
allow:
  networks: [")",
                                             carved_out->address, R"(/32"]
)")));
  auto server = StartServer({"--policy=" + policy});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  auto check = [&](const std::string& ip) {
    auto response = http.Get(server->http_url("/v1/check/" + ip));
    EXPECT_TRUE(response.ok());
    EXPECT_EQ(response->status, 200) << response->body;
    return ParseJson<geo::v1::CheckResponse>(response->body);
  };
  geo::v1::CheckResponse result = check(denied.address);
  EXPECT_FALSE(result.allowed());
  EXPECT_EQ(result.result(), "denied");
  EXPECT_EQ(result.country_code(), denied_country);
  EXPECT_THAT(result.reason(), HasSubstr(denied_country));

  result = check(carved_out->address);
  EXPECT_TRUE(result.allowed()) << result.reason();
  EXPECT_THAT(result.reason(), HasSubstr(carved_out->address));

  result = check("10.1.2.3");
  EXPECT_FALSE(result.allowed());
  EXPECT_THAT(result.reason(), HasSubstr("private"));

  result = check(unknown);
  EXPECT_FALSE(result.allowed());
  EXPECT_THAT(result.reason(), HasSubstr("unknown"));

  // The policy hot-reloads: allow everything, and the same address passes.
  ASSERT_TRUE(ReplaceFile(policy, "default_action: allow\n"));
  bool reloaded = false;
  for (int i = 0; i < 200 && !reloaded; ++i) {
    reloaded = check(denied.address).allowed();
    if (!reloaded) absl::SleepFor(absl::Milliseconds(25));
  }
  EXPECT_TRUE(reloaded) << server->Log();
  // An invalid policy is refused and the current one kept.
  ASSERT_TRUE(ReplaceFile(policy, "default_action: maybe\n"));
  EXPECT_TRUE(server->WaitForLog("Policy reload failed", absl::Seconds(10)));
  EXPECT_TRUE(check(denied.address).allowed());
}

TEST_F(ServerE2eTest, ListDatabasesReportsEachLoadedFile) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  auto response = http.Get(server->http_url("/v1/databases"));
  ASSERT_TRUE(response.ok());
  auto list = ParseJson<geo::v1::ListDatabasesResponse>(response->body);
  ASSERT_EQ(list.databases_size(), 2);
  EXPECT_EQ(list.databases(0).path(), city_path_);
  EXPECT_EQ(list.databases(0).type(), "GeoIP2-City");
  EXPECT_EQ(list.databases(1).path(), asn_path_);
  EXPECT_EQ(list.databases(1).type(), "GeoLite2-ASN");
  EXPECT_GT(list.databases(0).build_epoch(), 0);
  EXPECT_GT(list.databases(0).node_count(), 0u);
}

TEST_F(ServerE2eTest, ReadinessFollowsTheDatabaseAndShutdown) {
  // Start before the City file exists (an initContainer still downloading).
  const std::string later = absl::StrCat(dir_, "/later/GeoIP2-City-Test.mmdb");
  auto server = ServerProcess::Start(
      GeoServerBinary(), {"--db=" + later, "--poll_interval=50ms",
                          "--drain_delay=1s", "--shutdown_timeout=5s"});
  ASSERT_TRUE(server.ok()) << server.status();
  CurlClient http;
  EXPECT_EQ(http.Get(server->http_url("/healthz"))->status, 200);
  EXPECT_EQ(http.Get(server->http_url("/readyz"))->status, 503);
  EXPECT_EQ(Health(*server),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  auto unavailable = http.Get(server->http_url("/v1/lookup/1.1.1.1"));
  EXPECT_EQ(unavailable->status, 503) << unavailable->body;
  EXPECT_THAT(unavailable->body, HasSubstr("\"code\":14"));

  ASSERT_EQ(mkdir(absl::StrCat(dir_, "/later").c_str(), 0755), 0);
  CopyDatabase(absl::StrCat(dir_, "/later"), "GeoIP2-City-Test.mmdb");
  ASSERT_TRUE(server->WaitForLog("Database reloaded", absl::Seconds(20)));
  EXPECT_EQ(http.Get(server->http_url("/readyz"))->status, 200);
  EXPECT_EQ(Health(*server), grpc::health::v1::HealthCheckResponse::SERVING);

  // SIGTERM: not ready at once, still answering during the drain delay.
  server->SendSignal(SIGTERM);
  ASSERT_TRUE(server->WaitForLog("Shutdown: not ready", absl::Seconds(5)));
  EXPECT_EQ(http.Get(server->http_url("/readyz"))->status, 503);
  EXPECT_EQ(Health(*server),
            grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  EXPECT_EQ(http.Get(server->http_url("/v1/lookup/1.1.1.1"))->status, 200);
  absl::StatusOr<int> exit_status = server->Wait(absl::Seconds(20));
  ASSERT_TRUE(exit_status.ok());
  EXPECT_EQ(*exit_status, 0) << server->Log();
  EXPECT_THAT(server->Log(), HasSubstr("Shutdown complete"));
}

TEST_F(ServerE2eTest, MetricsCountExactlyTheCallsMade) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  const SourceRecord& city = CityRecord();
  const std::string country = StringAt(city.record, "country.iso_code");
  CurlClient http;
  // A fresh connection per scrape, as Prometheus scrapes.
  auto scrape = [&] { return CurlClient().Get(server->metrics_url())->body; };
  const std::string http_found =
      R"(geofence_lookups_total{protocol="http",result="found",status="OK"})";
  const std::string grpc_found =
      R"(geofence_lookups_total{protocol="grpc",result="found",status="OK"})";
  const std::string http_invalid =
      R"(geofence_lookups_total{protocol="http",result="error",status="INVALID_ARGUMENT"})";
  const std::string by_country = absl::StrCat(
      R"(geofence_lookups_by_country_total{country=")", country, R"("})");
  const std::string histogram_count =
      R"(geofence_lookup_duration_seconds_count{method="Lookup",protocol="http"})";
  const std::string before = scrape();

  constexpr int kHttpCalls = 7;
  constexpr int kGrpcCalls = 4;
  for (int i = 0; i < kHttpCalls; ++i) {
    ASSERT_EQ(http.Get(server->http_url("/v1/lookup/" + city.address))->status,
              200);
  }
  ASSERT_EQ(http.Get(server->http_url("/v1/lookup/nope"))->status, 400);
  auto stub = GeoStub(*server);
  for (int i = 0; i < kGrpcCalls; ++i) {
    grpc::ClientContext context;
    geo::v1::LookupRequest request;
    request.set_ip(city.address);
    geo::v1::LookupResponse response;
    ASSERT_TRUE(stub->Lookup(&context, request, &response).ok());
  }
  const std::string after = scrape();
  EXPECT_EQ(MetricSample(after, http_found) -
                std::max(0.0, MetricSample(before, http_found)),
            kHttpCalls);
  EXPECT_EQ(MetricSample(after, grpc_found) -
                std::max(0.0, MetricSample(before, grpc_found)),
            kGrpcCalls);
  EXPECT_EQ(MetricSample(after, http_invalid) -
                std::max(0.0, MetricSample(before, http_invalid)),
            1);
  EXPECT_EQ(MetricSample(after, by_country) -
                std::max(0.0, MetricSample(before, by_country)),
            kHttpCalls + kGrpcCalls);
  EXPECT_EQ(MetricSample(after, histogram_count) -
                std::max(0.0, MetricSample(before, histogram_count)),
            kHttpCalls + 1);
  EXPECT_EQ(MetricSample(
                after, R"(geofence_database_reloads_total{result="success"})"),
            2);
  EXPECT_GT(MetricSample(
                after, R"(geofence_database_age_seconds{type="GeoIP2-City"})"),
            0);

  // The exposition passes Prometheus' own linter.
  const std::string file = absl::StrCat(dir_, "/metrics.txt");
  ASSERT_TRUE(WriteFile(file, after));
  const std::string command =
      absl::StrCat("promtool check metrics < ", file, " 2>&1");
  FILE* pipe = popen(command.c_str(), "r");
  ASSERT_NE(pipe, nullptr);
  std::string output;
  char buffer[512];
  while (fgets(buffer, sizeof buffer, pipe) != nullptr) output += buffer;
  EXPECT_EQ(pclose(pipe), 0) << output;
}

}  // namespace
}  // namespace geo::testing
