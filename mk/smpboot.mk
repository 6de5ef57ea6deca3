# mk/smpboot.mk - application processor start-up and scale, checked by
# booting:
#   make test    boots $(BUILD)/hyphae-apfault.iso (the kernel with
#                `ap_fault` on its command line: two APs fault in the
#                trampoline, in 32-bit and 64-bit code, before any IDT)
#                and checks that each fault is reported, not a reset
#                (tests/kernel/smp-check --ap-fault, ~5 s).
$(eval $(call kernel_image,hyphae-apfault,$(KERNEL_OBJS),ap_fault))

TEST_DEPS	+= $(BUILD)/hyphae-apfault.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --ap-fault $(BUILD)/hyphae-apfault.iso --cpus $(TEST_CPUS)'

# make smp-scale: -smp 64 under TCG boots to the prompt with every core
# online, and `spawn 100000` runs on all 64 of them (smp-check, 30-60 s on
# two host cores; not part of `make test`).
SCALE_CPUS	?= 64
SCALE_TASKS	?= 100000

#> smp-scale     -smp 64 under TCG: every core online, spawn 100000 on all of them (30-60 s)
.PHONY: smp-scale
smp-scale: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --iso $< --boots $(SCALE_CPUS) \
		--spawn $(SCALE_TASKS) --every-core --timeout 300
