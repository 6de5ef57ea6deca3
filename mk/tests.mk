# mk/tests.mk - what `make test` runs, and the longer test targets.
#
#   tests/<dir>/test_*.c     cmocka unit tests, ASan + UBSan
#   tests/<dir>/stress_*.c   pthread stress tests, under ASan and under TSan
#   a few unit tests again under TSan (they run cores on threads)
#   tests/kernel/            the in-kernel tests, booted under QEMU
#   tests/qemu/shell-test    a conversation with the kernel's shell
#   tests/kernel/smp-check   boots at several core counts, a panic's stop
#   tests/tools/             the layering check and its planted failures
# Other roles append to TEST_DEPS (what to build first) and TEST_CMDS (one
# command per test program); the `test` rule itself is in the Makefile,
# after every mk/*.mk has been read.
#
#> test          build and run every test (host unit, stress under TSan, in-kernel, QEMU)
#> soak          the stress tests, long (HYPHAE_SOAK=1: 50x the iterations)
#> sched-soak    the sched/ stress tests only, long
#> shell-test    the QEMU-driven shell conversation alone
#> ktest         boot the test kernel by hand (KCMDLINE="ktest=NAME" runs one test)
#> smp-time      idle cost of QEMU -smp CPUS at the prompt, uptime vs the host clock (~20 s)
#> check-layers  the include layering check alone

TSAN_OPTIONS_RUN := TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1
# Extra flags for the stress tests' iteration counts etc. (make soak sets it).
STRESS_ENV	?=
KTEST_TIMEOUT	?= 60
SMP_BOOTS	?= 1,2,16

UNIT_TEST_SRCS	:= $(sort $(shell find tests -name 'test_*.c' 2>/dev/null))
STRESS_SRCS	:= $(sort $(shell find tests -name 'stress_*.c' 2>/dev/null))
UNIT_TESTS	:= $(patsubst %.c,$(BUILD)/host/asan/%,$(UNIT_TEST_SRCS))
STRESS_TESTS	:= $(patsubst %.c,$(BUILD)/host/asan/%,$(STRESS_SRCS)) \
		   $(patsubst %.c,$(BUILD)/host/tsan/%,$(STRESS_SRCS))
# Unit tests that run cores on threads: under TSan as well.
TSAN_UNIT_TESTS	:= $(BUILD)/host/tsan/tests/rt/test_rt \
		   $(BUILD)/host/tsan/tests/shell/test_shell_task

TEST_DEPS	+= $(UNIT_TESTS) $(STRESS_TESTS) $(TSAN_UNIT_TESTS)
TEST_CMDS	+= $(UNIT_TESTS) \
		   $(foreach t,$(STRESS_TESTS) $(TSAN_UNIT_TESTS),"$(TSAN_OPTIONS_RUN) $(STRESS_ENV) $(t)")

# The in-kernel tests (tests/kernel/README), under TCG.
TEST_DEPS	+= $(BUILD)/hyphae-test.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" CPUS=$(TEST_CPUS) tests/kernel/run-ktests --timeout $(KTEST_TIMEOUT) $(BUILD)/hyphae-test.iso'

# The shell over the serial console; the second ISO's `halt` exits QEMU.
SHELL_TEST	:= tests/qemu/shell-test
TEST_DEPS	+= $(BUILD)/hyphae.iso $(BUILD)/hyphae-shell.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" CPUS=$(TEST_CPUS) QEMU_MEM=$(QEMU_MEM) $(SHELL_TEST) \
		   --iso $(BUILD)/hyphae.iso --exit-iso $(BUILD)/hyphae-shell.iso'

# Every core online at 1, 2 and 16 CPUs; a panic prints one report and
# stops every core (~12 s).
SMP_CHECK	:= tests/kernel/smp-check
TEST_CMDS	+= 'QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --iso $(BUILD)/hyphae.iso --boots $(SMP_BOOTS) --panic-stop --cpus $(TEST_CPUS)'

# The layering check, and its own test with planted bad includes.
TEST_CMDS	+= tests/tools/check-layers-test

.PHONY: soak sched-soak shell-test ktest smp-time check-layers
soak: $(STRESS_TESTS)
	@TEST_TIMEOUT=3600 tools/run-tests $(BUILD)/soak-logs \
		$(foreach t,$(STRESS_TESTS),"HYPHAE_SOAK=1 $(TSAN_OPTIONS_RUN) $(t)")

sched-soak: $(foreach t,$(STRESS_TESTS),$(if $(findstring /tests/sched/,$(t)),$(t)))
	@for t in $^; do echo "==> $$t (soak)"; \
		HYPHAE_SOAK=1 $(TSAN_OPTIONS_RUN) $$t || exit 1; done

shell-test: $(BUILD)/hyphae.iso $(BUILD)/hyphae-shell.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" CPUS=$(CPUS) QEMU_MEM=$(QEMU_MEM) $(SHELL_TEST) \
		--iso $(BUILD)/hyphae.iso --exit-iso $(BUILD)/hyphae-shell.iso

ktest: $(BUILD)/hyphae-test.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" CPUS=$(CPUS) QEMU_MEM=$(QEMU_MEM) tests/kernel/run-ktests --timeout $(KTEST_TIMEOUT) $<

smp-time: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --iso $< --time --cpus $(CPUS)

check-layers:
	tools/check-layers
