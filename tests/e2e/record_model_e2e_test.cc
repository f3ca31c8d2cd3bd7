// End-to-end: the real geo_server with City, ASN and the network databases
// (Anonymous IP, ISP, Connection Type, Domain) loaded at once. HTTP and gRPC
// answer the same for every network of those databases, and a Check denies
// a Tor exit of GeoIP2-Anonymous-IP-Test naming the condition. Addresses and
// expectations come from MaxMind's source JSON.
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/http/test_http_client.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/e2e/source_data.h"
#include "tests/support/proto_json.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"

namespace geo::testing {
namespace {

using ::geo::http::CurlClient;
using ::geo::http::CurlResponse;
using ::testing::HasSubstr;

constexpr const char* kDatabases[] = {
    "GeoIP2-City-Test",
    "GeoLite2-ASN-Test",
    "GeoIP2-Anonymous-IP-Test",
    "GeoIP2-ISP-Test",
    "GeoIP2-Connection-Type-Test",
    "GeoIP2-Domain-Test",
};

std::vector<SourceRecord> Source(const std::string& name) {
  auto records = LoadSourceRecords(
      absl::StrCat(MaxmindTestDataDir(), "/source-data/", name, ".json"));
  EXPECT_TRUE(records.ok()) << records.status();
  return records.ok() ? *std::move(records) : std::vector<SourceRecord>();
}

CurlResponse Get(CurlClient& client, const std::string& url) {
  absl::StatusOr<CurlResponse> response = client.Get(url);
  EXPECT_TRUE(response.ok()) << url << ": " << response.status();
  return response.ok() ? *std::move(response) : CurlResponse();
}

bool BoolAt(const google::protobuf::Struct& record, const std::string& key) {
  auto it = record.fields().find(key);
  return it != record.fields().end() && it->second.bool_value();
}

class RecordModelE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = NewTempDir();
    for (const char* name : kDatabases) {
      const std::string target = absl::StrCat(dir_, "/", name, ".mmdb");
      ASSERT_TRUE(CopyMaxmindTestDatabase(absl::StrCat(name, ".mmdb"), target));
      paths_.push_back(target);
    }
  }

  absl::StatusOr<ServerProcess> StartServer(std::vector<std::string> args) {
    std::string db = "--db=";
    for (size_t i = 0; i < paths_.size(); ++i) {
      absl::StrAppend(&db, i == 0 ? "" : ",", paths_[i]);
    }
    args.push_back(db);
    args.push_back("--poll_interval=50ms");
    return ServerProcess::Start(GeoServerBinary(), args);
  }

  std::string dir_;
  std::vector<std::string> paths_;
};

// Every network of the network databases: the HTTP body is protobuf's JSON
// of the gRPC answer, and the answer carries the source's flags and names.
TEST_F(RecordModelE2eTest, HttpAndGrpcAgreeForEveryNetworkDatabase) {
  auto server = StartServer({});
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = GeoStub(*server);
  CurlClient client;
  int checked = 0;
  for (const char* name :
       {"GeoIP2-Anonymous-IP-Test", "GeoIP2-Connection-Type-Test",
        "GeoIP2-Domain-Test", "GeoIP2-ISP-Test"}) {
    const std::vector<SourceRecord> records = Source(name);
    ASSERT_FALSE(records.empty()) << name;
    // ISP has two thousand networks: every 7th keeps the test quick while
    // covering every field kind; the others are checked whole.
    const size_t step = records.size() > 500 ? 7 : 1;
    for (size_t i = 0; i < records.size(); i += step) {
      const SourceRecord& record = records[i];
      geo::v1::LookupResponse grpc_answer;
      grpc::Status status = GrpcLookup(*stub, record.address, &grpc_answer);
      ASSERT_TRUE(status.ok()) << status.error_message();
      CurlResponse http_answer =
          Get(client, server->http_url("/v1/lookup/" + record.address));
      ASSERT_EQ(http_answer.status, 200) << http_answer.body;
      EXPECT_EQ(http_answer.body, http::MessageToGatewayJson(grpc_answer))
          << name << " " << record.address;
      const google::protobuf::Struct& source = record.record;
      const std::string connection_type = StringAt(source, "connection_type");
      if (!connection_type.empty()) {
        EXPECT_EQ(grpc_answer.traits().connection_type(), connection_type);
      }
      const std::string domain = StringAt(source, "domain");
      if (!domain.empty()) EXPECT_EQ(grpc_answer.traits().domain(), domain);
      const std::string isp = StringAt(source, "isp");
      if (!isp.empty()) EXPECT_EQ(grpc_answer.traits().isp(), isp);
      if (BoolAt(source, "is_tor_exit_node")) {
        EXPECT_TRUE(grpc_answer.anonymizer().is_tor_exit_node());
        EXPECT_THAT(http_answer.body, HasSubstr("\"isTorExitNode\":true"));
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100);

  // ListDatabases lists every loaded type, the same over HTTP and gRPC.
  grpc::ClientContext context;
  geo::v1::ListDatabasesResponse databases;
  ASSERT_TRUE(
      stub->ListDatabases(&context, geo::v1::ListDatabasesRequest(), &databases)
          .ok());
  ASSERT_EQ(databases.databases_size(), static_cast<int>(paths_.size()));
  for (int i = 0; i < databases.databases_size(); ++i) {
    EXPECT_EQ(databases.databases(i).path(), paths_[i]);
    EXPECT_EQ(absl::StrCat(databases.databases(i).type(), "-Test"),
              kDatabases[i]);
  }
  EXPECT_EQ(Get(client, server->http_url("/v1/databases")).body,
            http::MessageToGatewayJson(databases));
}

// A policy denying Tor exits denies the Tor exit network of the Anonymous
// IP test database, over HTTP and gRPC, naming the condition; an address of
// the same database that is only a hosting provider is allowed.
TEST_F(RecordModelE2eTest, CheckDeniesATorExit) {
  const std::string policy = absl::StrCat(dir_, "/policy.yaml");
  ASSERT_TRUE(ReplaceFile(policy,
                          "default_action: allow\n"
                          "deny:\n"
                          "  anonymizers: [tor_exit_node, public_proxy]\n"
                          "  connection_types: [Satellite]\n"));
  auto server = StartServer({absl::StrCat("--policy=", policy)});
  ASSERT_TRUE(server.ok()) << server.status();
  const std::vector<SourceRecord> anonymizers =
      Source("GeoIP2-Anonymous-IP-Test");
  const SourceRecord* tor = FindIpv4(anonymizers, [](const SourceRecord& r) {
    return BoolAt(r.record, "is_tor_exit_node");
  });
  ASSERT_NE(tor, nullptr);
  const SourceRecord* hosting =
      FindIpv4(anonymizers, [](const SourceRecord& r) {
        return BoolAt(r.record, "is_hosting_provider") &&
               !BoolAt(r.record, "is_tor_exit_node") &&
               !BoolAt(r.record, "is_public_proxy");
      });
  ASSERT_NE(hosting, nullptr);

  CurlClient client;
  CurlResponse denied =
      Get(client, server->http_url("/v1/check/" + tor->address));
  ASSERT_EQ(denied.status, 200) << denied.body;
  const auto check = ParseJson<geo::v1::CheckResponse>(denied.body);
  EXPECT_FALSE(check.allowed());
  EXPECT_EQ(check.result(), "denied");
  EXPECT_EQ(check.rule(), "anonymizer");
  EXPECT_EQ(check.reason(), "anonymizer tor_exit_node is in deny list");

  auto stub = GeoStub(*server);
  grpc::ClientContext context;
  geo::v1::CheckRequest request;
  request.set_ip(tor->address);
  geo::v1::CheckResponse grpc_check;
  ASSERT_TRUE(stub->Check(&context, request, &grpc_check).ok());
  EXPECT_EQ(denied.body, http::MessageToGatewayJson(grpc_check));

  const auto allowed = ParseJson<geo::v1::CheckResponse>(
      Get(client, server->http_url("/v1/check/" + hosting->address)).body);
  EXPECT_TRUE(allowed.allowed());
  EXPECT_EQ(allowed.rule(), "default");

  // The decision is counted under its rule kind.
  const std::string metrics = Get(client, server->metrics_url()).body;
  EXPECT_THAT(metrics, HasSubstr("rule=\"anonymizer\""));
}

// A condition on data no loaded database has is a warning at start, naming
// the condition and the databases that would provide it.
TEST_F(RecordModelE2eTest, ConditionWithoutItsDatabaseIsAWarning) {
  paths_ = {paths_[0]};  // City only.
  const std::string policy = absl::StrCat(dir_, "/policy.yaml");
  ASSERT_TRUE(ReplaceFile(policy,
                          "default_action: allow\n"
                          "deny: {anonymizers: [anonymous], "
                          "connection_types: [Dialup]}\n"));
  auto server = StartServer({absl::StrCat("--policy=", policy)});
  ASSERT_TRUE(server.ok()) << server.status();
  EXPECT_TRUE(server->WaitForLog("GeoIP2-Anonymous-IP", absl::Seconds(5)))
      << server->Log();
  EXPECT_THAT(server->Log(), HasSubstr("GeoIP2-Connection-Type"));
}

// A geofeed entry replaces a City network's country in Lookup and Check
// (HTTP and gRPC alike), and the file is hot-reloaded while clients look the
// address up without a single failed request; a bad file is refused with its
// line number and the previous overrides stay in force.
TEST_F(RecordModelE2eTest, OverrideReplacesCountryAndReloadsUnderLoad) {
  const std::vector<SourceRecord> city = Source("GeoIP2-City-Test");
  const SourceRecord* record = FindIpv4(city, [](const SourceRecord& r) {
    const std::string country = StringAt(r.record, "country.iso_code");
    return !country.empty() && country != "DE" && country != "FR" &&
           r.network.prefix_length() <= 24;
  });
  ASSERT_NE(record, nullptr);
  const std::string source_country =
      StringAt(record->record, "country.iso_code");
  const std::string prefix = record->network.ToString();
  const std::string feed = absl::StrCat(dir_, "/geofeed.csv");
  const auto feed_for = [&](const std::string& country) {
    return absl::StrCat("# local corrections\n", prefix, ",", country, ",",
                        country, "-", country == "DE" ? "BE" : "75",
                        ",Somewhere,\n");
  };
  ASSERT_TRUE(ReplaceFile(feed, feed_for("DE")));
  const std::string policy = absl::StrCat(dir_, "/policy.yaml");
  ASSERT_TRUE(
      ReplaceFile(policy, "default_action: allow\ndeny: {countries: [DE]}\n"));
  auto server = StartServer(
      {absl::StrCat("--overrides=", feed), absl::StrCat("--policy=", policy)});
  ASSERT_TRUE(server.ok()) << server.status();

  CurlClient client;
  const std::string lookup_url =
      server->http_url("/v1/lookup/" + record->address);
  CurlResponse looked_up = Get(client, lookup_url);
  ASSERT_EQ(looked_up.status, 200) << looked_up.body;
  auto answer = ParseJson<geo::v1::LookupResponse>(looked_up.body);
  EXPECT_EQ(answer.country().iso_code(), "DE");
  EXPECT_NE(answer.country().iso_code(), source_country);
  EXPECT_EQ(answer.city().name(), "Somewhere");
  EXPECT_EQ(answer.local_override().network(), prefix);
  EXPECT_THAT(looked_up.body,
              HasSubstr("\"localOverride\":{\"network\":\"" + prefix +
                        "\",\"fields\":[\"country\",\"subdivisions\",\"city\","
                        "\"postal\"]}"));
  auto stub = GeoStub(*server);
  {
    geo::v1::LookupResponse grpc_answer;
    ASSERT_TRUE(GrpcLookup(*stub, record->address, &grpc_answer).ok());
    EXPECT_EQ(looked_up.body, http::MessageToGatewayJson(grpc_answer));
  }
  const auto check = ParseJson<geo::v1::CheckResponse>(
      Get(client, server->http_url("/v1/check/" + record->address)).body);
  EXPECT_FALSE(check.allowed());
  EXPECT_EQ(check.reason(), "country DE is in deny list");
  EXPECT_EQ(check.subdivision_code(), "DE-BE");
  const auto batch =
      client.Send("POST", server->http_url("/v1/lookup:batch"),
                  absl::StrCat("{\"ips\":[\"", record->address, "\"]}"));
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(ParseJson<geo::v1::BatchLookupResponse>(batch->body)
                .results(0)
                .response()
                .country()
                .iso_code(),
            "DE");

  // Clients look the address up while the file changes under them.
  std::atomic<bool> stop{false};
  std::atomic<int> requests{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < 4; ++i) {
    clients.emplace_back([&] {
      CurlClient own;
      while (!stop.load()) {
        absl::StatusOr<CurlResponse> response = own.Get(lookup_url);
        requests.fetch_add(1);
        if (!response.ok() || response->status != 200 ||
            response->body.find("\"localOverride\"") == std::string::npos) {
          failures.fetch_add(1);
        }
      }
    });
  }
  const auto wait_for_country = [&](const std::string& country) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      const auto current =
          ParseJson<geo::v1::LookupResponse>(Get(client, lookup_url).body);
      if (current.country().iso_code() == country) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  };
  for (int round = 0; round < 6; ++round) {
    const std::string country = round % 2 == 0 ? "FR" : "DE";
    ASSERT_TRUE(ReplaceFile(feed, feed_for(country)));
    EXPECT_TRUE(wait_for_country(country)) << "round " << round;
  }
  // A bad file: refused whole, naming the line; the last good one stays.
  ASSERT_TRUE(ReplaceFile(feed, feed_for("FR") + "10.0.0.1/8,FR,,,\n"));
  EXPECT_TRUE(server->WaitForLog("line 3", absl::Seconds(10))) << server->Log();
  absl::SleepFor(absl::Milliseconds(200));
  stop.store(true);
  for (std::thread& thread : clients) thread.join();
  EXPECT_EQ(failures.load(), 0) << "of " << requests.load();
  EXPECT_GT(requests.load(), 50);
  EXPECT_EQ(ParseJson<geo::v1::LookupResponse>(Get(client, lookup_url).body)
                .country()
                .iso_code(),
            "DE");
  const std::string metrics = Get(client, server->metrics_url()).body;
  EXPECT_THAT(
      metrics,
      HasSubstr("geofence_override_reloads_total{result=\"failure\"} 1"));
  EXPECT_THAT(metrics, HasSubstr("geofence_override_entries 1"));
  EXPECT_THAT(metrics, HasSubstr("geofence_override_hits_total"));
}

// A bad overrides file at start stops the server, naming the line.
TEST_F(RecordModelE2eTest, BadOverridesFileAtStartIsAnError) {
  const std::string feed = absl::StrCat(dir_, "/geofeed.csv");
  ASSERT_TRUE(ReplaceFile(feed, "192.0.2.0/24,US,,,\n192.0.2.0/24,XX,,,\n"));
  auto server = StartServer({absl::StrCat("--overrides=", feed)});
  EXPECT_FALSE(server.ok());
}

}  // namespace
}  // namespace geo::testing
