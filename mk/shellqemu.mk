# mk/shellqemu.mk - the kernel shell's extras: an ISO whose command line asks `halt` to exit QEMU, and
# the QEMU-driven shell test (tests/qemu/shell-test) in `make test`.
# The normal kernel with `qemu-exit` on its command line: `halt` then
# ends QEMU through isa-debug-exit (the shell test's second boot).
$(eval $(call kernel_image,hyphae-shell,$(KERNEL_OBJS),qemu-exit))

SHELL_TEST	:= tests/qemu/shell-test
TEST_DEPS	+= $(BUILD)/hyphae.iso $(BUILD)/hyphae-shell.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" CPUS=$(TEST_CPUS) QEMU_MEM=$(QEMU_MEM) $(SHELL_TEST) \
		   --iso $(BUILD)/hyphae.iso --exit-iso $(BUILD)/hyphae-shell.iso'

.PHONY: shell-test
shell-test: $(BUILD)/hyphae.iso $(BUILD)/hyphae-shell.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" CPUS=$(CPUS) QEMU_MEM=$(QEMU_MEM) $(SHELL_TEST) \
		--iso $(BUILD)/hyphae.iso --exit-iso $(BUILD)/hyphae-shell.iso

# The shell task's host test also runs under ThreadSanitizer: its jobs
# print and count from both host cores while the test thread feeds input.
TEST_DEPS	+= $(BUILD)/host/tsan/tests/shell/test_shell_task
TEST_CMDS	+= '$(TSAN_OPTIONS_RUN) $(BUILD)/host/tsan/tests/shell/test_shell_task'
