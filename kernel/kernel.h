/*
 * kernel.h - the kernel's composition root (kernel/).
 *
 * kmain() (main.c) brings the machine up in one sequence of direct calls,
 * then hands the boot core to kernel_start() and each application
 * processor to kernel_ap_start().  Those two are defined once per image:
 * by start.c in hyphae.elf (the runtime and the shell), and by the
 * in-kernel test harness in hyphae-test.elf (tests/kernel/); the build
 * links exactly one of them (mk/kernel.mk).
 */
#ifndef HYPHAE_KERNEL_KERNEL_H
#define HYPHAE_KERNEL_KERNEL_H

struct mb2_info;
struct runtime;

/*
 * The boot core's end of boot: memory, the heap, the clock, the interrupt
 * controllers and the other cores are up.  Interrupts disabled.  Never
 * returns.
 */
_Noreturn void kernel_start(const struct mb2_info *mb);

/*
 * An application processor's end of bring-up (smp.c calls it once the
 * core's GDT, IDT, LAPIC and per-core block are up), with its bring-up
 * number.  Interrupts disabled.  Never returns.
 */
_Noreturn void kernel_ap_start(unsigned number);

/* The multiboot2 command line ("" if none).  Any core, after boot. */
const char *kernel_cmdline(void);

/* The shell's command table and task on the serial console (shell.c).
 * Boot core, once, after it joined the runtime `rt`. */
void kernel_shell_start(struct runtime *rt);

/* The fault report's context hook: the task being polled (fault_context.c). */
void kernel_fault_context(void);

/* The version string (`git describe`) and build date (version.c). */
extern const char kernel_version[];
extern const char kernel_build_date[];

#endif /* HYPHAE_KERNEL_KERNEL_H */
