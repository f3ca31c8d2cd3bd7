#include "geo/common/status_macros.h"

#include <memory>
#include <string>
#include <utility>

#include "absl/strings/cord.h"
#include "gtest/gtest.h"

namespace geo {
namespace {

absl::Status FailWith(absl::StatusCode code, int* calls) {
  ++*calls;
  return absl::Status(code, "failed");
}

absl::StatusOr<std::unique_ptr<int>> MakeInt(int value) {
  if (value < 0) return absl::OutOfRangeError("negative");
  return std::make_unique<int>(value);
}

// Runs both checks, counting how far it got.
absl::Status TwoSteps(absl::StatusCode first, int* calls, int* reached_end) {
  GEO_RETURN_IF_ERROR(FailWith(first, calls));
  GEO_RETURN_IF_ERROR(FailWith(absl::StatusCode::kOk, calls));
  ++*reached_end;
  return absl::OkStatus();
}

TEST(ReturnIfErrorTest, ReturnsTheFirstErrorAndEvaluatesOnce) {
  int calls = 0;
  int reached_end = 0;
  absl::Status status =
      TwoSteps(absl::StatusCode::kPermissionDenied, &calls, &reached_end);
  EXPECT_EQ(status.code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(status.message(), "failed");
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(reached_end, 0);
}

TEST(ReturnIfErrorTest, OkFallsThrough) {
  int calls = 0;
  int reached_end = 0;
  EXPECT_TRUE(TwoSteps(absl::StatusCode::kOk, &calls, &reached_end).ok());
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(reached_end, 1);
}

absl::StatusOr<int> ReturnIfErrorInStatusOr(absl::StatusCode code) {
  int calls = 0;
  GEO_RETURN_IF_ERROR(FailWith(code, &calls));
  return 7;
}

TEST(ReturnIfErrorTest, WorksInAFunctionReturningStatusOr) {
  EXPECT_EQ(
      ReturnIfErrorInStatusOr(absl::StatusCode::kNotFound).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(*ReturnIfErrorInStatusOr(absl::StatusCode::kOk), 7);
}

// Two uses in one function (distinct temporaries), a declaration and an
// existing variable, a move-only value.
absl::StatusOr<int> Sum(int a, int b, int* steps) {
  GEO_ASSIGN_OR_RETURN(std::unique_ptr<int> first, MakeInt(a));
  ++*steps;
  std::unique_ptr<int> second;
  GEO_ASSIGN_OR_RETURN(second, MakeInt(b));
  ++*steps;
  return *first + *second;
}

TEST(AssignOrReturnTest, AssignsValuesAndReturnsTheFirstError) {
  int steps = 0;
  EXPECT_EQ(*Sum(2, 3, &steps), 5);
  EXPECT_EQ(steps, 2);

  steps = 0;
  absl::StatusOr<int> failed = Sum(-1, 3, &steps);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(steps, 0);

  steps = 0;
  failed = Sum(1, -3, &steps);
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kOutOfRange);
  EXPECT_EQ(steps, 1);
}

absl::Status AssignInStatusFunction(int value, int* out) {
  GEO_ASSIGN_OR_RETURN(auto made, MakeInt(value));
  *out = *made;
  return absl::OkStatus();
}

TEST(AssignOrReturnTest, WorksInAFunctionReturningStatus) {
  int out = 0;
  EXPECT_TRUE(AssignInStatusFunction(4, &out).ok());
  EXPECT_EQ(out, 4);
  EXPECT_EQ(AssignInStatusFunction(-4, &out).message(), "negative");
  EXPECT_EQ(out, 4);
}

TEST(AnnotateTest, PrefixesTheMessageAndKeepsCodeAndPayloads) {
  absl::Status status = absl::NotFoundError("no such file");
  status.SetPayload("type.example/reason", absl::Cord("disk"));
  absl::Status annotated = Annotate(status, "GeoIP.conf");
  EXPECT_EQ(annotated.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(annotated.message(), "GeoIP.conf: no such file");
  EXPECT_EQ(annotated.GetPayload("type.example/reason"), absl::Cord("disk"));
}

TEST(AnnotateTest, OkStaysOkAndAnEmptyMessageBecomesThePrefix) {
  EXPECT_TRUE(Annotate(absl::OkStatus(), "prefix").ok());
  absl::Status annotated =
      Annotate(absl::Status(absl::StatusCode::kAborted, ""), "lock");
  EXPECT_EQ(annotated.code(), absl::StatusCode::kAborted);
  EXPECT_EQ(annotated.message(), "lock");
}

}  // namespace
}  // namespace geo
