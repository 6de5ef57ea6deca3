# mk/trace.mk - the trace's tools and their tests, and the gdb commands.
#
#   tools/trace          boots the ISO, runs `trace COMMAND`, writes
#                        $(BUILD)/trace.json (Perfetto) and trace.svg
#   tools/gdb/hyphae.py  hy-rt, hy-tasks, hy-cpus, hy-log, hy-timer;
#                        $(BUILD)/gdbinit (make debug) sources it
# `make test` runs tests/tools/trace-test (host traces parsed as JSON,
# tools/trace on good and bad logs, the kernel's `trace spawn 300`) and
# tests/qemu/gdb-test (the gdb commands on a stopped kernel).
#
#> trace         trace one shell command in QEMU (TRACE_CMD, default spawn 10000; CPUS): build/trace.json, build/trace.svg
#> trace-picture redraw docs/trace-spawn-10000.svg (trace spawn 10000, -smp 4)

TRACE_CMD	?= spawn 10000
DEPS_TRACE	:= $(BUILD)/.deps-trace
DEPS_DEBUG	:= $(BUILD)/.deps-debug
TRACE_EMIT	:= $(BUILD)/host/asan/tests/tools/trace_emit
TRACE_PICTURE	:= docs/trace-spawn-10000.svg

.PHONY: trace trace-picture
trace: $(BUILD)/hyphae.iso | $(DEPS_KERNEL) $(DEPS_TRACE)
	QEMU="$(QEMU)" tools/trace --iso $< --cpus $(CPUS) --out-dir $(BUILD) $(TRACE_CMD)

trace-picture: $(BUILD)/hyphae.iso | $(DEPS_KERNEL) $(DEPS_TRACE)
	QEMU="$(QEMU)" tools/trace --iso $< --cpus 4 --out-dir $(BUILD)/trace-picture \
		--save-log $(BUILD)/trace-picture/serial.log spawn 10000
	cp $(BUILD)/trace-picture/trace.svg $(TRACE_PICTURE)

debug: | $(DEPS_DEBUG)

TEST_DEPS	+= $(TRACE_EMIT) $(BUILD)/hyphae.iso $(BUILD)/hyphae.elf \
		   $(DEPS_TRACE) $(DEPS_DEBUG)
TEST_CMDS	+= 'QEMU="$(QEMU)" tests/tools/trace-test --emit $(TRACE_EMIT) \
		   --iso $(BUILD)/hyphae.iso' \
		   'QEMU="$(QEMU)" tests/qemu/gdb-test --iso $(BUILD)/hyphae.iso \
		   --elf $(BUILD)/hyphae.elf --cpus $(TEST_CPUS)'
