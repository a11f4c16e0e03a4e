# secfud — the front door.  The real build is autotools (configure.ac,
# Makefile.am) in the out-of-tree directory build/; this file installs
# missing Debian packages, configures, and names the jobs a developer runs.
#
#   make          build everything into build/: a release build, the one
#                 `make install`, `make demo` and `make bench` use (the tests
#                 build their own instrumented copies in build-test/ and
#                 build-asan/)
#   make check    all tests: -Werror build, then an ASan+UBSan build, both
#                 running the whole suite; fuzzers briefly when clang exists
#                 and FUZZ_SECONDS > 0 (default: 20 under CI, else 0)
#   make demo     the main job end to end, in a temporary directory
#   make demo-formats  COSE with a hash-based signature, a bundle applied
#                 from a file, a set from two providers
#   make bench    performance table (ratios against baselines)
#   make fuzz     every libFuzzer target for FUZZ_SECONDS (default 300)
#   make torture  the fault campaigns with their full counts (kill -9 while
#                 staging and committing, torn environments, network chaos)
#   make deb      Debian packages into build-deb/ (dpkg-buildpackage -us -uc -b)
#   make check-system
#                 system tests with real components (namespaces with dnsmasq,
#                 nginx and dhclient; GRUB + systemd and U-Boot in QEMU);
#                 root, about 30 min cold (doc/system-tests.md)
SHELL := /bin/bash
BUILD ?= build
TEST_BUILD ?= build-test
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
WERROR ?= $(if $(CI),yes,no)
export WERROR

.PHONY: all build build-test deps check check-fast check-system demo demo-formats bench fuzz torture deb deb-check clean distclean

all: build

deps:
	@tools/deps.sh

build: deps
	@tools/configure.sh $(BUILD) --enable-werror=$(WERROR)
	@$(MAKE) --no-print-directory -C $(BUILD) -j$(JOBS)

# The instrumented build the tests and the fault campaigns run.
build-test: deps
	@tools/configure.sh $(TEST_BUILD) --enable-werror=$(WERROR) --enable-fault-injection
	@$(MAKE) --no-print-directory -C $(TEST_BUILD) -j$(JOBS)

check: deps
	@tools/check.sh

check-fast: deps
	@SFU_CHECK_PASSES=plain tools/check.sh

check-system: deps
	@tools/check-system.sh

demo: build
	@tools/demo.sh $(BUILD)

demo-formats: build
	@tools/demo-formats.sh $(BUILD)

bench: build
	@tools/bench.sh $(BUILD)

fuzz: deps
	@FUZZ_SECONDS=$${FUZZ_SECONDS:-300} tools/fuzz.sh

torture: build-test
	@tools/torture.sh $(TEST_BUILD)

deb: deps
	@tools/deb.sh

clean:
	@if [ -f $(BUILD)/Makefile ]; then $(MAKE) -C $(BUILD) clean; fi

distclean:
	rm -rf $(BUILD) $(TEST_BUILD) $(ASAN_BUILD) build-fuzz autom4te.cache aclocal.m4 configure config.h.in Makefile.in

# The packages, checked: lintian must report no error or warning, and the
# package must hold what DESIGN promises.
deb-check: deb
	@tools/deb-check.sh
