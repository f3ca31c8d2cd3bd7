// The real geo_server with TLS and mutual TLS on gRPC and HTTP, real
// clients: curl (--cacert, --cert), gRPC C++ with SslCredentials, openssl
// s_client, Python's ssl. Refusals: plaintext, a wrong CA, no client
// certificate, an identity not on the allow-list (403 / PERMISSION_DENIED);
// the health listener stays plaintext; metrics. Rotation under load: new
// certificates by Kubernetes-style ..data swap while HTTP (keep-alive and
// new connections) and gRPC clients run: zero failed requests, new
// connections see the new serial, and a bad pair dropped in keeps the old
// one serving.
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "api/geo/v1/geo.grpc.pb.h"
#include "geo/tls/test_certificates.h"
#include "gtest/gtest.h"
#include "tests/support/metrics_text.h"
#include "tests/support/server_process.h"
#include "tests/support/test_files.h"
#include "tests/tls/certificate_suite.h"
#include "tests/tls/secret_volume.h"
#include "tests/tls/tls_clients.h"

namespace geo {
namespace {

using tls::testing::CallLoad;
using tls::testing::Curl;
using tls::testing::CurlResult;
using tls::testing::SecretVolume;

using LookupResult = tls::testing::TlsCallResult;

// A Lookup of an address in GB; an answer naming another country is
// INTERNAL.
LookupResult GrpcLookup(const std::shared_ptr<grpc::Channel>& channel) {
  auto stub = v1::GeoService::NewStub(channel);
  v1::LookupRequest request;
  request.set_ip("81.2.69.142");
  v1::LookupResponse response;
  LookupResult result =
      tls::testing::CallWithDeadline([&](grpc::ClientContext* context) {
        return stub->Lookup(context, request, &response);
      });
  if (result.status.ok() && response.country().iso_code() != "GB") {
    result.status = grpc::Status(grpc::StatusCode::INTERNAL, "wrong answer");
  }
  return result;
}

// The last `count` lines of `text`, for a failure message.
std::string LastLines(const std::string& text, size_t count) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.size() > count) lines.erase(lines.begin(), lines.end() - count);
  return absl::StrJoin(lines, "\n");
}

class TlsE2eTest : public tls::testing::GeoServerTlsSuite {
 protected:
  void StartServer(const std::vector<std::string>& extra) {
    std::vector<std::string> flags = {
        "--poll_interval=50ms", "--drain_delay=0s",
        absl::StrCat("--grpc_client_identities=",
                     tls::testing::kIngressIdentity),
        absl::StrCat("--http_client_identities=",
                     tls::testing::kIngressIdentity)};
    flags.insert(flags.end(), extra.begin(), extra.end());
    StartGeoServer(flags);
  }

  std::string Metrics() { return Curl(server_->metrics_url(), {}).body; }
};

TEST_F(TlsE2eTest, MutualTlsOnHttpWithCurl) {
  StartServer({});
  if (HasFatalFailure()) return;
  const CurlResult allowed = Curl(HttpsUrl("/v1/lookup/81.2.69.142"),
                                  ClientArguments(certificates_->client));
  EXPECT_EQ(allowed.status, 200) << allowed.errors;
  EXPECT_TRUE(absl::StrContains(allowed.body, "\"isoCode\":\"GB\""))
      << allowed.body;

  const CurlResult other = Curl(HttpsUrl("/v1/lookup/81.2.69.142"),
                                ClientArguments(certificates_->other_client));
  EXPECT_EQ(other.status, 403) << other.errors;
  EXPECT_TRUE(absl::StrContains(other.body, "\"code\":7")) << other.body;

  const CurlResult anonymous =
      Curl(HttpsUrl("/v1/lookup/81.2.69.142"), {"--cacert", ca()});
  EXPECT_NE(anonymous.exit_code, 0);
  EXPECT_EQ(anonymous.status, 0);
  const CurlResult untrusted =
      Curl(HttpsUrl("/v1/lookup/81.2.69.142"),
           ClientArguments(certificates_->untrusted_client));
  EXPECT_EQ(untrusted.status, 0);
  const CurlResult wrong_ca = Curl(
      HttpsUrl("/v1/lookup/81.2.69.142"),
      {"--cacert", certificates_->other_ca.certificate, "--cert",
       certificates_->client.certificate, "--key", certificates_->client.key});
  EXPECT_EQ(wrong_ca.exit_code, 60) << wrong_ca.errors;  // peer not verified
  const CurlResult plaintext =
      Curl(absl::StrCat("http://localhost:", server_->ports().http,
                        "/v1/lookup/81.2.69.142"),
           {});
  EXPECT_EQ(plaintext.status, 0);

  // Probes stay plaintext.
  EXPECT_EQ(Curl(server_->health_url("/readyz"), {}).status, 200);
  const std::string metrics = Metrics();
  EXPECT_GE(
      testing::MetricSample(
          metrics, "geofence_tls_client_denials_total{listener=\"http\"}"),
      1);
  EXPECT_EQ(testing::MetricSample(
                metrics, "geofence_tls_reloads_total{result=\"success\"}"),
            1);
}

TEST_F(TlsE2eTest, MutualTlsOnGrpcWithSslCredentials) {
  StartServer({});
  if (HasFatalFailure()) return;
  const std::string target = server_->grpc_target();
  LookupResult allowed = GrpcLookup(
      tls::testing::TlsChannel(target, ca(), &certificates_->client));
  EXPECT_TRUE(allowed.status.ok()) << allowed.status.error_message();
  EXPECT_EQ(allowed.serial,
            *tls::testing::SerialOf(certificates_->server.certificate));
  EXPECT_EQ(GrpcLookup(tls::testing::TlsChannel(target, ca(),
                                                &certificates_->other_client))
                .status.error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(GrpcLookup(tls::testing::TlsChannel(target, ca(), nullptr))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(
      GrpcLookup(tls::testing::PlaintextChannel(target)).status.error_code(),
      grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(GrpcLookup(tls::testing::TlsChannel(
                           target, certificates_->other_ca.certificate,
                           &certificates_->client))
                .status.error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_GE(
      testing::MetricSample(
          Metrics(), "geofence_tls_client_denials_total{listener=\"grpc\"}"),
      1);
}

// Session resumption (TLS 1.3 tickets, the TLS 1.2 session cache): a
// second connection with the first one's session is "Reused".
TEST_F(TlsE2eTest, ResumesSessions) {
  StartServer({});
  if (HasFatalFailure()) return;
  for (const char* version : {"-tls1_3", "-tls1_2"}) {
    const std::string session =
        absl::StrCat(*root_, "/session", version, ".pem");
    const std::string connect = absl::StrCat(
        "openssl s_client -connect 127.0.0.1:", server_->ports().http,
        " -CAfile ", ca(), " -cert ", certificates_->client.certificate,
        " -key ", certificates_->client.key, " ", version);
    // s_client closes when its stdin does. A TLS 1.3 server sends its
    // session tickets after the handshake, so the first connection keeps
    // stdin open until it has stored a session (up to 10 s): a fixed pause
    // may end before the ticket arrives on a loaded machine.
    const tls::testing::CommandResult first = tls::testing::RunCommand(
        {"bash", "-c",
         absl::StrCat("for i in $(seq 200); do [ -s ", session,
                      " ] && break; sleep 0.05; done | ", connect,
                      " -sess_out ", session)});
    EXPECT_TRUE(absl::StrContains(first.output, "\nNew, TLSv1."))
        << version << first.output << first.errors;
    const tls::testing::CommandResult second = tls::testing::RunCommand(
        {"bash", "-c",
         absl::StrCat("sleep 0.5 | ", connect, " -sess_in ", session)});
    EXPECT_TRUE(absl::StrContains(second.output, "\nReused, TLSv1."))
        << version << second.output << second.errors;
  }
}

TEST_F(TlsE2eTest, RefusesToStartWithABadPair) {
  volume_ = std::make_unique<SecretVolume>(*root_ + "/volume-bad-start");
  ASSERT_TRUE(volume_
                  ->Publish(certificates_->wrong_key_server,
                            certificates_->ca.certificate)
                  .ok());
  absl::StatusOr<testing::ServerProcess> server = testing::ServerProcess::Start(
      testing::GeoServerBinary(),
      {"--db=" + testing::MaxmindTestDataFile("GeoIP2-City-Test.mmdb"),
       "--tls_cert_file=" + volume_->certificate(),
       "--tls_key_file=" + volume_->key()},
      absl::Seconds(20));
  EXPECT_FALSE(server.ok());
}

TEST_F(TlsE2eTest, RotatesUnderLoadWithZeroFailedRequests) {
  StartServer({});
  if (HasFatalFailure()) return;
  const std::string target = server_->grpc_target();
  const int http_port = server_->ports().http;
  // HTTP: Python's ssl, one keep-alive connection and one new connection
  // per request, for the whole rotation: until the test writes `stop_http`,
  // on every way out of the test (a thread left running would end the
  // process).
  const std::string stop_http = absl::StrCat(*root_, "/stop-https-load");
  std::remove(stop_http.c_str());
  tls::testing::CommandResult http_load;
  std::thread http_client([&] {
    http_load = tls::testing::RunCommand(
        {"python3", "tests/tls/https_load_client.py", absl::StrCat(http_port),
         ca(), certificates_->client.certificate, certificates_->client.key,
         "/v1/lookup/81.2.69.142", stop_http,
         absl::StrCat(absl::ToInt64Seconds(tls::testing::kPatience))},
        3 * tls::testing::kPatience);
  });
  absl::Cleanup stop_http_load = [&] {
    EXPECT_TRUE(tls::testing::WriteFile(stop_http, "").ok());
    http_client.join();
  };
  // gRPC: one long-lived channel and one new channel per call.
  CallLoad grpc_load(2, [&](int i) {
    std::shared_ptr<grpc::Channel> kept =
        tls::testing::TlsChannel(target, ca(), &certificates_->client);
    return [&, i, kept] {
      return GrpcLookup(i == 0 ? kept
                               : tls::testing::TlsChannel(
                                     target, ca(), &certificates_->client))
          .status;
    };
  });
  // Rotation steps and failed probes, to read the load's failures against,
  // and whether the test process itself stood still meanwhile.
  tls::testing::Timeline timeline(grpc_load.started());
  tls::testing::SchedulingGaps gaps(grpc_load.started());
  auto http_serial = [&] {
    absl::StatusOr<std::string> serial = tls::testing::ServedSerialOverTls(
        http_port, ca(), &certificates_->client);
    if (!serial.ok()) {
      timeline.Note(absl::StrCat("HTTP probe: ", serial.status().ToString()));
    }
    return serial.ok() ? *serial : serial.status().ToString();
  };
  auto grpc_serial = [&] {
    const absl::Time began = absl::Now();
    LookupResult result = GrpcLookup(
        tls::testing::TlsChannel(target, ca(), &certificates_->client));
    if (!result.status.ok()) {
      timeline.Note(absl::StrCat("gRPC probe failed after ",
                                 absl::FormatDuration(absl::Now() - began),
                                 ": ", result.status.error_message()));
    }
    return result.serial;
  };
  absl::SleepFor(absl::Seconds(1));
  std::string previous =
      *tls::testing::SerialOf(certificates_->server.certificate);
  for (int round = 0; round < 2; ++round) {
    absl::StatusOr<std::string> renewed =
        PublishRenewedServer(*volume_, absl::StrCat("e2e-renewed-", round));
    ASSERT_TRUE(renewed.ok()) << renewed.status();
    const std::string serial = *renewed;
    timeline.Note(absl::StrCat("round ", round, ": published ", serial));
    EXPECT_NE(serial, previous) << "a renewal has a serial of its own";
    previous = serial;
    const bool served = Eventually(
        [&] { return http_serial() == serial && grpc_serial() == serial; },
        tls::testing::kPatience);
    EXPECT_TRUE(served) << "round " << round << ": HTTP serves "
                        << http_serial() << ", gRPC " << grpc_serial()
                        << ", want " << serial;
    // The rest would only wait out its patience; the load's report follows.
    if (!served) break;
    timeline.Note(absl::StrCat("round ", round, ": new connections see it"));
    // A bad pair dropped in: refused; the renewed one keeps serving.
    ASSERT_TRUE(volume_
                    ->Publish(certificates_->expired_server,
                              certificates_->ca.certificate)
                    .ok());
    timeline.Note(absl::StrCat("round ", round, ": published an expired pair"));
    Eventually(
        [&] {
          return testing::MetricSample(
                     Metrics(),
                     "geofence_tls_reloads_total{result=\"failure\"}") >=
                 round + 1;
        },
        tls::testing::kPatience);
    EXPECT_TRUE(server_->WaitForLog("TLS certificate refused",
                                    tls::testing::kPatience));
    timeline.Note(absl::StrCat("round ", round, ": expired pair refused"));
    EXPECT_EQ(http_serial(), serial);
    EXPECT_EQ(grpc_serial(), serial);
  }
  std::move(stop_http_load).Invoke();
  grpc_load.Finish();
  timeline.Note("load finished");

  EXPECT_EQ(http_load.exit_code, 0) << http_load.errors;
  EXPECT_TRUE(absl::StrContains(http_load.output, "\"failures\": []"))
      << http_load.output;
  EXPECT_FALSE(absl::StrContains(http_load.output, "\"requests\": 0,"))
      << http_load.output;
  EXPECT_GT(grpc_load.calls(), 0);
  const std::vector<std::string> grpc_failures = grpc_load.failures();
  EXPECT_TRUE(grpc_failures.empty())
      << grpc_failures.size() << " of " << grpc_load.calls()
      << " gRPC calls failed:\n"
      << absl::StrJoin(grpc_failures, "\n")
      << "\nslowest call: " << grpc_load.slowest_call()
      << "\nthe test process's " << gaps.Longest() << "\nthe test's steps:\n"
      << timeline.ToString() << "\nthe server's last log lines:\n"
      << LastLines(server_->Log(), 40);
  const std::string metrics = Metrics();
  EXPECT_EQ(testing::MetricSample(
                metrics, "geofence_tls_reloads_total{result=\"success\"}"),
            3);
  EXPECT_EQ(testing::MetricSample(
                metrics, "geofence_tls_reloads_total{result=\"failure\"}"),
            2);
}

}  // namespace
}  // namespace geo
