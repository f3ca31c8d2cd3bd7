#include "geo/common/small_file.h"

#include <fstream>
#include <sstream>

namespace geo {

std::optional<std::string> ReadSmallFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return std::nullopt;
  std::ostringstream content;
  content << file.rdbuf();
  return content.str();
}

}  // namespace geo
