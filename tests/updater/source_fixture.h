// The fixture of the database-source tests (MaxMind and mirror): a fake
// MaxMind server, an instant clock, an HTTP client, a backoff, and an
// installer whose temp files the fetches write.
#ifndef TESTS_UPDATER_SOURCE_FIXTURE_H_
#define TESTS_UPDATER_SOURCE_FIXTURE_H_

#include <optional>

#include "gtest/gtest.h"
#include "tests/updater/fake_maxmind_server.h"
#include "tests/updater/instant_clock.h"
#include "tests/updater/test_archives.h"
#include "updater/http_client.h"
#include "updater/installer.h"
#include "updater/retry.h"
#include "updater/source.h"

namespace geo::updater::testing {

class SourceFixture : public ::testing::Test {
 protected:
  explicit SourceFixture(BackoffPolicy policy = BackoffPolicy())
      : http_(HttpClientOptions(), nullptr),
        backoff_(policy, [] { return 0.5; }),
        installer_(MakeTempDirectory()) {}

  // What a source needs: this fixture's client, backoff and clock.
  SourceContext Context() {
    SourceContext context;
    context.http = &http_;
    context.backoff = &backoff_;
    context.clock = &clock_;
    return context;
  }

  // Fetches `request` from `source` into a new temp file (kept in temp_).
  absl::StatusOr<FetchResult> FetchInto(DatabaseSource& source,
                                        const FetchRequest& request) {
    temp_.emplace(*installer_.CreateTemp("t"));
    return source.Fetch(request, &*temp_);
  }

  FakeMaxMindServer server_;
  InstantClock clock_;
  HttpClient http_;
  Backoff backoff_;
  Installer installer_;
  std::optional<TempFile> temp_;
};

}  // namespace geo::updater::testing

#endif  // TESTS_UPDATER_SOURCE_FIXTURE_H_
