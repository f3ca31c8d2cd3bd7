// ISO 3166-1 alpha-2 country codes, shared by the policy and the overrides
// file so that both accept exactly the same countries.
#ifndef GEO_DATA_COUNTRY_CODES_H_
#define GEO_DATA_COUNTRY_CODES_H_

#include "absl/strings/string_view.h"

namespace geo {

// True for an officially assigned ISO 3166-1 alpha-2 code in upper case, or
// XK (Kosovo: user-assigned, used by MaxMind).
bool IsCountryCode(absl::string_view code);

}  // namespace geo

#endif  // GEO_DATA_COUNTRY_CODES_H_
