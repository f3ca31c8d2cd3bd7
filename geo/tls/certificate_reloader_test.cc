#include "geo/tls/certificate_reloader.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/common/fake_clock.h"
#include "geo/tls/grpc_credentials.h"
#include "geo/tls/identity.h"
#include "geo/tls/test_certificates.h"
#include "geo/tls/tls_metrics.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "prometheus/registry.h"

namespace geo::tls {
namespace {

using testing::CertificateFiles;
using testing::TestCertificates;

struct SslFree {
  void operator()(SSL* ssl) const { SSL_free(ssl); }
};

struct HandshakeResult {
  bool ok = false;
  std::string server_serial;
  PeerIdentity client_identity;
};

// A TLS handshake over a memory BIO pair between `server` and a client
// that trusts `ca_path`, checks the name "localhost" and presents `client`
// when given.
HandshakeResult Handshake(SSL_CTX* server, const std::string& ca_path,
                          const CertificateFiles* client,
                          int client_max_version = 0) {
  HandshakeResult result;
  SslCtxPtr client_context(SSL_CTX_new(TLS_client_method()));
  SSL_CTX_load_verify_locations(client_context.get(), ca_path.c_str(), nullptr);
  SSL_CTX_set_verify(client_context.get(), SSL_VERIFY_PEER, nullptr);
  if (client_max_version != 0) {
    SSL_CTX_set_max_proto_version(client_context.get(), client_max_version);
  }
  if (client != nullptr) {
    SSL_CTX_use_certificate_chain_file(client_context.get(),
                                       client->certificate.c_str());
    SSL_CTX_use_PrivateKey_file(client_context.get(), client->key.c_str(),
                                SSL_FILETYPE_PEM);
  }
  std::unique_ptr<SSL, SslFree> client_ssl(SSL_new(client_context.get()));
  std::unique_ptr<SSL, SslFree> server_ssl(SSL_new(server));
  SSL_set1_host(client_ssl.get(), "localhost");
  BIO* client_bio = nullptr;
  BIO* server_bio = nullptr;
  BIO_new_bio_pair(&client_bio, 0, &server_bio, 0);
  SSL_set_bio(client_ssl.get(), client_bio, client_bio);
  SSL_set_bio(server_ssl.get(), server_bio, server_bio);
  SSL_set_connect_state(client_ssl.get());
  SSL_set_accept_state(server_ssl.get());
  int client_done = 0;
  int server_done = 0;
  for (int round = 0; round < 20 && (client_done != 1 || server_done != 1);
       ++round) {
    if (client_done != 1) client_done = SSL_do_handshake(client_ssl.get());
    if (server_done != 1) server_done = SSL_do_handshake(server_ssl.get());
    const bool client_failed =
        client_done <= 0 &&
        SSL_get_error(client_ssl.get(), client_done) != SSL_ERROR_WANT_READ;
    const bool server_failed =
        server_done <= 0 &&
        SSL_get_error(server_ssl.get(), server_done) != SSL_ERROR_WANT_READ;
    if (client_failed || server_failed) break;
  }
  // TLS 1.3 clients finish before the server has checked their
  // certificate: one more exchange lets a refusal arrive.
  if (client_done == 1 && server_done == 1) {
    char byte = 'x';
    SSL_write(client_ssl.get(), &byte, 1);
    result.ok = SSL_read(server_ssl.get(), &byte, 1) == 1;
  }
  ERR_clear_error();
  if (result.ok) {
    X509* served = SSL_get0_peer_certificate(client_ssl.get());
    if (served != nullptr) result.server_serial = Summarize(served).serial;
    X509* presented = SSL_get0_peer_certificate(server_ssl.get());
    result.client_identity = IdentityOf(presented);
  }
  return result;
}

double Value(prometheus::Registry& registry, const std::string& name,
             const std::string& label, const std::string& value) {
  for (const prometheus::MetricFamily& family : registry.Collect()) {
    if (family.name != name) continue;
    for (const prometheus::ClientMetric& metric : family.metric) {
      for (const prometheus::ClientMetric::Label& pair : metric.label) {
        if (pair.name == label && pair.value == value) {
          return family.type == prometheus::MetricType::Counter
                     ? metric.counter.value
                     : metric.gauge.value;
        }
      }
    }
  }
  return -1;
}

// Kubernetes' layout of a mounted Secret: tls.crt -> ..data/tls.crt,
// ..data -> a timestamped directory, swapped by renaming a new symlink.
class SecretVolume {
 public:
  explicit SecretVolume(std::string directory)
      : directory_(std::move(directory)) {
    std::filesystem::create_directories(directory_);
  }

  std::string certificate() const { return directory_ + "/tls.crt"; }
  std::string key() const { return directory_ + "/tls.key"; }
  std::string ca() const { return directory_ + "/ca.crt"; }

  // Publishes a new version holding these files' contents.
  void Publish(const std::string& certificate_file, const std::string& key_file,
               const std::string& ca_file) {
    const std::string version = absl::StrCat("..version_", ++versions_);
    const std::string path = directory_ + "/" + version;
    std::filesystem::create_directories(path);
    std::filesystem::copy_file(certificate_file, path + "/tls.crt");
    std::filesystem::copy_file(key_file, path + "/tls.key");
    std::filesystem::copy_file(ca_file, path + "/ca.crt");
    const std::string next = directory_ + "/..data_tmp";
    unlink(next.c_str());
    ASSERT_EQ(symlink(version.c_str(), next.c_str()), 0);
    ASSERT_EQ(rename(next.c_str(), (directory_ + "/..data").c_str()), 0);
    for (const char* name : {"tls.crt", "tls.key", "ca.crt"}) {
      const std::string link = directory_ + "/" + name;
      if (access(link.c_str(), F_OK) != 0) {
        ASSERT_EQ(
            symlink((std::string("..data/") + name).c_str(), link.c_str()), 0);
      }
    }
  }

 private:
  const std::string directory_;
  int versions_ = 0;
};

class CertificateReloaderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    root_ = new std::string(
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/reloader_test"));
    absl::StatusOr<TestCertificates> made =
        testing::MakeTestCertificates(*root_ + "/certificates");
    ASSERT_TRUE(made.ok()) << made.status();
    certificates_ = new TestCertificates(*std::move(made));
  }
  static void TearDownTestSuite() {
    delete certificates_;
    delete root_;
  }

  void SetUp() override {
    volume_ = std::make_unique<SecretVolume>(absl::StrCat(
        *root_, "/volume-",
        ::testing::UnitTest::GetInstance()->current_test_info()->name()));
    volume_->Publish(certificates_->server.certificate,
                     certificates_->server.key, certificates_->ca.certificate);
  }

  // A handshake with `server` by a client that trusts the test CA and
  // presents `client` (no certificate when null), at TLS versions up to
  // `client_max_version` (0: any).
  static HandshakeResult HandshakeTrustingCa(SSL_CTX* server,
                                             const CertificateFiles* client,
                                             int client_max_version = 0) {
    return Handshake(server, certificates_->ca.certificate, client,
                     client_max_version);
  }

  CertificateReloader::Options MutualOptions() {
    CertificateReloader::Options options;
    options.tls.certificate_path = volume_->certificate();
    options.tls.private_key_path = volume_->key();
    options.tls.client_ca_path = volume_->ca();
    options.tls.client_certificates = ClientCertificates::kRequire;
    options.clock = &clock_;
    options.metrics = &metrics_;
    return options;
  }

  static std::string* root_;
  static TestCertificates* certificates_;
  std::unique_ptr<SecretVolume> volume_;
  FakeClock clock_{absl::Now()};
  prometheus::Registry registry_;
  TlsMetrics metrics_{registry_, kServerTlsMetricNames};
};

std::string* CertificateReloaderTest::root_ = nullptr;
TestCertificates* CertificateReloaderTest::certificates_ = nullptr;

TEST_F(CertificateReloaderTest, ServesTheLoadedPairAndRequiresClients) {
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(MutualOptions());
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  std::shared_ptr<const TlsSnapshot> current = (*reloader)->Current();
  const std::string ca = certificates_->ca.certificate;

  HandshakeResult with_client =
      Handshake(current->context.get(), ca, &certificates_->client);
  ASSERT_TRUE(with_client.ok);
  EXPECT_EQ(with_client.server_serial,
            *testing::SerialOf(volume_->certificate()));
  EXPECT_EQ(with_client.client_identity.primary(), testing::kIngressIdentity);
  EXPECT_FALSE(Handshake(current->context.get(), ca, nullptr).ok);
  EXPECT_FALSE(
      Handshake(current->context.get(), ca, &certificates_->untrusted_client)
          .ok);
  // A client that trusts another CA refuses the server.
  EXPECT_FALSE(Handshake(current->context.get(),
                         certificates_->other_ca.certificate,
                         &certificates_->client)
                   .ok);

  EXPECT_EQ(Value(registry_, "geofence_tls_reloads_total", "result", "success"),
            1);
  EXPECT_EQ(
      Value(registry_, "geofence_tls_certificate_expiry_timestamp_seconds",
            "certificate", "serving"),
      absl::ToDoubleSeconds(current->pair->leaf_summary().not_after -
                            absl::UnixEpoch()));
  EXPECT_GT(
      Value(registry_, "geofence_tls_certificate_expiry_timestamp_seconds",
            "certificate", "client_ca"),
      0);
}

TEST_F(CertificateReloaderTest, RequestModeServesClientsWithoutCertificates) {
  CertificateReloader::Options options = MutualOptions();
  options.tls.client_certificates = ClientCertificates::kRequest;
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(options);
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  SSL_CTX* context = (*reloader)->Current()->context.get();
  HandshakeResult anonymous = HandshakeTrustingCa(context, nullptr);
  EXPECT_TRUE(anonymous.ok);
  EXPECT_TRUE(anonymous.client_identity.empty());
  EXPECT_TRUE(HandshakeTrustingCa(context, &certificates_->client).ok);
  EXPECT_FALSE(
      HandshakeTrustingCa(context, &certificates_->untrusted_client).ok);
}

TEST_F(CertificateReloaderTest, MinimumVersionOneThreeRefusesOneTwoClients) {
  CertificateReloader::Options options = MutualOptions();
  options.tls.client_certificates = ClientCertificates::kOff;
  for (const TlsVersion min_version :
       {TlsVersion::kTls13, TlsVersion::kTls12}) {
    options.tls.min_version = min_version;
    absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
        CertificateReloader::Create(options);
    ASSERT_TRUE(reloader.ok()) << reloader.status();
    SSL_CTX* context = (*reloader)->Current()->context.get();
    EXPECT_TRUE(HandshakeTrustingCa(context, nullptr).ok);
    EXPECT_EQ(HandshakeTrustingCa(context, nullptr, TLS1_2_VERSION).ok,
              min_version == TlsVersion::kTls12);
  }
}

TEST_F(CertificateReloaderTest, SwapsOnASymlinkSwapAndKeepsOldConnections) {
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(MutualOptions());
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  std::shared_ptr<const TlsSnapshot> before = (*reloader)->Current();
  absl::StatusOr<CertificateFiles> renewed = testing::IssueServerCertificate(
      certificates_->ca, certificates_->directory, "renewed");
  ASSERT_TRUE(renewed.ok()) << renewed.status();
  volume_->Publish(renewed->certificate, renewed->key,
                   certificates_->ca.certificate);
  ASSERT_TRUE((*reloader)->Reload().ok());
  std::shared_ptr<const TlsSnapshot> after = (*reloader)->Current();
  const std::string ca = certificates_->ca.certificate;
  HandshakeResult fresh =
      Handshake(after->context.get(), ca, &certificates_->client);
  ASSERT_TRUE(fresh.ok);
  EXPECT_EQ(fresh.server_serial, *testing::SerialOf(renewed->certificate));
  // A holder of the old context (an accepted connection) still works.
  HandshakeResult old =
      Handshake(before->context.get(), ca, &certificates_->client);
  ASSERT_TRUE(old.ok);
  EXPECT_EQ(old.server_serial,
            *testing::SerialOf(certificates_->server.certificate));
  EXPECT_EQ(Value(registry_, "geofence_tls_reloads_total", "result", "success"),
            2);
  // Unchanged files: nothing to do, nothing counted.
  ASSERT_TRUE((*reloader)->Reload().ok());
  EXPECT_EQ((*reloader)->Current(), after);
  EXPECT_EQ(Value(registry_, "geofence_tls_reloads_total", "result", "success"),
            2);
}

TEST_F(CertificateReloaderTest, KeepsThePairInForceWhenTheNewOneIsBad) {
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(MutualOptions());
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  std::shared_ptr<const TlsSnapshot> good = (*reloader)->Current();
  const std::string half_written = certificates_->directory + "/half.crt";
  const std::string chain =
      *testing::ReadFile(certificates_->server.certificate);
  ASSERT_TRUE(
      testing::WriteFile(half_written, chain.substr(0, chain.size() / 2)).ok());
  const std::string not_a_ca = certificates_->directory + "/not-a-ca.crt";
  ASSERT_TRUE(testing::WriteFile(not_a_ca, "garbage\n").ok());
  struct Case {
    const char* what;
    std::string certificate, key, ca;
  };
  const Case cases[] = {
      {"key of another pair", certificates_->wrong_key_server.certificate,
       certificates_->wrong_key_server.key, certificates_->ca.certificate},
      {"expired", certificates_->expired_server.certificate,
       certificates_->expired_server.key, certificates_->ca.certificate},
      {"half-written certificate", half_written, certificates_->server.key,
       certificates_->ca.certificate},
      {"client CA bundle without certificates",
       certificates_->server.certificate, certificates_->server.key, not_a_ca},
  };
  int failures = 0;
  for (const Case& bad : cases) {
    volume_->Publish(bad.certificate, bad.key, bad.ca);
    EXPECT_FALSE((*reloader)->Reload().ok()) << bad.what;
    // The other watchers of the same swap: refused again, counted once.
    EXPECT_FALSE((*reloader)->Reload().ok()) << bad.what;
    EXPECT_EQ((*reloader)->Current(), good) << bad.what;
    EXPECT_EQ(
        Value(registry_, "geofence_tls_reloads_total", "result", "failure"),
        ++failures)
        << bad.what;
  }
  // Unreadable: the files are gone.
  ASSERT_EQ(unlink(volume_->key().c_str()), 0);
  EXPECT_EQ((*reloader)->Reload().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ((*reloader)->Current(), good);
  EXPECT_TRUE(Handshake(good->context.get(), certificates_->ca.certificate,
                        &certificates_->client)
                  .ok);
}

TEST_F(CertificateReloaderTest, WatchersNoticeTheSwap) {
  CertificateReloader::Options options = MutualOptions();
  options.clock = nullptr;  // The watchers poll on the real clock.
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(options);
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  PollingWatcherOptions watch;
  watch.interval = absl::Milliseconds(10);
  (*reloader)->StartWatching(watch);
  absl::StatusOr<CertificateFiles> renewed = testing::IssueServerCertificate(
      certificates_->ca, certificates_->directory, "watched");
  ASSERT_TRUE(renewed.ok());
  volume_->Publish(renewed->certificate, renewed->key,
                   certificates_->ca.certificate);
  const std::string expected = *testing::SerialOf(renewed->certificate);
  const absl::Time deadline = absl::Now() + absl::Seconds(20);
  while ((*reloader)->Current()->pair->leaf_summary().serial != expected &&
         absl::Now() < deadline) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  EXPECT_EQ((*reloader)->Current()->pair->leaf_summary().serial, expected);
  (*reloader)->StopWatching();
}

TEST_F(CertificateReloaderTest, RefusesABadPairOrARefusingStageAtStart) {
  CertificateReloader::Options options = MutualOptions();
  options.tls.private_key_path = certificates_->wrong_key_server.key;
  EXPECT_EQ(CertificateReloader::Create(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = MutualOptions();
  options.before_swap = [](const TlsSnapshot&) {
    return absl::UnavailableError("stage full");
  };
  EXPECT_EQ(CertificateReloader::Create(options).status().code(),
            absl::StatusCode::kUnavailable);
}

TEST_F(CertificateReloaderTest, GrpcStageHoldsOnlyTheLatestVerifiedSet) {
  absl::StatusOr<std::unique_ptr<GrpcCertificateStage>> stage =
      GrpcCertificateStage::Create(*root_);
  ASSERT_TRUE(stage.ok()) << stage.status();
  const std::string directory = (*stage)->directory();
  struct stat info;
  ASSERT_EQ(stat(directory.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0700u);
  GrpcCertificateStage* raw = stage->get();
  CertificateReloader::Options options = MutualOptions();
  options.before_swap = [raw](const TlsSnapshot& snapshot) {
    return raw->Write(snapshot);
  };
  absl::StatusOr<std::unique_ptr<CertificateReloader>> reloader =
      CertificateReloader::Create(options);
  ASSERT_TRUE(reloader.ok()) << reloader.status();
  EXPECT_EQ(*testing::ReadFile(directory + "/current/chain.pem"),
            *testing::ReadFile(certificates_->server.certificate));
  ASSERT_EQ(stat((directory + "/current/key.pem").c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);

  volume_->Publish(certificates_->expired_server.certificate,
                   certificates_->expired_server.key,
                   certificates_->ca.certificate);
  EXPECT_FALSE((*reloader)->Reload().ok());
  EXPECT_EQ(*testing::ReadFile(directory + "/current/chain.pem"),
            *testing::ReadFile(certificates_->server.certificate));

  absl::StatusOr<CertificateFiles> renewed = testing::IssueServerCertificate(
      certificates_->ca, certificates_->directory, "staged");
  ASSERT_TRUE(renewed.ok());
  volume_->Publish(renewed->certificate, renewed->key,
                   certificates_->ca.certificate);
  ASSERT_TRUE((*reloader)->Reload().ok());
  EXPECT_EQ(*testing::ReadFile(directory + "/current/key.pem"),
            *testing::ReadFile(renewed->key));
  EXPECT_EQ(*testing::ReadFile(directory + "/current/client_ca.pem"),
            *testing::ReadFile(certificates_->ca.certificate));
  EXPECT_FALSE(std::filesystem::exists(directory + "/generation-1"));
  reloader->reset();
  stage->reset();
  EXPECT_FALSE(std::filesystem::exists(directory));
}

// gRPC's provider reads the key, then the chain, and reads both again when
// either file's modification time (whole seconds) changed meanwhile: only a
// second of its own per generation lets it notice a swap between the two
// reads instead of pairing a key with another generation's chain.
TEST_F(CertificateReloaderTest, GrpcStageGivesEachGenerationASecondOfItsOwn) {
  absl::StatusOr<std::unique_ptr<GrpcCertificateStage>> stage =
      GrpcCertificateStage::Create(*root_, &clock_);
  ASSERT_TRUE(stage.ok()) << stage.status();
  absl::StatusOr<CertificateFiles> renewed = testing::IssueServerCertificate(
      certificates_->ca, certificates_->directory, "stamped");
  ASSERT_TRUE(renewed.ok());
  auto set_of = [&](const CertificateFiles& files) {
    TlsSnapshot set;
    set.pair = *KeyPair::FromFiles(files.certificate, files.key, absl::Now());
    set.client_ca = *CertificateBundle::FromFile(certificates_->ca.certificate);
    return set;
  };
  const TlsSnapshot sets[] = {set_of(certificates_->server), set_of(*renewed),
                              set_of(certificates_->server)};
  auto modified_seconds = [&](const char* file) {
    struct stat info;
    const std::string path =
        absl::StrCat((*stage)->directory(), "/current/", file);
    return stat(path.c_str(), &info) == 0 ? info.st_mtime : time_t{-1};
  };
  auto write_and_check = [&](const TlsSnapshot& set) {
    EXPECT_TRUE((*stage)->Write(set).ok());
    const time_t key = modified_seconds("key.pem");
    EXPECT_EQ(modified_seconds("chain.pem"), key);
    EXPECT_EQ(modified_seconds("client_ca.pem"), key);
    return key;
  };
  const time_t now = absl::ToUnixSeconds(clock_.Now());
  // Three writes while the clock stands still: a second each.
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(write_and_check(sets[i]), now + i);
  }
  // Once the clock has passed them, generations are dated by the clock.
  clock_.Advance(absl::Seconds(10));
  EXPECT_EQ(write_and_check(sets[0]), now + 10);
}

}  // namespace
}  // namespace geo::tls
