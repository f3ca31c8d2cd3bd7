// Forwards to tests/support/server_process.h, where ServerProcess lives, for
// the one suite that still includes this path (updater_server_e2e_test).
#ifndef TESTS_E2E_SERVER_PROCESS_H_
#define TESTS_E2E_SERVER_PROCESS_H_

#include "tests/support/server_process.h"

#endif  // TESTS_E2E_SERVER_PROCESS_H_
