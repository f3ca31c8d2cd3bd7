#!/bin/sh
# Coverage is not collected through Bazel here; this stands in for the tools
# Bazel 4 would otherwise download for every test action.
exit 0
