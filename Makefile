# Top-level driver: CMake does the work underneath.
#   make            build everything into build/
#   make test       build and run every test (CTest)
#   make asan       build into build-asan/ with ASan+UBSan and run every test
#   make bench      build, run the YCSB comparison in quick mode (bench/ycsb.sh --quick;
#                   build/bench_lib alone: ./build/bench_lib)
#   make install    install library, header, pkg-config file and shmcachectl
#   make demo       install missing packages, build, run the two-process demo
#   make check      install missing packages, build, run every test, then again
#                   under AddressSanitizer + UndefinedBehaviorSanitizer
#   make server     install missing packages, build, run build/shmcached in the
#                   foreground on port $(PORT) (11211) with its default segment
#                   /dev/shm/shmcached-$(PORT); Ctrl-C stops it and removes it
BUILD ?= build
JOBS ?= $(shell nproc)
PORT ?= 11211

.PHONY: all test asan bench install clean deps demo check server

all: $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	cmake -S . -B $(BUILD)

test: all
	cd $(BUILD) && ctest --output-on-failure -j 2

asan:
	cmake -S . -B build-asan -DSHMC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2

bench: all
	NO_BUILD=1 BUILD=$(BUILD) bench/ycsb.sh --quick

install: all
	cmake --install $(BUILD)

deps:
	./scripts/install-deps.sh

clean:
	rm -rf $(BUILD) build-asan

demo: deps
	$(MAKE) all
	./$(BUILD)/share_demo

check: deps
	$(MAKE) test
	$(MAKE) asan

server: deps
	$(MAKE) all
	@echo "shmcached: memcached protocol on port $(PORT); segment /dev/shm/shmcached-$(PORT)"
	@echo "  attach it: ./$(BUILD)/shmcachectl -S /dev/shm/shmcached-$(PORT) get KEY"
	@echo "  or from C: shmc_open(\"/dev/shm/shmcached-$(PORT)\", &cache)"
	exec ./$(BUILD)/shmcached -p $(PORT) $$([ "$$(id -u)" = 0 ] && echo -u root) -v
