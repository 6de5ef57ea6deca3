# mk/kernel.mk - the kernel: objects, the two-pass link, ISOs and QEMU.
#
#   $(BUILD)/hyphae.elf        the kernel (portable dirs, arch/x86_64, kernel/, boot/)
#   $(BUILD)/hyphae.iso        GRUB rescue ISO booting it (serial console)
#   $(BUILD)/hyphae-shell.iso  the same with `qemu-exit` on its command line:
#                              the shell's `halt` then ends QEMU (shell-test)
#   $(BUILD)/hyphae-test.elf   the same objects with the in-kernel test harness
#                              (tests/kernel/) in place of kernel/start.c
#   $(BUILD)/hyphae-test.iso   ... booted by tests/kernel/run-ktests in `make test`
#
#> run           build the ISO and boot it in QEMU, serial on stdio (CPUS ?= 4; ACCEL=kvm for KVM); Ctrl-A X quits
#> iso           build $(BUILD)/hyphae.iso;  kernel: $(BUILD)/hyphae.elf
#> debug         QEMU halted, waiting for gdb (gdb -x $(BUILD)/gdbinit)
#
# The kernel is identity-mapped at 1 MiB and built with -mcmodel=small: all
# code and data sit below 2 GiB at their physical addresses (why identity
# and not higher-half: boot/boot.asm).  Each image is linked twice: the
# first link's text symbols become the .ksyms table (gen-ksyms.sh), placed
# last by linker.ld so the second link moves nothing; the rule checks that.

KERNEL_CC	?= gcc
NASM		?= nasm
OBJCOPY		?= objcopy
NM		?= nm
GRUB_MKRESCUE	?= grub-mkrescue
QEMU_MEM	?= 128M
# Extra multiboot2 command line for the ISOs, e.g. KCMDLINE="ktest=heap_under_load log=debug".
KCMDLINE	?=
KTEST_TIMEOUT	?= 60

KDIR		:= $(BUILD)/kernel
HYPHAE_VERSION	:= $(shell git describe --always --dirty 2>/dev/null || echo unknown)

KERNEL_CFLAGS	:= $(COMMON_CFLAGS) -DARCH_TARGET_X86_64 -O2 -ffreestanding -nostdlib -fno-pic -fno-pie \
		   -mno-red-zone -mgeneral-regs-only -mcmodel=small \
		   -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer \
		   -fstack-protector-strong -mstack-protector-guard=global \
		   -fno-asynchronous-unwind-tables -fno-unwind-tables
KERNEL_LDFLAGS	:= -nostdlib -static -no-pie -Wl,--build-id=none \
		   -Wl,-z,max-page-size=0x1000 -Wl,-z,noexecstack -Wl,-T,linker.ld
NASMFLAGS	:= -f elf64 -g -F dwarf -w+all

KERNEL_SRCS	:= $(PORTABLE_SRCS) $(sort $(wildcard arch/x86_64/*.c kernel/*.c)) \
		   $(sort $(wildcard boot/*.asm arch/x86_64/*.asm))
# The test image's harness defines kernel_start() and kernel_ap_start()
# in place of start.c's (kernel/kernel.h).
KERNEL_START_SRC := kernel/start.c
# In-kernel tests: not named test_*.c, which the host build claims.
KTEST_SRCS	:= $(sort $(wildcard tests/kernel/*.c tests/kernel/*.asm))

kernel_objs	= $(patsubst %.c,$(KDIR)/%.o,$(filter %.c,$(1))) \
		  $(patsubst %.asm,$(KDIR)/%.asm.o,$(filter %.asm,$(1)))
KERNEL_OBJS	:= $(call kernel_objs,$(KERNEL_SRCS))
KTEST_OBJS	:= $(call kernel_objs,$(KTEST_SRCS))
KTEST_IMAGE_OBJS := $(filter-out $(call kernel_objs,$(KERNEL_START_SRC)),$(KERNEL_OBJS)) \
		    $(KTEST_OBJS)

$(KDIR)/%.o: %.c | $(DEPS_KERNEL)
	@mkdir -p $(@D)
	$(KERNEL_CC) $(KERNEL_CFLAGS) -c $< -o $@

$(KDIR)/%.asm.o: %.asm | $(DEPS_KERNEL)
	@mkdir -p $(@D)
	$(NASM) $(NASMFLAGS) -MD $(@:.o=.d) -MP -o $@ $<

# Only kernel/version.o sees the version and build date; it rebuilds
# when the version changes (the date is when that happened).
HYPHAE_BUILD_DATE := $(shell date -u '+%Y-%m-%d %H:%M UTC')
$(KDIR)/version.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(HYPHAE_VERSION)' | cmp -s - $@ || echo '$(HYPHAE_VERSION)' > $@
$(KDIR)/kernel/version.o: $(KDIR)/version.txt
$(KDIR)/kernel/version.o: KERNEL_CFLAGS += -DHYPHAE_VERSION='"$(HYPHAE_VERSION)"' \
	-DHYPHAE_BUILD_DATE='"$(HYPHAE_BUILD_DATE)"'

# The ISOs' command line: rebuild them when KCMDLINE changes.
$(KDIR)/cmdline.txt: FORCE
	@mkdir -p $(@D)
	@echo '$(KCMDLINE)' | cmp -s - $@ || echo '$(KCMDLINE)' > $@

.PHONY: FORCE
FORCE:

# kernel_image NAME OBJECTS CMDLINE: NAME.elf (two links) and NAME.iso.
define kernel_image
# The object list, so removing a source file relinks.
$(KDIR)/$(1).objs: FORCE
	@mkdir -p $$(@D)
	@echo '$(2)' | cmp -s - $$@ || echo '$(2)' > $$@

$(KDIR)/$(1).pass1.elf: $(2) linker.ld $(KDIR)/$(1).objs
	$(KERNEL_CC) $(KERNEL_LDFLAGS) -o $$@ $(2)

$(KDIR)/$(1).ksyms.S: $(KDIR)/$(1).pass1.elf arch/x86_64/gen-ksyms.sh
	NM=$(NM) arch/x86_64/gen-ksyms.sh $$< > $$@

$(KDIR)/$(1).ksyms.o: $(KDIR)/$(1).ksyms.S
	$(KERNEL_CC) -c $$< -o $$@

$(BUILD)/$(1).elf: $(KDIR)/$(1).pass1.elf $(KDIR)/$(1).ksyms.o
	$(KERNEL_CC) $(KERNEL_LDFLAGS) -o $$@ $(2) $(KDIR)/$(1).ksyms.o
	@$(NM) -n $(KDIR)/$(1).pass1.elf | grep ' [tT] ' > $(KDIR)/$(1).syms1
	@$(NM) -n $$@ | grep ' [tT] ' > $(KDIR)/$(1).syms2
	@cmp -s $(KDIR)/$(1).syms1 $(KDIR)/$(1).syms2 || \
		{ echo "kernel.mk: adding .ksyms moved text symbols in $$@"; rm -f $$@; exit 1; }
	@grub-file --is-x86-multiboot2 $$@ || \
		{ echo "kernel.mk: $$@ has no valid multiboot2 header"; rm -f $$@; exit 1; }

$(BUILD)/$(1).iso: $(BUILD)/$(1).elf boot/grub.cfg.in $(KDIR)/cmdline.txt
	@rm -rf $(KDIR)/iso-$(1)
	@mkdir -p $(KDIR)/iso-$(1)/boot/grub
	$(OBJCOPY) --strip-debug $$< $(KDIR)/iso-$(1)/boot/hyphae.elf
	sed 's|@CMDLINE@|$(3)|' boot/grub.cfg.in > $(KDIR)/iso-$(1)/boot/grub/grub.cfg
	$(GRUB_MKRESCUE) -o $$@ $(KDIR)/iso-$(1) > $(KDIR)/$(1).mkrescue.log 2>&1 || \
		{ cat $(KDIR)/$(1).mkrescue.log; exit 1; }
endef
$(eval $(call kernel_image,hyphae,$(KERNEL_OBJS),$(KCMDLINE)))
$(eval $(call kernel_image,hyphae-test,$(KTEST_IMAGE_OBJS),$(KCMDLINE)))
$(eval $(call kernel_image,hyphae-shell,$(KERNEL_OBJS),qemu-exit))

-include $(shell find $(KDIR) -name '*.d' 2>/dev/null)

# ---- QEMU -------------------------------------------------------------------
# ACCEL=kvm (mk/accel.mk) sets QEMU_ACCEL and QEMU_CPU.
QEMU_ACCEL	?= $(if $(filter 1,$(CPUS)),-accel tcg,-accel tcg$(comma)thread=multi)
QEMU_CPU	?= max
comma		:= ,
QEMU_FLAGS	:= -M pc -cpu $(QEMU_CPU) -m $(QEMU_MEM) -smp $(CPUS) $(QEMU_ACCEL) \
		   -display none -no-reboot -boot d \
		   -device isa-debug-exit,iobase=0xf4,iosize=0x04

.PHONY: kernel iso run debug
kernel: $(BUILD)/hyphae.elf
iso: $(BUILD)/hyphae.iso

run: $(BUILD)/hyphae.iso | $(DEPS_KERNEL)
	$(QEMU) $(QEMU_FLAGS) -serial mon:stdio -cdrom $<

$(BUILD)/gdbinit: FORCE
	@mkdir -p $(@D)
	@printf '%s\n' 'set architecture i386:x86-64' \
		'file $(abspath $(BUILD)/hyphae.elf)' \
		'source $(abspath tools/gdb/hyphae.py)' \
		'target remote localhost:1234' \
		'hbreak kmain' 'continue' > $@

debug: $(BUILD)/hyphae.iso $(BUILD)/gdbinit | $(DEPS_KERNEL)
	@echo "QEMU is waiting for gdb: run  gdb -x $(BUILD)/gdbinit  in another terminal (stops at kmain)"
	$(QEMU) $(QEMU_FLAGS) -serial mon:stdio -cdrom $< -s -S
