#include "geo/policy/policy_store.h"

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "geo/common/ip_address.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace geo::policy {
namespace {

using ::testing::HasSubstr;

class PolicyStoreTest : public ::testing::Test {
 protected:
  std::string Write(const std::string& name, const std::string& content) {
    const std::string path =
        std::string(std::getenv("TEST_TMPDIR")) + "/" + name;
    std::ofstream(path, std::ios::trunc) << content;
    return path;
  }

  static PolicyInput Input(absl::string_view ip, absl::string_view country) {
    PolicyInput input;
    input.ip = *IpAddress::Parse(ip);
    input.found = true;
    input.country_iso_code = country;
    return input;
  }

  PolicyStore store_;
};

TEST_F(PolicyStoreTest, EmptyStoreAllows) {
  EXPECT_EQ(store_.Current(), nullptr);
  const Decision decision = store_.Evaluate(Input("1.2.3.4", "KP"));
  EXPECT_TRUE(decision.allowed);
  EXPECT_EQ(decision.reason, "no policy configured: allowed by default");
}

TEST_F(PolicyStoreTest, ReloadMakesThePolicyCurrent) {
  ASSERT_TRUE(
      store_
          .Reload(Write("policy.yaml",
                        "default_action: allow\ndeny: {countries: [KP]}\n"))
          .ok());
  EXPECT_FALSE(store_.Evaluate(Input("1.2.3.4", "KP")).allowed);
  EXPECT_TRUE(store_.Evaluate(Input("1.2.3.4", "DE")).allowed);
  store_.Replace(std::shared_ptr<const PolicySet>());
  EXPECT_EQ(store_.Evaluate(Input("1.2.3.4", "KP")).reason,
            "no policy configured: allowed by default");
}

TEST_F(PolicyStoreTest, BadReloadKeepsTheOldPolicy) {
  const std::string path =
      Write("policy.json",
            R"({"default_action": "allow", "deny": {"countries": ["KP"]}})");
  ASSERT_TRUE(store_.Reload(path).ok());
  const auto before = store_.Current();

  for (const std::string& content :
       {std::string(
            R"({"default_action": "allow", "deny": {"countries": ["XX"]}})"),
        std::string(R"({"default_action": "allow", "colour": "red"})"),
        std::string("{ truncated")}) {
    const absl::Status status = store_.Reload(Write("policy.json", content));
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << content;
    EXPECT_THAT(status.message(), HasSubstr("policy.json"));
    EXPECT_EQ(store_.Current(), before);
    EXPECT_EQ(store_.Evaluate(Input("1.2.3.4", "KP")).reason,
              "country KP is in deny list");
  }
  EXPECT_EQ(store_.Reload(path + ".missing").code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(store_.Current(), before);
}

TEST_F(PolicyStoreTest, ConcurrentEvaluateAndReload) {
  const std::string deny_path =
      Write("deny.yaml", "default_action: allow\ndeny: {countries: [KP]}\n");
  const std::string allow_path =
      Write("allow.yaml", "default_action: deny\nallow: {countries: [KP]}\n");
  const std::string bad_path = Write("bad.yaml", "default_action: sometimes\n");
  ASSERT_TRUE(store_.Reload(deny_path).ok());

  std::atomic<bool> stop{false};
  std::atomic<int> unexpected{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 4; ++i) {
    readers.emplace_back([&] {
      while (!stop.load()) {
        const Decision decision = store_.Evaluate(Input("1.2.3.4", "KP"));
        // Always one of the two valid policies, never the bad one or none.
        if (decision.reason != "country KP is in deny list" &&
            decision.reason != "country KP is in allow list") {
          unexpected.fetch_add(1);
        }
      }
    });
  }
  for (int i = 0; i < 100; ++i) {
    EXPECT_TRUE(store_.Reload(i % 2 == 0 ? allow_path : deny_path).ok());
    EXPECT_FALSE(store_.Reload(bad_path).ok());
  }
  stop.store(true);
  for (auto& reader : readers) reader.join();
  EXPECT_EQ(unexpected.load(), 0);
  EXPECT_EQ(store_.Evaluate(Input("1.2.3.4", "KP")).reason,
            "country KP is in deny list");
}

}  // namespace
}  // namespace geo::policy
