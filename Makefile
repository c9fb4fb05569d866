# The two commands: `make demo` and `make test`. Both install what is
# missing (scripts/deps.sh), build into $(BUILD) (default build/), then
# run; make test puts its sanitizer and fuzz builds beside it.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test demo install bench clean asan

all: build

deps:
	@sh scripts/deps.sh

$(BUILD)/CMakeCache.txt:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo

build: deps $(BUILD)/CMakeCache.txt
	cmake --build $(BUILD) -j $(JOBS)

test: build
	MCPAUTH_BUILD_DIR=$(BUILD) sh scripts/test.sh

demo: build
	MCPAUTH_BUILD_DIR=$(BUILD) sh scripts/demo.sh

install: build
	cmake --install $(BUILD)

# The benchmark of the decision path (docs/performance.md): every scenario,
# then ratelimit's memory with a million addresses. Pass options with
# BENCH_ARGS, e.g. make bench BENCH_ARGS="--duration 5".
bench: build
	$(BUILD)/bin/mcpauth-bench $(BENCH_ARGS)
	$(BUILD)/bin/mcpauth-bench --memory

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-tsan $(BUILD)-fuzz
