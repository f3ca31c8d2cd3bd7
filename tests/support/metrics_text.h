// Reading samples out of the Prometheus text exposition a server serves.
#ifndef TESTS_SUPPORT_METRICS_TEXT_H_
#define TESTS_SUPPORT_METRICS_TEXT_H_

#include <string>

namespace geo::testing {

// The value of the series named exactly `series` (name plus labels as the
// exposition prints them, e.g. `x_total{result="failure"}`), or -1 when the
// exposition has no such sample.
double MetricSample(const std::string& exposition, const std::string& series);

// The sum of every series of the metric `name` (all label sets); 0 when it
// has none.
double MetricSum(const std::string& exposition, const std::string& name);

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_METRICS_TEXT_H_
