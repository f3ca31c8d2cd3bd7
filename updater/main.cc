// geo database updater: see updater/cli.h and docs/adr/0005-updater-design.md.
#include "updater/cli.h"

int main(int argc, char** argv) {
  return geo::updater::RunUpdaterCli(argc, argv);
}
