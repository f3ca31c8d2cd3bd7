// The fixture of the end-to-end tests in which a new database release
// travels from a fake MaxMind service to a running geo_server: the test
// database, an address whose record names a city, a second release that
// renames that city (so the two releases answer differently), and lookups
// kept running while the release arrives.
#ifndef TESTS_E2E_CITY_RELEASE_H_
#define TESTS_E2E_CITY_RELEASE_H_

#include <functional>
#include <string>

#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "tests/e2e/load_clients.h"
#include "tests/support/server_process.h"
#include "tests/updater/fake_maxmind_server.h"

namespace geo::testing {

class CityReleaseTest : public ::testing::Test {
 protected:
  static constexpr char kEdition[] = "GeoIP2-City";  // the test file's type

  // Reads GeoIP2-City-Test and picks an IPv4 record with a country and a
  // city name of 4 or more letters.
  void SetUp() override;

  // Publishes `mmdb` on `maxmind` as kEdition's current release.
  static void Publish(updater::testing::FakeMaxMindServer& maxmind,
                      const std::string& mmdb);

  // The city `server` answers for the picked address over HTTP; "" when the
  // lookup fails.
  std::string CityName(const ServerProcess& server) const;

  // While two HTTP and two gRPC clients look the address up (50 answers
  // before and after), runs `release`, then waits up to `patience` for
  // `server` to answer renamed_city(). The city served at the end.
  std::string LookUpWhile(const ServerProcess& server,
                          const std::function<void()>& release,
                          absl::Duration patience, Outcomes* outcomes) const;

  const std::string& original() const { return original_; }
  // The original database with the city renamed (same length, so the file
  // stays valid).
  const std::string& release() const { return release_; }
  const std::string& city_name() const { return city_name_; }
  const std::string& renamed_city() const { return renamed_city_; }

 private:
  std::string original_;
  std::string release_;
  LookupExpectation expect_;
  std::string city_name_;
  std::string renamed_city_;
};

}  // namespace geo::testing

#endif  // TESTS_E2E_CITY_RELEASE_H_
