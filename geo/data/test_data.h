// The test data and scratch-file helpers of tests/support/test_files.h
// (MaxmindTestDataDir, MaxmindTestDataFile, ReadFile, NewTempDir, ...) under
// the include path geo/data's tests use.
#ifndef GEO_DATA_TEST_DATA_H_
#define GEO_DATA_TEST_DATA_H_

#include "tests/support/test_files.h"

#endif  // GEO_DATA_TEST_DATA_H_
