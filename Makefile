# hyphae - one Makefile, out of tree: everything is written under $(BUILD).
#
#   make run     build the kernel ISO and boot it in QEMU (serial on stdio)
#   make test    build and run every test (host unit + stress + in-kernel)
#   make help    list every target
#
# The build is organised by role, one file each:
#   mk/host.mk     the portable code and arch/host for the host (libhyphae.a)
#   mk/kernel.mk   the kernel images, ISOs and QEMU
#   mk/tests.mk    what `make test` runs, and the long test targets
#   mk/bench.mk    benchmarks;  mk/benchcmp.mk: against tokio and C queues
#   mk/fuzz.mk     the libFuzzer target
# Portable sources (lib sched timer rt shell) are listed once, here, and
# compiled twice: for the kernel and for the host, so the host tests run
# exactly the kernel's code.

BUILD	?= build
CPUS	?= 4
# Processors the QEMU tests of `make test` boot with: the SMP tests need
# several, whatever CPUS `make run` uses.
TEST_CPUS ?= 4
QEMU	?= qemu-system-x86_64
HOST_CC	?= gcc
FUZZ_CC	?= clang

ifeq ($(filter -j%,$(MAKEFLAGS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 2)
endif
MAKEFLAGS += --no-builtin-rules
.SUFFIXES:
.DELETE_ON_ERROR:
# Keep intermediate objects and the deps stamps: nothing here is throwaway.
.SECONDARY:

PORTABLE_DIRS	:= lib sched timer rt shell
PORTABLE_SRCS	:= $(sort $(wildcard $(addsuffix /*.c,$(PORTABLE_DIRS))))

COMMON_CFLAGS	:= -std=c11 -g -Wall -Wextra -Werror -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
		   -fno-common -I. -Iinclude -MMD -MP

# Targets and commands that `make test` builds and runs (mk/*.mk append).
TEST_DEPS	:=
TEST_CMDS	:=

.PHONY: all
all: host-tests

# tools/deps installs what a group of targets needs (as root), once.
DEPS_HOST	:= $(BUILD)/.deps-host
DEPS_KERNEL	:= $(BUILD)/.deps-kernel
$(BUILD)/.deps-%: tools/deps
	@mkdir -p $(@D)
	tools/deps $*
	@touch $@

# accel.mk sets QEMU_ACCEL and QEMU_CPU, which kernel.mk's QEMU_FLAGS use.
include mk/host.mk mk/accel.mk mk/kernel.mk mk/tests.mk mk/bench.mk mk/fuzz.mk
# Further roles (each a mk/*.mk of its own).
-include $(filter-out mk/host.mk mk/accel.mk mk/kernel.mk mk/tests.mk mk/bench.mk mk/fuzz.mk,\
	$(sort $(wildcard mk/*.mk)))

#> host-tests    build the host unit and stress tests without running them
.PHONY: host-tests test check
host-tests: $(UNIT_TESTS) $(STRESS_TESTS)

# After every mk/*.mk, so that TEST_DEPS and TEST_CMDS are complete.
test: $(TEST_DEPS)
	@tools/run-tests $(BUILD)/test-logs $(TEST_CMDS)
check: test

#> clean         remove $(BUILD)/
.PHONY: clean
clean:
	rm -rf $(BUILD)

#> help          this list
.PHONY: help
help:
	@echo "hyphae targets (variables: CPUS, TEST_CPUS, QEMU, QEMU_MEM, BUILD, KCMDLINE):"
	@grep -h '^#> ' Makefile mk/*.mk | sed 's/^#> /  /' | sort
