# mk/accel.mk - which accelerator QEMU runs the kernel with, and KVM's
# checks.  The Makefile includes it before mk/kernel.mk: it sets QEMU_ACCEL and
# QEMU_CPU, which kernel.mk's QEMU_FLAGS use.
#
#   make run ACCEL=kvm   boot under KVM (-accel kvm -cpu $(KVM_CPU)); when
#                        /dev/kvm is missing or unusable, one line says
#                        so and nothing starts
#   make kvm-check       the KVM matrix: -smp 1,2,4 x -cpu qemu64 and
#                        qemu64,+tsc-deadline, one table
#                        (tests/kernel/kvm-check); "skipped" and exit 0
#                        without a usable /dev/kvm.  ACCEL=tcg runs the
#                        same checks under TCG (-cpu max and
#                        qemu64,+tsc-deadline).
#   make kernel-traps    trapping operations per task and per yield, and
#                        spawn's time per task, -smp $(TRAPS_CPUS)
#                        (bench/kernel-traps; ACCEL=kvm for KVM)
#   make test            kvm-check --self-test, one -smp 2 boot under TCG
#                        and one under KVM (which says it skipped where
#                        /dev/kvm is unusable)
ACCEL		?= tcg
# `-cpu host` does not start on every KVM host (QEMU may fail to set MSR
# 0x10a); a named model works everywhere.
KVM_CPU		?= qemu64
KVM_CHECK	:= tests/kernel/kvm-check
TRAPS_CPUS	?= 2

ifeq ($(ACCEL),kvm)
QEMU_ACCEL	:= -accel kvm
QEMU_CPU	:= $(KVM_CPU)
ACCEL_PROBE	:= kvm-probe
else ifneq ($(ACCEL),tcg)
$(error ACCEL=$(ACCEL): use ACCEL=tcg or ACCEL=kvm)
endif

.PHONY: kvm-probe
kvm-probe:
	@$(KVM_CHECK) --probe

# Before QEMU starts: a clear line instead of QEMU's error.
run debug: | $(ACCEL_PROBE)

# `make kvm-check` means KVM unless ACCEL was given.
KVM_CHECK_ACCEL	:= $(if $(filter command line environment,$(origin ACCEL)),$(ACCEL),kvm)

#> kvm-check     the KVM matrix (-smp 1,2,4; qemu64, qemu64,+tsc-deadline) as one table; "skipped" without /dev/kvm; ACCEL=tcg runs it under TCG
#> kernel-traps  operations that trap under virtualization, per task and per yield (ACCEL=kvm for KVM)
.PHONY: kvm-check kernel-traps
kvm-check: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" QEMU_MEM=$(QEMU_MEM) $(KVM_CHECK) --iso $< --accel $(KVM_CHECK_ACCEL)

kernel-traps: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	QEMU="$(QEMU)" bench/kernel-traps --iso $< --accel $(ACCEL) --cpus $(TRAPS_CPUS)

TEST_DEPS	+= $(BUILD)/hyphae.iso
# (QEMU_MEM is set by kernel.mk, after this file: the script's default.)
TEST_CMDS	+= '$(KVM_CHECK) --self-test' \
		   'QEMU="$(QEMU)" $(KVM_CHECK) --iso $(BUILD)/hyphae.iso --accel tcg --smp 2 --models max' \
		   'QEMU="$(QEMU)" $(KVM_CHECK) --iso $(BUILD)/hyphae.iso --accel kvm --smp 2 --models qemu64'
