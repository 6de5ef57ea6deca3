# mk/smp.mk - every processor and time, checked by booting the kernel:
#   make test      runs tests/kernel/smp-check --boots 1,2,16 --panic-stop:
#                  each boot brings all cores online and `rt` shows them;
#                  a panic prints one report and stops every core (~12 s).
#   make smp-time  idle cost (QEMU < 5% of a host core at the prompt) and
#                  uptime vs the host clock over 10 s (within 5%); ~20 s,
#                  so not part of `make test`.
SMP_CHECK	:= tests/kernel/smp-check
SMP_BOOTS	?= 1,2,16

TEST_DEPS	+= $(BUILD)/hyphae.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --iso $(BUILD)/hyphae.iso --boots $(SMP_BOOTS) --panic-stop --cpus $(TEST_CPUS)'

.PHONY: smp-time
smp-time: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --iso $< --time --cpus $(CPUS)
