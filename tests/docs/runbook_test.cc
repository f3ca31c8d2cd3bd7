// Every alert in k8s/monitoring/alerts.yaml has its runbook in MAINTENANCE.md:
// its runbook_url is MAINTENANCE.md#<fragment>, a heading of MAINTENANCE.md
// has exactly that GitHub anchor, and the section quotes the alert's PromQL
// (the `expr`, in a ```promql block). And no runbook section outlives its
// alert.
#include <set>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "gtest/gtest.h"
#include "tests/docs/markdown.h"
#include "yaml-cpp/yaml.h"

namespace geo::docs {
namespace {

constexpr char kMaintenance[] = "MAINTENANCE.md";
constexpr char kAlerts[] = "k8s/monitoring/alerts.yaml";
// The section whose subsections are the runbooks.
constexpr char kRunbooks[] = "troubleshooting-with-red-metrics";
constexpr char kRunbookPrefix[] = "MAINTENANCE.md#";

struct Alert {
  std::string name;
  std::string expr;
  std::string runbook_url;
};

std::vector<Alert> LoadAlerts() {
  std::vector<Alert> alerts;
  YAML::Node root = YAML::LoadFile(kAlerts);
  for (const YAML::Node& group : root["groups"]) {
    for (const YAML::Node& rule : group["rules"]) {
      if (!rule["alert"]) continue;  // A recording rule.
      Alert alert;
      alert.name = rule["alert"].as<std::string>();
      alert.expr = rule["expr"].as<std::string>();
      if (rule["annotations"] && rule["annotations"]["runbook_url"]) {
        alert.runbook_url =
            rule["annotations"]["runbook_url"].as<std::string>();
      }
      alerts.push_back(alert);
    }
  }
  return alerts;
}

// PromQL compared with all whitespace removed: the runbook may wrap lines.
std::string Squeeze(absl::string_view text) {
  std::string out;
  for (char c : text) {
    if (!absl::ascii_isspace(static_cast<unsigned char>(c))) out.push_back(c);
  }
  return out;
}

class RunbookTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(doc_.ok()) << doc_.status();
    alerts_ = LoadAlerts();
    ASSERT_FALSE(alerts_.empty()) << "no alerts in " << kAlerts;
  }
  const absl::StatusOr<MarkdownDocument> doc_ = ReadMarkdownFile(kMaintenance);
  std::vector<Alert> alerts_;
};

TEST_F(RunbookTest, EveryAlertHasItsRunbookSection) {
  for (const Alert& alert : alerts_) {
    SCOPED_TRACE(alert.name);
    absl::string_view url = alert.runbook_url;
    ASSERT_TRUE(absl::ConsumePrefix(&url, kRunbookPrefix))
        << "runbook_url \"" << alert.runbook_url << "\" is not "
        << kRunbookPrefix << "<anchor>";
    const Heading* heading = doc_->FindHeading(url);
    ASSERT_NE(heading, nullptr)
        << kMaintenance << " has no heading with anchor #" << url
        << " (runbook_url of " << alert.name << ")";
    // The heading names the alert, so a reader finds it by the page's name.
    EXPECT_TRUE(absl::StrContains(heading->text, alert.name))
        << "heading \"" << heading->text << "\" does not name " << alert.name;
    // It sits in the troubleshooting section.
    const Heading* runbooks = doc_->FindHeading(kRunbooks);
    ASSERT_NE(runbooks, nullptr) << kMaintenance << " has no #" << kRunbooks;
    auto [begin, end] = doc_->SectionRange(*runbooks);
    EXPECT_TRUE(heading->line >= begin && heading->line < end)
        << "#" << url << " is outside #" << kRunbooks;
    // And quotes the expression.
    auto [section_begin, section_end] = doc_->SectionRange(*heading);
    bool quoted = false;
    for (const FencedBlock* block :
         doc_->BlocksIn(section_begin, section_end)) {
      if (block->info == "promql" &&
          Squeeze(block->content) == Squeeze(alert.expr)) {
        quoted = true;
      }
    }
    EXPECT_TRUE(quoted) << "#" << url
                        << " has no ```promql block equal to the rule's "
                           "expr:\n"
                        << alert.expr;
  }
}

TEST_F(RunbookTest, EveryRunbookSectionHasItsAlert) {
  const Heading* runbooks = doc_->FindHeading(kRunbooks);
  ASSERT_NE(runbooks, nullptr) << kMaintenance << " has no #" << kRunbooks;
  std::set<std::string> linked;
  for (const Alert& alert : alerts_) {
    absl::string_view url = alert.runbook_url;
    if (absl::ConsumePrefix(&url, kRunbookPrefix)) linked.emplace(url);
  }
  auto [begin, end] = doc_->SectionRange(*runbooks);
  int sections = 0;
  for (const Heading& heading : doc_->headings()) {
    if (heading.line < begin || heading.line >= end ||
        heading.level != runbooks->level + 1) {
      continue;
    }
    // Runbook sections are the ones that quote a rule.
    auto [section_begin, section_end] = doc_->SectionRange(heading);
    bool has_promql = false;
    for (const FencedBlock* block :
         doc_->BlocksIn(section_begin, section_end)) {
      has_promql |= block->info == "promql";
    }
    if (!has_promql) continue;
    ++sections;
    EXPECT_TRUE(linked.count(heading.anchor))
        << "runbook #" << heading.anchor << " (\"" << heading.text
        << "\") is not the runbook_url of any alert in " << kAlerts;
  }
  EXPECT_EQ(sections, static_cast<int>(alerts_.size()));
}

}  // namespace
}  // namespace geo::docs
