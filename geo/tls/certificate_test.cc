#include "geo/tls/certificate.h"

#include <sys/stat.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "geo/tls/identity.h"
#include "geo/tls/test_certificates.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::tls {
namespace {

using testing::CertificateFiles;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::ReadFile;
using testing::TestCertificates;

class CertificateTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TEST_TMPDIR");
    absl::StatusOr<TestCertificates> made = testing::MakeTestCertificates(
        absl::StrCat(tmp != nullptr ? tmp : "/tmp", "/certificate_test"));
    ASSERT_TRUE(made.ok()) << made.status();
    certificates_ = new TestCertificates(*std::move(made));
  }
  static void TearDownTestSuite() { delete certificates_; }

  static std::string Read(const std::string& path) {
    absl::StatusOr<std::string> text = ReadFile(path);
    EXPECT_TRUE(text.ok()) << text.status();
    return text.ok() ? *text : "";
  }

  static TestCertificates* certificates_;
};

TestCertificates* CertificateTest::certificates_ = nullptr;

TEST_F(CertificateTest, LoadsAMatchingPairValidNow) {
  const absl::Time now = absl::Now();
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair = KeyPair::FromFiles(
      certificates_->server.certificate, certificates_->server.key, now);
  ASSERT_TRUE(pair.ok()) << pair.status();
  const CertificateSummary& leaf = (*pair)->leaf_summary();
  EXPECT_EQ(leaf.subject, "CN=geo-server");
  EXPECT_FALSE(leaf.serial.empty());
  // The certificate was made for 30 days.
  EXPECT_LT(absl::AbsDuration(leaf.not_after - (now + absl::Hours(24 * 30))),
            absl::Hours(1));
  EXPECT_EQ((*pair)->chain().size(), 1u);
}

// KeyPair::FromFiles refuses `files` now with `code` and a message holding
// `message`.
void ExpectRefused(const CertificateFiles& files, absl::StatusCode code,
                   absl::string_view message) {
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
      KeyPair::FromFiles(files.certificate, files.key, absl::Now());
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.status().code(), code);
  EXPECT_THAT(pair.status().message(), HasSubstr(message));
}

TEST_F(CertificateTest, RefusesAnExpiredCertificate) {
  ExpectRefused(certificates_->expired_server,
                absl::StatusCode::kFailedPrecondition, "expired");
}

TEST_F(CertificateTest, RefusesAKeyFromAnotherPair) {
  ExpectRefused(certificates_->wrong_key_server,
                absl::StatusCode::kInvalidArgument, "does not match");
}

TEST_F(CertificateTest, ChecksValidityAgainstTheGivenTimeWithSkew) {
  const std::string chain = Read(certificates_->server.certificate);
  const std::string key = Read(certificates_->server.key);
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
      KeyPair::FromPem(chain, key, absl::Now());
  ASSERT_TRUE(pair.ok()) << pair.status();
  const absl::Time not_before = (*pair)->leaf_summary().not_before;
  EXPECT_TRUE(KeyPair::FromPem(chain, key, not_before - absl::Minutes(1)).ok());
  absl::StatusOr<std::shared_ptr<const KeyPair>> early =
      KeyPair::FromPem(chain, key, not_before - absl::Hours(1));
  EXPECT_EQ(early.status().code(), absl::StatusCode::kFailedPrecondition);
  const absl::Time not_after = (*pair)->leaf_summary().not_after;
  EXPECT_EQ(KeyPair::FromPem(chain, key, not_after).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, AcceptsAChainInOrderAndRefusesItReversed) {
  const std::string leaf = Read(certificates_->server.certificate);
  const std::string ca = Read(certificates_->ca.certificate);
  const std::string key = Read(certificates_->server.key);
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
      KeyPair::FromPem(leaf + ca, key, absl::Now());
  ASSERT_TRUE(pair.ok()) << pair.status();
  EXPECT_EQ((*pair)->chain().size(), 2u);
  // The CA first: its key is not the pair's.
  EXPECT_FALSE(KeyPair::FromPem(ca + leaf, key, absl::Now()).ok());
  // A chain whose second certificate did not issue the first.
  absl::StatusOr<std::shared_ptr<const KeyPair>> stranger = KeyPair::FromPem(
      leaf + Read(certificates_->other_ca.certificate), key, absl::Now());
  ASSERT_FALSE(stranger.ok());
  EXPECT_EQ(stranger.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(stranger.status().message(), HasSubstr("did not issue"));
}

TEST_F(CertificateTest, RefusesEveryHalfWrittenCertificateOrKey) {
  const std::string chain = Read(certificates_->server.certificate);
  const std::string key = Read(certificates_->server.key);
  // Up to the last base64 line's end: anything shorter lacks the END line.
  const size_t chain_end = chain.rfind("-----END");
  for (size_t length = 0; length < chain_end + 5; ++length) {
    absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
        KeyPair::FromPem(chain.substr(0, length), key, absl::Now());
    ASSERT_FALSE(pair.ok()) << "certificate cut at " << length;
    EXPECT_EQ(pair.status().code(), absl::StatusCode::kDataLoss) << length;
  }
  const size_t key_end = key.rfind("-----END");
  for (size_t length = 0; length < key_end + 5; ++length) {
    absl::StatusOr<std::shared_ptr<const KeyPair>> pair =
        KeyPair::FromPem(chain, key.substr(0, length), absl::Now());
    ASSERT_FALSE(pair.ok()) << "key cut at " << length;
    EXPECT_EQ(pair.status().code(), absl::StatusCode::kDataLoss) << length;
  }
}

TEST_F(CertificateTest, RefusesAnEncryptedKeyWithoutPrompting) {
  const std::string encrypted =
      absl::StrCat(certificates_->directory, "/encrypted.key");
  ASSERT_TRUE(
      testing::RunOpenSsl({"pkey", "-in", certificates_->server.key, "-aes256",
                           "-passout", "pass:secret", "-out", encrypted})
          .ok());
  absl::StatusOr<std::shared_ptr<const KeyPair>> pair = KeyPair::FromFiles(
      certificates_->server.certificate, encrypted, absl::Now());
  ASSERT_FALSE(pair.ok());
  EXPECT_EQ(pair.status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(CertificateTest, ParsesBundlesWithCommentsAndRefusesDamage) {
  const std::string ca = Read(certificates_->ca.certificate);
  const std::string other = Read(certificates_->other_ca.certificate);
  absl::StatusOr<std::shared_ptr<const CertificateBundle>> bundle =
      CertificateBundle::FromPem(
          absl::StrCat("# geo test CA\n", ca, "\n# another\n", other));
  ASSERT_TRUE(bundle.ok()) << bundle.status();
  EXPECT_EQ((*bundle)->certificates().size(), 2u);
  EXPECT_GT((*bundle)->earliest_not_after(), absl::Now());

  EXPECT_EQ(CertificateBundle::FromPem("").status().code(),
            absl::StatusCode::kDataLoss);
  EXPECT_EQ(CertificateBundle::FromPem("hello\n").status().code(),
            absl::StatusCode::kDataLoss);
  // Damaged base64 inside the second block.
  std::string damaged = other;
  damaged[damaged.size() / 2] = '!';
  EXPECT_EQ(CertificateBundle::FromPem(ca + damaged).status().code(),
            absl::StatusCode::kDataLoss);
  // A key where a certificate should be.
  EXPECT_EQ(
      CertificateBundle::FromPem(Read(certificates_->ca.key)).status().code(),
      absl::StatusCode::kDataLoss);
}

TEST_F(CertificateTest, ReadPemFileRefusesWhatIsNotASmallRegularFile) {
  EXPECT_EQ(
      ReadPemFile(certificates_->directory + "/missing.pem").status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(ReadPemFile(certificates_->directory).status().code(),
            absl::StatusCode::kFailedPrecondition);
  const std::string big = certificates_->directory + "/big.pem";
  ASSERT_TRUE(
      testing::WriteFile(big, std::string(kMaxPemFileBytes + 1, 'A')).ok());
  EXPECT_EQ(ReadPemFile(big).status().code(),
            absl::StatusCode::kFailedPrecondition);
}

TEST_F(CertificateTest, IdentityNamesTheSanUriDnsAndCommonName) {
  absl::StatusOr<std::vector<X509Ptr>> client =
      ParseCertificates(Read(certificates_->client.certificate));
  ASSERT_TRUE(client.ok()) << client.status();
  const PeerIdentity identity = IdentityOf(client->front().get());
  EXPECT_THAT(identity.uris, ElementsAre(testing::kIngressIdentity));
  EXPECT_TRUE(identity.dns_names.empty());
  EXPECT_EQ(identity.common_name, "ingress");
  EXPECT_EQ(identity.primary(), testing::kIngressIdentity);

  absl::StatusOr<std::vector<X509Ptr>> server =
      ParseCertificates(Read(certificates_->server.certificate));
  ASSERT_TRUE(server.ok());
  const PeerIdentity server_identity = IdentityOf(server->front().get());
  EXPECT_THAT(server_identity.dns_names, ElementsAre("localhost"));
  EXPECT_EQ(server_identity.primary(), "localhost");
  EXPECT_TRUE(IdentityOf(nullptr).empty());
}

TEST(ClientIdentityAllowListTest, MatchesAnyNameExactly) {
  absl::StatusOr<ClientIdentityAllowList> list =
      ClientIdentityAllowList::Create({testing::kIngressIdentity, "billing"});
  ASSERT_TRUE(list.ok()) << list.status();
  PeerIdentity ingress;
  ingress.uris = {testing::kIngressIdentity};
  EXPECT_TRUE(list->Allows(ingress));
  PeerIdentity billing;
  billing.dns_names = {"x.example"};
  billing.common_name = "billing";
  EXPECT_TRUE(list->Allows(billing));
  PeerIdentity other;
  other.uris = {testing::kOtherIdentity};
  other.common_name = "billing-2";
  EXPECT_FALSE(list->Allows(other));
  EXPECT_FALSE(list->Allows(PeerIdentity()));
  PeerIdentity prefix;
  prefix.uris = {std::string(testing::kIngressIdentity) + "/x"};
  EXPECT_FALSE(list->Allows(prefix));
  EXPECT_TRUE(list->AllowsAnyOf({"nobody", "billing"}));
  EXPECT_FALSE(list->AllowsAnyOf({"nobody"}));

  EXPECT_TRUE(ClientIdentityAllowList().Allows(PeerIdentity()));
  EXPECT_FALSE(ClientIdentityAllowList::Create({""}).ok());
  EXPECT_FALSE(ClientIdentityAllowList::Create({"a b"}).ok());
  EXPECT_FALSE(ClientIdentityAllowList::Create({"a\nb"}).ok());
}

}  // namespace
}  // namespace geo::tls
