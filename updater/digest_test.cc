#include "updater/digest.h"

#include <cstdlib>
#include <fstream>
#include <string>

#include "gtest/gtest.h"

namespace geo::updater {
namespace {

TEST(DigestTest, KnownVectors) {
  Hasher md5(DigestAlgorithm::kMd5);
  md5.Update("abc");
  EXPECT_EQ(md5.FinishHex(), "900150983cd24fb0d6963f7d28e17f72");
  Hasher sha256(DigestAlgorithm::kSha256);
  sha256.Update("ab");
  sha256.Update("c");
  EXPECT_EQ(sha256.FinishHex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(DigestTest, FileDigest) {
  std::string path = std::string(std::getenv("TEST_TMPDIR")) + "/abc";
  std::ofstream(path) << "abc";
  EXPECT_EQ(*FileDigestHex(path, DigestAlgorithm::kMd5),
            "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_TRUE(absl::IsNotFound(
      FileDigestHex(path + ".missing", DigestAlgorithm::kMd5).status()));
}

TEST(DigestTest, DigestsEqualIgnoresCaseButNotEmptiness) {
  EXPECT_TRUE(DigestsEqual("ABCDEF", "abcdef"));
  EXPECT_FALSE(DigestsEqual("abc", "abd"));
  EXPECT_FALSE(DigestsEqual("", ""));
}

}  // namespace
}  // namespace geo::updater
