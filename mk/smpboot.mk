# mk/smpboot.mk - application processor start-up, checked by booting:
#   make test    boots $(BUILD)/hyphae-apfault.iso (the kernel with
#                `ap_fault` on its command line: two APs fault in the
#                trampoline, in 32-bit and 64-bit code, before any IDT)
#                and checks that each fault is reported, not a reset
#                (tests/kernel/smp-check --ap-fault, ~5 s).
$(eval $(call kernel_image,hyphae-apfault,$(KERNEL_OBJS),ap_fault))

TEST_DEPS	+= $(BUILD)/hyphae-apfault.iso
TEST_CMDS	+= 'QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(SMP_CHECK) --ap-fault $(BUILD)/hyphae-apfault.iso --cpus $(TEST_CPUS)'
