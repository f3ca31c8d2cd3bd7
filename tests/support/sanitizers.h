// Whether this test binary, and so the servers it starts from the same
// build, runs under a sanitizer: tests that measure memory or fill the
// descriptor table adjust to their runtimes.
#ifndef TESTS_SUPPORT_SANITIZERS_H_
#define TESTS_SUPPORT_SANITIZERS_H_

namespace geo::testing {

#if defined(__has_feature)
inline constexpr bool kAddressSanitizer = __has_feature(address_sanitizer);
inline constexpr bool kThreadSanitizer = __has_feature(thread_sanitizer);
#else
inline constexpr bool kAddressSanitizer = false;
inline constexpr bool kThreadSanitizer = false;
#endif
inline constexpr bool kSanitized = kAddressSanitizer || kThreadSanitizer;

}  // namespace geo::testing

#endif  // TESTS_SUPPORT_SANITIZERS_H_
