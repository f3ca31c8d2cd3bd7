// The updater's command line: settings (UpdaterSettings() in config.h),
// signals, wiring and exit codes. main() only calls RunUpdaterCli.
//
// Exit codes: 0 installed or already current (loop mode: clean shutdown;
// --help, with the usage on stdout);
// 1 an edition failed; 2 bad configuration; 143 interrupted by SIGTERM or
// SIGINT in once mode (the work was not done, so a CronJob must not count it
// as a success).
#ifndef UPDATER_CLI_H_
#define UPDATER_CLI_H_

namespace geo::updater {

int RunUpdaterCli(int argc, char** argv);

}  // namespace geo::updater

#endif  // UPDATER_CLI_H_
