# Top-level driver: CMake does the work underneath.  Every target that needs
# packages installs only its own set first (scripts/install-deps.sh), and
# every step prints one line (scripts/step.sh), or its output in full if it
# fails; V=1 shows everything.
#
#   make server     install the build packages, build the server and the tool,
#                   run build/shmcached in the foreground on $(LISTEN):$(PORT)
#                   (127.0.0.1:11211), as the dedicated user shmcached when
#                   started as root; Ctrl-C stops it (scripts/serve.sh)
#   make demo       install the build packages, build, run the two-process demo
#   make check      install the test packages, build, run every test, then again
#                   under AddressSanitizer + UndefinedBehaviorSanitizer
#   make            build everything into $(BUILD)/ (packages: make deps)
#   make test       build and run every test (CTest)
#   make asan       build into build-asan/ with ASan+UBSan and run every test
#   make bench      install the bench packages, build, run the YCSB comparison
#                   in quick mode (bench/ycsb.sh --quick)
#   make install    install the library (shared and static), its header, its
#                   pkg-config files, shmcachectl, the server, the Python
#                   module (where python3-dev is installed), the libmemcached
#                   preload libshmcached-memcached.so (where libmemcached-dev
#                   is), the man pages,
#                   the systemd unit and /etc/shmcached.conf (kept if present)
#                   under $(DESTDIR)$(PREFIX); then ldconfig, unless DESTDIR is set
#   make uninstall  remove what make install put there (not the conf file)
#   make deps       install every package of every set
#
# PREFIX (/usr/local), DESTDIR (empty), SYSCONFDIR (/etc) and
# SYSTEMDUNITDIR ($(PREFIX)/lib/systemd/system) follow the GNU and Debian
# conventions: `make install PREFIX=/usr DESTDIR=/tmp/stage` stages a tree.
BUILD ?= build
JOBS ?= $(shell nproc)
PORT ?= 11211
LISTEN ?= 127.0.0.1
PREFIX ?= /usr/local
DESTDIR ?=
SYSCONFDIR ?= /etc
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
STEP = ./scripts/step.sh
# configure $(BUILD)/ unless it is: for the targets that install packages first
CONFIGURED = test -f $(BUILD)/Makefile || $(STEP) "configure $(BUILD)/ (cmake)" cmake -S . -B $(BUILD) $(DIRS)
DIRS = -DCMAKE_INSTALL_PREFIX=$(PREFIX) -DCMAKE_INSTALL_SYSCONFDIR=$(SYSCONFDIR) \
       -DSHMC_SYSTEMD_UNITDIR=$(SYSTEMDUNITDIR)

.PHONY: all test asan bench install uninstall clean deps demo check server configure

all: $(BUILD)/Makefile
	@$(STEP) "build everything in $(BUILD)/" cmake --build $(BUILD) -j $(JOBS)

$(BUILD)/Makefile:
	@$(STEP) "configure $(BUILD)/ (cmake)" cmake -S . -B $(BUILD) $(DIRS)

# install and uninstall configure again: PREFIX and the other directories
# are written into the pkg-config files and the systemd unit.
configure:
	@$(STEP) "configure $(BUILD)/ for $(PREFIX) (cmake)" cmake -S . -B $(BUILD) $(DIRS)

test: all
	cd $(BUILD) && ctest --output-on-failure -j 2

asan:
	@$(STEP) "configure build-asan/ (ASan+UBSan)" \
	    cmake -S . -B build-asan -DSHMC_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
	@$(STEP) "build everything in build-asan/" cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2

bench:
	@./scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	NO_BUILD=1 BUILD=$(BUILD) bench/ycsb.sh --quick

install: configure
	@$(STEP) "build the library, the tool, the server, the Python module and the preload" \
	    cmake --build $(BUILD) -j $(JOBS) --target shmcached shmcached_static shmcachectl shmcached_server \
	    $$(grep -q '^shmcached_python:' $(BUILD)/Makefile && echo shmcached_python) \
	    $$(grep -q '^shmcached_memcached:' $(BUILD)/Makefile && echo shmcached_memcached)
	@DESTDIR="$(DESTDIR)" $(STEP) "install into $(DESTDIR)$(PREFIX)" cmake --install $(BUILD)
	@DESTDIR="$(DESTDIR)" ./scripts/post-install.sh install "$(DESTDIR)" "$(BUILD)"

uninstall: configure
	@DESTDIR="$(DESTDIR)" ./scripts/post-install.sh uninstall "$(DESTDIR)" "$(BUILD)"

deps:
	./scripts/install-deps.sh --all

clean:
	rm -rf $(BUILD) build-asan

demo:
	@./scripts/install-deps.sh --build
	@$(CONFIGURED)
	@$(STEP) "build share_demo" cmake --build $(BUILD) -j $(JOBS) --target share_demo
	./$(BUILD)/share_demo

# configure again: a build/ first configured by make server lacked cmocka
check:
	@./scripts/install-deps.sh --test
	@$(MAKE) --no-print-directory configure
	@$(MAKE) --no-print-directory test
	@$(MAKE) --no-print-directory asan

server:
	@./scripts/install-deps.sh --build
	@$(CONFIGURED)
	@$(STEP) "build the server and shmcachectl" \
	    cmake --build $(BUILD) -j $(JOBS) --target shmcached_server shmcachectl
	@./scripts/serve.sh $(BUILD) $(PORT) $(LISTEN)
