/*
 * kmain.h - hooks at the end of the kernel's boot path.
 *
 * kmain() (boot core) brings up serial, the per-core block, the exception
 * vectors, the clock, the boot information and memory, prints the banner,
 * then calls exactly one of:
 *   ktest_main(mb)       in the test kernel (tests/kernel/ktest.c);
 *   kernel_main_loop()   otherwise.  Weak default: log and idle in
 *                        `sti; hlt`.  The runtime provides the strong one.
 * Both run with interrupts disabled and never return.
 */
#ifndef HYPHAE_X86_64_KMAIN_H
#define HYPHAE_X86_64_KMAIN_H

struct mb2_info;

/* The runtime's entry on the boot core, after boot (see above). */
_Noreturn void kernel_main_loop(void);

/* The test kernel's entry (weak reference: absent from hyphae.elf). */
_Noreturn void ktest_main(const struct mb2_info *mb) __attribute__((weak));

/* The multiboot2 command line ("" if none).  Any core, after boot. */
const char *kernel_cmdline(void);

#endif /* HYPHAE_X86_64_KMAIN_H */
