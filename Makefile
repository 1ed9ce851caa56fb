# Two commands matter: `make run` and `make test`. Both install what they need first.
SHELL := /bin/bash
PRESET ?= release
BUILD_DIR := build/$(PRESET)
RUN_DIR ?= data
export PATH := $(HOME)/go/bin:$(PATH)
# Lets clones in different directories share ccache entries.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := true

.PHONY: deps build build-asan build-fuzz run test test-unit test-asan fuzz test-fuzz bench clean tools package

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake --preset $(PRESET) >/dev/null
	@cmake --build --preset $(PRESET)

build-asan: deps
	@cmake --preset asan >/dev/null
	@cmake --build --preset asan --target unit_tests

# Test-only tools that are not Debian packages (grpcurl, from the Go module proxy).
tools:
	@bash scripts/install-test-tools.sh

# Starts wald on the embedded log with the personas' embedded sample namespaces,
# and the local caches two of them deliver to (scripts/run.sh). Data and the
# live namespace files go under ./$(RUN_DIR) (admin changes land there).
run: build
	@exec bash scripts/run.sh $(BUILD_DIR) $(RUN_DIR)

test: build tools
	@cd $(BUILD_DIR) && ctest --output-on-failure -j2 --timeout 900
	@$(MAKE) --no-print-directory test-asan
	@$(MAKE) --no-print-directory test-fuzz

test-unit: build
	@cd $(BUILD_DIR) && ctest --output-on-failure -j2 -L unit

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer.
test-asan: build-asan
	@cd build/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j2 -L unit

# libFuzzer targets (clang, ASan+UBSan; fuzz/README.md).
FUZZ_SECONDS ?= 60
FUZZ_JOBS ?= 2
build-fuzz: deps
	@cmake --preset fuzz >/dev/null
	@cmake --build --preset fuzz

# Each target for FUZZ_SECONDS (FUZZ_RUNS=N: at most N executions within that time), FUZZ_JOBS at once.
fuzz: build-fuzz
	@nice -n 10 bash fuzz/run.sh build/fuzz $(FUZZ_SECONDS) $(FUZZ_JOBS)

# The bounded run `make test` ends with: every shipped input once, then
# FUZZ_CI_RUNS executions per target from a fixed seed and the shipped corpus
# (at most FUZZ_CI_SECONDS), so a landing gate tries the same inputs on every
# machine and does not fail on whatever a timed random walk reaches that day;
# finding new problems is `make fuzz`'s job (a fresh seed each run).
FUZZ_CI_SEED ?= 1
FUZZ_CI_RUNS ?= 60000
FUZZ_CI_SECONDS := 90
test-fuzz: build-fuzz
	@FUZZ_SEED=$(FUZZ_CI_SEED) FUZZ_RUNS=$(FUZZ_CI_RUNS) nice -n 10 bash fuzz/run.sh build/fuzz $(FUZZ_CI_SECONDS) $(FUZZ_JOBS)

# A .deb (wald, walctl, the systemd unit, a default /etc/wal/server.yaml) in $(BUILD_DIR).
package: build
	@cd $(BUILD_DIR) && cpack -G DEB
	@ls -1 $(BUILD_DIR)/*.deb

bench: build
	@bash bench/run.sh $(BUILD_DIR)

clean:
	rm -rf build
