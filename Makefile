# hyphae - one Makefile, out of tree: everything is written under $(BUILD).
#
#   make run     build the kernel ISO and boot it in QEMU (serial on stdio)
#   make test    build and run every test (host unit + stress + in-kernel)
#   make help    list every target
#
# Portable sources (lib sched timer rt shell) are listed once and compiled
# twice: for the kernel (mk/kernel.mk) and for the host (below), so the host
# tests run exactly the kernel's code.  Subsystems add rules in mk/*.mk.

BUILD	?= build
CPUS	?= 4
# Processors the QEMU tests of `make test` boot with: the SMP tests need
# several, whatever CPUS `make run` uses.
TEST_CPUS ?= 4
QEMU	?= qemu-system-x86_64
HOST_CC	?= gcc
FUZZ_CC	?= clang
# Extra flags for the stress tests' iteration counts etc. (make soak sets it).
STRESS_ENV ?=

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
HOST_ARCH_SRCS	:= $(sort $(wildcard arch/host/*.c))
# Pure-C files from arch/ that host tests exercise (mk/*.mk append).
HOST_EXTRA_SRCS	:=
# Portable files the host build must not contain (e.g. lib/string.c, whose
# memcpy & co. would replace the C library's under the sanitizers).
HOST_EXCLUDE_SRCS :=

COMMON_CFLAGS	:= -std=c11 -g -Wall -Wextra -Werror -Wshadow \
		   -Wstrict-prototypes -Wmissing-prototypes -Wno-missing-field-initializers \
		   -fno-common -I. -Iinclude -MMD -MP

HOST_CFLAGS	:= $(COMMON_CFLAGS) -O1 -fno-omit-frame-pointer -pthread
HOST_CFLAGS_asan := $(HOST_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined
HOST_CFLAGS_tsan := $(HOST_CFLAGS) -O2 -fsanitize=thread
HOST_CFLAGS_rel  := $(COMMON_CFLAGS) -O2 -fno-omit-frame-pointer -pthread -DNDEBUG
HOST_LDLIBS	:= -lcmocka -pthread -lm

TSAN_OPTIONS_RUN := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Targets and commands that `make test` builds and runs (mk/*.mk append).
TEST_DEPS	:=
TEST_CMDS	:=

.PHONY: all
all: host-tests

DEPS_HOST	:= $(BUILD)/.deps-host
DEPS_KERNEL	:= $(BUILD)/.deps-kernel
$(BUILD)/.deps-%: tools/deps
	@mkdir -p $(@D)
	tools/deps $*
	@touch $@

-include $(sort $(wildcard mk/*.mk))

# ---- host builds: asan (unit tests), tsan (stress tests), rel (bench) ----
HOST_SRCS	:= $(filter-out $(HOST_EXCLUDE_SRCS),$(PORTABLE_SRCS)) \
		   $(HOST_ARCH_SRCS) $(HOST_EXTRA_SRCS)

define host_variant
$(BUILD)/host/$(1)/%.o: %.c | $(DEPS_HOST)
	@mkdir -p $$(@D)
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) -c $$< -o $$@

$(BUILD)/host/$(1)/libhyphae.a: $$(patsubst %.c,$(BUILD)/host/$(1)/%.o,$$(HOST_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(BUILD)/host/$(1)/tests/%: $(BUILD)/host/$(1)/tests/%.o $(BUILD)/host/$(1)/libhyphae.a
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) $$^ -o $$@ $(HOST_LDLIBS)

$(BUILD)/host/$(1)/bench/%: $(BUILD)/host/$(1)/bench/%.o $(BUILD)/host/$(1)/libhyphae.a
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) $$^ -o $$@ $(HOST_LDLIBS)

-include $$(shell find $(BUILD)/host/$(1) -name '*.d' 2>/dev/null)
endef
$(foreach v,asan tsan rel,$(eval $(call host_variant,$(v))))

# tests/<dir>/test_*.c: cmocka unit tests (ASan+UBSan).
# tests/<dir>/stress_*.c: pthread stress tests, run under ASan and TSan.
UNIT_TEST_SRCS	:= $(sort $(shell find tests -name 'test_*.c' 2>/dev/null))
STRESS_SRCS	:= $(sort $(shell find tests -name 'stress_*.c' 2>/dev/null))
UNIT_TESTS	:= $(patsubst %.c,$(BUILD)/host/asan/%,$(UNIT_TEST_SRCS))
STRESS_TESTS	:= $(patsubst %.c,$(BUILD)/host/asan/%,$(STRESS_SRCS)) \
		   $(patsubst %.c,$(BUILD)/host/tsan/%,$(STRESS_SRCS))

.PHONY: host-tests test check
host-tests: $(UNIT_TESTS) $(STRESS_TESTS)

test: $(UNIT_TESTS) $(STRESS_TESTS) $(TEST_DEPS)
	@tools/run-tests $(BUILD)/test-logs $(UNIT_TESTS) \
		$(foreach t,$(STRESS_TESTS),"$(TSAN_OPTIONS_RUN) $(STRESS_ENV) $(t)") \
		$(TEST_CMDS)
check: test

# Long runs of every stress test (ASan and TSan builds), for after a change
# to lock-free code; not part of `make test`.
.PHONY: soak
soak: $(STRESS_TESTS)
	@TEST_TIMEOUT=3600 tools/run-tests $(BUILD)/soak-logs \
		$(foreach t,$(STRESS_TESTS),"HYPHAE_SOAK=1 $(TSAN_OPTIONS_RUN) $(t)")

.PHONY: clean
clean:
	rm -rf $(BUILD)

.PHONY: help
help:
	@echo "hyphae targets:"
	@echo "  run          build the ISO and boot it in QEMU (CPUS=$(CPUS)); Ctrl-A X quits"
	@echo "  test         build and run every test (host unit, stress under TSan, in-kernel)"
	@echo "  iso          build $(BUILD)/hyphae.iso"
	@echo "  debug        boot QEMU halted, waiting for gdb (see $(BUILD)/gdbinit)"
	@echo "  bench        host benchmarks;  bench-compare: against tokio and C queues"
	@echo "  kernel-bench the shell's bench in QEMU with -smp 1, 2 and 4, one table"
	@echo "  soak         long stress runs;  fuzz: long libFuzzer run"
	@echo "  model        every interleaving within 3 preemptions, and the mutations (docs/MODEL.md)"
	@echo "  smp-time     idle cost of QEMU -smp 4 and uptime vs the host clock (~20 s)"
	@echo "  shell-test   the QEMU shell conversation test alone"
	@echo "  clean        remove $(BUILD)/"
