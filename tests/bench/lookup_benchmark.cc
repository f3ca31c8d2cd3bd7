// The lookup core on the real GeoLite2-City, one thread: libmaxminddb's tree
// walk, its full decode, and GeoStore producing the whole answer without,
// with a cold and with a warm decode cache, then as each front end needs it
// (the gRPC message, the HTTP JSON body). tools/bench.sh turns the
// results into ratios against the tree walk measured in the same run.
//
//   bazel run --config=opt //tests/bench:lookup_benchmark -- \
//     --db=$PWD/.deps/geolite2/GeoLite2-City.mmdb
//
// Not a test: nothing here asserts a time.
#include <maxminddb.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "api/geo/v1/geo.pb.h"
#include "benchmark/benchmark.h"
#include "geo/common/clock.h"
#include "geo/common/ip_address.h"
#include "geo/data/database.h"
#include "geo/data/geo_store.h"
#include "geo/data/lookup_answer.h"
#include "geo/data/record_cache.h"
#include "geo/http/grpc_gateway_mapping.h"
#include "geo/server/server_metrics.h"
#include "prometheus/registry.h"

namespace geo {
namespace {

// 2^20 addresses per family: more distinct records than any cache size
// benchmarked, and far more tree than the CPU caches hold.
constexpr size_t kAddresses = size_t{1} << 20;

std::string g_db_path;

MMDB_s* RawDatabase() {
  static MMDB_s* const kMmdb = [] {
    auto* mmdb = new MMDB_s();
    if (MMDB_open(g_db_path.c_str(), MMDB_MODE_MMAP, mmdb) != MMDB_SUCCESS) {
      std::fprintf(stderr, "cannot open %s\n", g_db_path.c_str());
      std::abort();
    }
    return mmdb;
  }();
  return kMmdb;
}

// Uniformly random public addresses: IPv4 over the whole space minus
// private/reserved ranges, IPv6 over the RIRs' /12 blocks where the database
// has a record.
const std::vector<IpAddress>& Addresses(bool v6) {
  static const auto* const kAddressSets = [] {
    auto* sets = new std::array<std::vector<IpAddress>, 2>();
    std::mt19937_64 random(20260918);
    for (int family = 0; family < 2; ++family) {
      std::vector<IpAddress>& set = (*sets)[family];
      set.reserve(kAddresses);
      while (set.size() < kAddresses) {
        IpAddress address;
        if (family == 0) {
          const uint32_t value = static_cast<uint32_t>(random());
          address = IpAddress::FromV4Bytes({static_cast<uint8_t>(value >> 24),
                                            static_cast<uint8_t>(value >> 16),
                                            static_cast<uint8_t>(value >> 8),
                                            static_cast<uint8_t>(value)});
        } else {
          std::array<uint8_t, 16> bytes;
          const uint64_t high = random();
          const uint64_t low = random();
          for (int i = 0; i < 8; ++i) {
            bytes[i] = static_cast<uint8_t>(high >> (56 - 8 * i));
            bytes[8 + i] = static_cast<uint8_t>(low >> (56 - 8 * i));
          }
          // The five RIRs' /12 blocks (2400::/12 APNIC, 2600::/12 ARIN,
          // 2800::/12 LACNIC, 2a00::/12 RIPE NCC, 2c00::/12 AFRINIC): most of
          // 2000::/3 is unallocated and would only measure misses.
          static constexpr uint8_t kRirBlocks[] = {0x24, 0x26, 0x28, 0x2a,
                                                   0x2c};
          bytes[0] = kRirBlocks[bytes[0] % 5];
          bytes[1] &= 0x0f;
          address = IpAddress::FromV6Bytes(bytes);
        }
        if (address.IsPrivateOrReserved()) continue;
        if (family == 1) {
          // Even there, only ~6% of uniformly random addresses have a
          // record; keep those, so IPv6 measures lookups that find a record
          // (IPv4 keeps misses: ~99.6% of its addresses are found anyway).
          int error = 0;
          if (!MMDB_lookup_sockaddr(RawDatabase(), address.as_sockaddr(),
                                    &error)
                   .found_entry) {
            continue;
          }
        }
        set.push_back(address);
      }
    }
    return sets;
  }();
  return (*kAddressSets)[v6 ? 1 : 0];
}

std::unique_ptr<GeoStore> NewStore(size_t cache_slots) {
  GeoStoreOptions options;
  options.paths = {g_db_path};
  options.log_reloads = false;
  options.generation.record_cache_slots = cache_slots;
  auto store = std::make_unique<GeoStore>(std::move(options));
  const absl::Status status = store->ReloadAll();
  if (!status.ok()) {
    std::fprintf(stderr, "%s\n", status.ToString().c_str());
    std::abort();
  }
  return store;
}

void BM_RawTreeWalk(benchmark::State& state) {
  const std::vector<IpAddress>& addresses = Addresses(state.range(0));
  MMDB_s* mmdb = RawDatabase();
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    int error = 0;
    const MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(mmdb, addresses[i].as_sockaddr(), &error);
    found += result.found_entry;
    benchmark::DoNotOptimize(result);
    if (++i == addresses.size()) i = 0;
  }
  state.counters["found"] = benchmark::Counter(
      static_cast<double>(found), benchmark::Counter::kAvgIterations);
}

// The tree half of geo's own lookups (Database::Locate): IPv4 from the /16
// table of Ipv4PrefixIndex, IPv6 through libmaxminddb, each with the text
// of the network it found.
void BM_Locate(benchmark::State& state) {
  const std::vector<IpAddress>& addresses = Addresses(state.range(0));
  static const Database* const kDatabase =
      [] {
        absl::StatusOr<std::shared_ptr<const Database>> opened =
            Database::Open(g_db_path);
        if (!opened.ok()) {
          std::fprintf(stderr, "%s\n", opened.status().ToString().c_str());
          std::abort();
        }
        return new std::shared_ptr<const Database>(*std::move(opened));
      }()
          ->get();
  size_t i = 0;
  int64_t found = 0;
  for (auto _ : state) {
    absl::StatusOr<std::optional<RecordLocation>> location =
        kDatabase->Locate(addresses[i]);
    found += location.ok() && location->has_value();
    benchmark::DoNotOptimize(location);
    if (++i == addresses.size()) i = 0;
  }
  state.counters["found"] = benchmark::Counter(
      static_cast<double>(found), benchmark::Counter::kAvgIterations);
}

void BM_RawFullDecode(benchmark::State& state) {
  const std::vector<IpAddress>& addresses = Addresses(state.range(0));
  MMDB_s* mmdb = RawDatabase();
  size_t i = 0;
  for (auto _ : state) {
    int error = 0;
    MMDB_lookup_result_s result =
        MMDB_lookup_sockaddr(mmdb, addresses[i].as_sockaddr(), &error);
    if (result.found_entry) {
      MMDB_entry_data_list_s* list = nullptr;
      MMDB_get_entry_data_list(&result.entry, &list);
      benchmark::DoNotOptimize(list);
      MMDB_free_entry_data_list(list);
    }
    if (++i == addresses.size()) i = 0;
  }
}

// GeoStore::Find as LookupService calls it for both front ends: snapshot,
// tree walk, record (decoded or cached), network and ip strings, returned as
// a LookupAnswer that shares the cached record.
void RunGeoStore(benchmark::State& state, const GeoStore& store) {
  const std::vector<IpAddress>& addresses = Addresses(state.range(0));
  size_t i = 0;
  for (auto _ : state) {
    absl::StatusOr<LookupAnswer> answer = store.Find(addresses[i], "");
    benchmark::DoNotOptimize(answer);
    if (++i == addresses.size()) i = 0;
  }
}

std::string RenderJson(const geo::v1::LookupResponse& response) {
  return http::MessageToGatewayJson(response);
}

void BM_GeoStoreUncached(benchmark::State& state) {
  static const GeoStore* const kStore = NewStore(0).release();
  RunGeoStore(state, *kStore);
}

// One pass over all addresses with a cache that starts empty: what a fresh
// reload costs until the cache has filled.
void BM_GeoStoreColdCache(benchmark::State& state) {
  std::unique_ptr<GeoStore> store =
      NewStore(GenerationOptions().record_cache_slots);
  RunGeoStore(state, *store);
  const RecordCacheStats stats =
      store->Generation(g_db_path)->record_cache_stats();
  state.counters["hit_rate"] =
      static_cast<double>(stats.hits) /
      static_cast<double>(stats.hits + stats.misses + (stats.hits == 0));
}

// The steady state: a cache warmed by a pass over the same addresses. One
// store per family, built and warmed (records rendered too) on first use,
// outside the timing.
const GeoStore& WarmStore(bool v6) {
  static GeoStore* stores[2] = {nullptr, nullptr};
  if (stores[v6] == nullptr) {
    stores[v6] = NewStore(GenerationOptions().record_cache_slots).release();
    for (const IpAddress& address : Addresses(v6)) {
      absl::StatusOr<LookupAnswer> answer = stores[v6]->Find(address, "");
      std::string json;
      if (answer.ok()) answer->AppendRendered(RenderJson, &json);
      benchmark::DoNotOptimize(json);
    }
  }
  return *stores[v6];
}

// Runs `run` on the warm store and reports the cache's hit rate meanwhile.
template <typename Run>
void RunWarm(benchmark::State& state, Run run) {
  const GeoStore& store = WarmStore(state.range(0));
  const RecordCacheStats before =
      store.Generation(g_db_path)->record_cache_stats();
  run(store);
  const RecordCacheStats after =
      store.Generation(g_db_path)->record_cache_stats();
  const double hits = static_cast<double>(after.hits - before.hits);
  const double misses = static_cast<double>(after.misses - before.misses);
  state.counters["hit_rate"] = hits / (hits + misses + (hits + misses == 0));
  state.counters["cache_entries"] = static_cast<double>(after.entries);
}

void BM_GeoStoreWarmCache(benchmark::State& state) {
  RunWarm(state, [&](const GeoStore& store) { RunGeoStore(state, store); });
}

// The answer as the gRPC front end needs it: a LookupResponse message built
// from the cached record (parsed from its wire form).
void BM_GeoStoreMessage(benchmark::State& state) {
  RunWarm(state, [&](const GeoStore& store) {
    const std::vector<IpAddress>& addresses = Addresses(state.range(0));
    size_t i = 0;
    for (auto _ : state) {
      absl::StatusOr<geo::v1::LookupResponse> response =
          store.Lookup(addresses[i], "");
      benchmark::DoNotOptimize(response);
      if (++i == addresses.size()) i = 0;
    }
  });
}

// The answer as the HTTP front end sends it: the JSON body, filled into the
// record's rendered template (rendered on a miss).
void BM_GeoStoreJson(benchmark::State& state) {
  RunWarm(state, [&](const GeoStore& store) {
    const std::vector<IpAddress>& addresses = Addresses(state.range(0));
    size_t i = 0;
    std::string json;
    for (auto _ : state) {
      json.clear();
      absl::StatusOr<LookupAnswer> answer = store.Find(addresses[i], "");
      if (answer.ok()) answer->AppendRendered(RenderJson, &json);
      benchmark::DoNotOptimize(json);
      if (++i == addresses.size()) i = 0;
    }
  });
}

// What a cache miss adds for HTTP: the gateway's JSON writer on one typical
// City answer (81.2.69.160), the work each record's template saves.
void BM_RenderJsonOnly(benchmark::State& state) {
  const GeoStore& store = WarmStore(false);
  absl::StatusOr<IpAddress> ip = IpAddress::Parse("81.2.69.160");
  absl::StatusOr<geo::v1::LookupResponse> record = store.Lookup(*ip, "");
  if (!record.ok()) std::abort();
  for (auto _ : state) {
    std::string json = RenderJson(*record);
    benchmark::DoNotOptimize(json);
  }
}

// Not a timing: how the addresses spread over records, which bounds every
// cache. `best_hit_rate` is the share of lookups that reach the N records
// most looked up, N = the cache's slot count: no cache of that many records
// (not even one that knew the traffic in advance) could hit more often.
void BM_RecordDistribution(benchmark::State& state) {
  const std::vector<IpAddress>& addresses = Addresses(state.range(0));
  MMDB_s* mmdb = RawDatabase();
  absl::flat_hash_map<uint32_t, int64_t> lookups_per_record;
  for (auto _ : state) {
    lookups_per_record.clear();
    for (const IpAddress& address : addresses) {
      int error = 0;
      const MMDB_lookup_result_s result =
          MMDB_lookup_sockaddr(mmdb, address.as_sockaddr(), &error);
      if (result.found_entry) ++lookups_per_record[result.entry.offset];
    }
  }
  std::vector<int64_t> counts;
  counts.reserve(lookups_per_record.size());
  for (const auto& [offset, count] : lookups_per_record)
    counts.push_back(count);
  std::sort(counts.begin(), counts.end(), std::greater<int64_t>());
  const size_t slots =
      RecordCache(GenerationOptions().record_cache_slots).capacity();
  int64_t top = 0;
  for (size_t i = 0; i < counts.size() && i < slots; ++i) top += counts[i];
  state.counters["distinct_records"] = static_cast<double>(counts.size());
  state.counters["cache_slots"] = static_cast<double>(slots);
  state.counters["best_hit_rate"] =
      static_cast<double>(top) / static_cast<double>(addresses.size());
}

// What instrumentation adds to every call (LookupService's CallRecorder and
// RecordCountry), to compare with the per-request time of the HTTP runs.
void BM_MetricsPerCall(benchmark::State& state) {
  ServerMetrics metrics(std::make_shared<prometheus::Registry>(),
                        Clock::Real());
  Clock* clock = Clock::Real();
  for (auto _ : state) {
    ServerMetrics::InFlight in_flight(&metrics, Protocol::kHttp);
    const absl::Time start = clock->Now();
    metrics.RecordCountry("DE");
    metrics.RecordCall(Protocol::kHttp, Method::kLookup, absl::StatusCode::kOk,
                       Result::kFound, clock->Now() - start);
  }
}

// Arg 0 = IPv4, 1 = IPv6.
BENCHMARK(BM_RawTreeWalk)->Arg(0)->Arg(1);
BENCHMARK(BM_Locate)->Arg(0)->Arg(1);
BENCHMARK(BM_RawFullDecode)->Arg(0)->Arg(1);
BENCHMARK(BM_GeoStoreUncached)->Arg(0)->Arg(1);
BENCHMARK(BM_GeoStoreColdCache)->Arg(0)->Arg(1)->Iterations(kAddresses);
BENCHMARK(BM_GeoStoreWarmCache)->Arg(0)->Arg(1);
BENCHMARK(BM_GeoStoreMessage)->Arg(0)->Arg(1);
BENCHMARK(BM_GeoStoreJson)->Arg(0)->Arg(1);
BENCHMARK(BM_RenderJsonOnly);
BENCHMARK(BM_RecordDistribution)->Arg(0)->Arg(1)->Iterations(1);
BENCHMARK(BM_MetricsPerCall);

}  // namespace
}  // namespace geo

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    if (std::strncmp(argv[i], "--db=", 5) == 0) geo::g_db_path = argv[i] + 5;
  }
  if (geo::g_db_path.empty()) {
    std::fprintf(stderr, "usage: lookup_benchmark --db=GeoLite2-City.mmdb\n");
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
