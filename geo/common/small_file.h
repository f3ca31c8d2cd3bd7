// Reading a small file whole: /proc and cgroup files, which report their
// size as 0, so the contents are read until the end.
#ifndef GEO_COMMON_SMALL_FILE_H_
#define GEO_COMMON_SMALL_FILE_H_

#include <optional>
#include <string>

namespace geo {

// The contents of `path`; nullopt when it cannot be opened.
std::optional<std::string> ReadSmallFile(const std::string& path);

}  // namespace geo

#endif  // GEO_COMMON_SMALL_FILE_H_
