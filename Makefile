# The two entry points of the README: `make run` and `make test`.
# Both install missing Debian packages, configure one Release build in build/
# (ccache), and build; then run the gateway or the whole test suite.

BUILD_DIR ?= build
# Relative paths in ccache's keys: a fresh clone elsewhere (CI) reuses the cache.
export CCACHE_BASEDIR := $(CURDIR)
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps configure build run test clean format asan tsan

all: build

deps:
	@scripts/install-deps

configure: deps
	@cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD_DIR) -j$(JOBS)

run: build
	@echo "pagi-gateway: serving examples/hello/app.pl on http://127.0.0.1:8080/"
	exec $(BUILD_DIR)/pagi-gateway --config examples/hello/gateway.yaml

test: build
	@cd $(BUILD_DIR) && ctest --output-on-failure --timeout 600 -j$(JOBS)

# Sanitizer builds use their own directories so the Release build stays warm.
asan:
	@$(MAKE) test BUILD_DIR=build-asan CMAKE_FLAGS="-DPAGI_ASAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"
tsan:
	@$(MAKE) test BUILD_DIR=build-tsan CMAKE_FLAGS="-DPAGI_TSAN=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo"

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
