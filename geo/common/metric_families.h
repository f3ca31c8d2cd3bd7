// Registration of prometheus-cpp metric families, one call each. A family is
// registered once, at startup; its children are created with Family::Add
// (which takes a mutex and hashes the labels) before the hot path, which then
// only increments the kept references.
#ifndef GEO_COMMON_METRIC_FAMILIES_H_
#define GEO_COMMON_METRIC_FAMILIES_H_

#include <string>

#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"

namespace geo {

// The family `name` with `help` on `registry`. prometheus-cpp throws when a
// name is registered twice with another type or help: a bug of the caller.
prometheus::Family<prometheus::Counter>& CounterFamily(
    prometheus::Registry& registry, const std::string& name,
    const std::string& help);
prometheus::Family<prometheus::Gauge>& GaugeFamily(
    prometheus::Registry& registry, const std::string& name,
    const std::string& help);
prometheus::Family<prometheus::Histogram>& HistogramFamily(
    prometheus::Registry& registry, const std::string& name,
    const std::string& help);

}  // namespace geo

#endif  // GEO_COMMON_METRIC_FAMILIES_H_
