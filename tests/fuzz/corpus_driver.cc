// main() for fuzz targets outside --config=fuzz: runs LLVMFuzzerTestOneInput
// once on every file named on the command line (directories recursively, in
// sorted order), the way `fuzzer -runs=0 DIR` does. Flags ("-runs=0") are
// ignored. Fails when it found no input, so a mistyped corpus path cannot
// pass silently.
#include <dirent.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

void Collect(const std::string& path, std::vector<std::string>* files) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    std::fprintf(stderr, "corpus_driver: cannot stat %s\n", path.c_str());
    return;
  }
  if (!S_ISDIR(info.st_mode)) {
    files->push_back(path);
    return;
  }
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return;
  std::vector<std::string> children;
  while (dirent* entry = readdir(dir)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") children.push_back(path + "/" + name);
  }
  closedir(dir);
  std::sort(children.begin(), children.end());
  for (const std::string& child : children) Collect(child, files);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (argv[i][0] == '-') continue;
    Collect(argv[i], &files);
  }
  if (files.empty()) {
    std::fprintf(stderr, "corpus_driver: no inputs\n");
    return 1;
  }
  for (const std::string& file : files) {
    std::ifstream in(file, std::ios::binary);
    const std::string bytes((std::istreambuf_iterator<char>(in)),
                            std::istreambuf_iterator<char>());
    std::fprintf(stderr, "corpus_driver: %s (%zu bytes)\n", file.c_str(),
                 bytes.size());
    LLVMFuzzerTestOneInput(reinterpret_cast<const uint8_t*>(bytes.data()),
                           bytes.size());
  }
  std::fprintf(stderr, "corpus_driver: %zu inputs, no failure\n", files.size());
  return 0;
}
