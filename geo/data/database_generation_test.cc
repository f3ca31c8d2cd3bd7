// A generation's lifecycle on its own, as GeoStore::Reload drives it:
// inheriting rendered answers (only what the predecessor cached), releasing
// them, mapping the tree in and retiring, each within the budget it is given.
#include "geo/data/database_generation.h"

#include <unistd.h>

#include <cstdint>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "absl/types/span.h"
#include "gtest/gtest.h"
#include "tests/support/process_stats.h"
#include "tests/support/test_files.h"

namespace geo {
namespace {

const char kAddresses[][20] = {"81.2.69.142",   "81.2.69.160", "89.160.20.112",
                               "216.160.83.56", "2001:218::1", "67.43.156.1"};

std::shared_ptr<DatabaseGeneration> OpenCity() {
  absl::StatusOr<std::shared_ptr<DatabaseGeneration>> generation =
      DatabaseGeneration::Open(absl::StrCat(
          testing::MaxmindTestDataDir(), "/test-data/GeoIP2-City-Test.mmdb"));
  EXPECT_TRUE(generation.ok()) << generation.status();
  return generation.ok() ? *generation : nullptr;
}

// Looks every address up in `generation` and renders its answer with a
// renderer that counts its calls; returns the bodies.
std::vector<std::string> RenderAll(const DatabaseGeneration& generation,
                                   int* renders) {
  const AnswerRenderer counting = [renders](const geo::v1::LookupResponse& r) {
    ++*renders;
    return absl::StrCat("{\"ip\":\"", r.ip(), "\",\"network\":\"", r.network(),
                        "\",\"country\":\"", r.country().iso_code(), "\"}");
  };
  std::vector<std::string> bodies;
  for (const char* text : kAddresses) {
    LookupAnswer answer;
    EXPECT_TRUE(generation.Find(*IpAddress::Parse(text), "en", &answer).ok());
    std::string body;
    answer.AppendRendered(counting, &body);
    bodies.push_back(body);
  }
  return bodies;
}

TEST(DatabaseGenerationTest, InheritsTheRenderedAnswersItsPredecessorCached) {
  std::shared_ptr<DatabaseGeneration> first = OpenCity();
  ASSERT_NE(first, nullptr);
  int renders = 0;
  const std::vector<std::string> bodies = RenderAll(*first, &renders);
  ASSERT_GT(renders, 3);

  // The same file again: every record is byte-identical.
  std::shared_ptr<DatabaseGeneration> second = OpenCity();
  BackgroundWork work = BackgroundWork::Unyielding();
  second->InheritRenderedAnswers(*first, work);
  renders = 0;
  EXPECT_EQ(RenderAll(*second, &renders), bodies);
  EXPECT_EQ(renders, 0);

  // Released before any lookup: nothing is reused.
  std::shared_ptr<DatabaseGeneration> released = OpenCity();
  released->InheritRenderedAnswers(*first, work);
  released->ReleaseInheritedAnswers();
  renders = 0;
  EXPECT_EQ(RenderAll(*released, &renders), bodies);
  EXPECT_GT(renders, 3);
}

TEST(DatabaseGenerationTest, HandsOnOnlyWhatItCachedNotWhatItInherited) {
  std::shared_ptr<DatabaseGeneration> first = OpenCity();
  int renders = 0;
  RenderAll(*first, &renders);
  BackgroundWork work = BackgroundWork::Unyielding();
  // Inherits, but serves no lookup: its own cache stays empty.
  std::shared_ptr<DatabaseGeneration> idle = OpenCity();
  idle->InheritRenderedAnswers(*first, work);
  std::shared_ptr<DatabaseGeneration> third = OpenCity();
  third->InheritRenderedAnswers(*idle, work);
  renders = 0;
  RenderAll(*third, &renders);
  EXPECT_GT(renders, 3);
}

TEST(DatabaseGenerationTest, RetiringEmptiesTheCacheInStepsAndKeepsAnswering) {
  std::shared_ptr<DatabaseGeneration> generation = OpenCity();
  ASSERT_NE(generation, nullptr);
  int renders = 0;
  const std::vector<std::string> bodies = RenderAll(*generation, &renders);
  ASSERT_GT(generation->record_cache_stats().entries, 0u);

  BackgroundWork work(absl::ZeroDuration());
  generation->Retire(work);
  EXPECT_EQ(generation->record_cache_stats().entries, 0u);
  // A step per cache shard, then per MiB of mapping; each yields here.
  EXPECT_GT(work.steps(), RecordCache::kShards);
  EXPECT_EQ(work.yields(), work.steps());

  // A lookup still running on a retired generation decodes again.
  EXPECT_EQ(RenderAll(*generation, &renders), bodies);
  EXPECT_GT(generation->record_cache_stats().entries, 0u);
}

TEST(DatabaseGenerationTest, MappingTheTreeStepsThroughItWithinTheBudget) {
  std::shared_ptr<DatabaseGeneration> generation = OpenCity();
  ASSERT_NE(generation, nullptr);
  const size_t tree = generation->database().search_tree().size();
  ASSERT_GT(tree, 0u);
  EXPECT_LT(tree, generation->database().mapped_file().size());
  BackgroundWork work(absl::ZeroDuration());
  generation->MapSearchTree(work);
  const size_t chunk = size_t{1} << 20;
  EXPECT_EQ(work.steps(), (tree + chunk - 1) / chunk);
  int renders = 0;
  EXPECT_EQ(RenderAll(*generation, &renders).size(), std::size(kAddresses));
}

TEST(DatabaseGenerationTest, MappingTheDataSectionPopulatesItsPages) {
  std::shared_ptr<DatabaseGeneration> generation = OpenCity();
  ASSERT_NE(generation, nullptr);
  const absl::Span<const uint8_t> file = generation->database().mapped_file();
  const size_t tree = generation->database().search_tree().size();
  ASSERT_LT(tree, file.size());
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t data_start = tree / page * page;
  // Retiring drops every entry the open made (validation reads pages).
  BackgroundWork work(absl::ZeroDuration());
  generation->Retire(work);
  ASSERT_EQ(testing::MappingResidentKiB(getpid(), file.data()), 0);

  BackgroundWork data_work(absl::ZeroDuration());
  generation->MapDataSection(data_work);
  // At least the data section's pages (the kernel may map neighbours too).
  EXPECT_GE(testing::MappingResidentKiB(getpid(), file.data()),
            static_cast<int64_t>((file.size() - data_start + page - 1) / page *
                                 (page / 1024)));
  // A step per MiB, from the page the data section starts in.
  const size_t chunk = size_t{1} << 20;
  EXPECT_EQ(data_work.steps(), (file.size() - data_start + chunk - 1) / chunk);
  int renders = 0;
  EXPECT_EQ(RenderAll(*generation, &renders).size(), std::size(kAddresses));
}

TEST(DatabaseGenerationTest, CountsDecodesAndCacheHits) {
  std::shared_ptr<DatabaseGeneration> generation = OpenCity();
  ASSERT_NE(generation, nullptr);
  LookupAnswer answer;
  const IpAddress ip = *IpAddress::Parse("81.2.69.160");
  ASSERT_TRUE(generation->Find(ip, "en", &answer).ok());
  ASSERT_TRUE(generation->Find(ip, "en", &answer).ok());
  EXPECT_EQ(generation->record_decode_stats().decodes, 1u);
  EXPECT_EQ(generation->record_cache_stats().hits, 1u);
  // The database itself keeps no count: it decodes every time.
  geo::v1::LookupResponse response;
  ASSERT_TRUE(generation->database().Lookup(ip, "en", &response).ok());
  EXPECT_EQ(generation->record_decode_stats().decodes, 1u);
}

TEST(DatabaseGenerationTest, TheDefaultLanguageIsAnsweredByTheEnglishRecord) {
  std::shared_ptr<DatabaseGeneration> generation = OpenCity();
  ASSERT_NE(generation, nullptr);
  const IpAddress ip = *IpAddress::Parse("81.2.69.160");
  LookupAnswer answer;
  ASSERT_TRUE(generation->Find(ip, "en", &answer).ok());
  ASSERT_TRUE(generation->Find(ip, "", &answer).ok());
  ASSERT_TRUE(generation->Find(ip, "", &answer).ok());
  EXPECT_EQ(generation->record_decode_stats().decodes, 1u);
}

}  // namespace
}  // namespace geo
