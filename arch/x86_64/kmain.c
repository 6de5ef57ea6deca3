/*
 * kmain.c - the boot core's C entry: bring the machine up, print the
 * banner, hand over to the runtime.
 *
 * Order matters: serial first (so anything can be reported), then the
 * per-core block and the exception vectors (so any fault is reported),
 * the clock (log timestamps), the multiboot2 information, memory, then
 * the ACPI tables, this core's LAPIC, the I/O APICs and the other
 * processors (smp_init: each logs "cpuN online" and waits to join the
 * runtime, or runs ktest_ap_main() in the test kernel).  The
 * end of boot is kernel_main_loop(): weak here (idle in `sti; hlt`), for
 * the runtime (rt/) to replace; the test kernel defines ktest_main() and
 * runs its tests instead.  Command line: `log=LEVEL` sets the log level,
 * `ktest=NAME` (test kernel) runs one test.
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/kmain.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "panic.h"

#ifndef HYPHAE_VERSION
#define HYPHAE_VERSION "unknown"
#endif

#define MIB_SHIFT	20

_Noreturn void kmain(uint32_t magic, uint32_t info_pa);

/*
 * What the boot core does once the machine is up: the hook for the
 * runtime.  rt/ (or an arch glue file) provides the strong definition,
 * which starts the scheduler loop on this core.  Called on the boot core
 * with interrupts disabled, after memory, the heap and the clock work;
 * must not return.  The weak default idles in `sti; hlt`.
 */
__attribute__((weak)) void kernel_main_loop(void)
{
	log_info("boot: no runtime linked; cpu%u idles", arch_cpu_index());
	for (;;) {
		arch_irq_disable();
		arch_wait_for_interrupt();
	}
}

/* `log=debug|info|warn|error` on the command line sets the log level. */
static void apply_log_level(const char *cmdline)
{
	char name[16];
	enum log_level lvl;

	if (cmdline_get(cmdline, "log", name, sizeof(name)) < 0)
		return;
	if (log_parse_level(name, &lvl) == 0)
		log_set_level(lvl);
	else
		log_warn("boot: unknown log level \"%s\" on the command line", name);
}

static void log_memory_map(const struct mb2_info *mb)
{
	for (size_t i = 0; i < mb->mmap_count; i++) {
		struct mb2_mmap_entry e = mb2_mmap_get(mb, i);

		log_debug("mm: [0x%016llx-0x%016llx] %s",
			  (unsigned long long)e.base,
			  (unsigned long long)(e.base + e.len - 1),
			  mb2_mem_type_name(e.type));
	}
}

/* The parsed boot information; points into GRUB's block (kept reserved). */
static struct mb2_info boot_info;

const char *kernel_cmdline(void)
{
	return boot_info.cmdline ? boot_info.cmdline : "";
}

void kmain(uint32_t magic, uint32_t info_pa)
{
	const struct mb2_info *mb;

	serial_init();
	cpu_init_boot();
	tsc_init();
	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("kmain: bad multiboot2 magic 0x%x", magic);
	mb = mb2_parse_or_panic((const void *)(uintptr_t)info_pa, &boot_info);
	apply_log_level(mb->cmdline);
	log_info("boot: loader \"%s\", command line \"%s\"",
		 mb->loader_name ? mb->loader_name : "?", mb->cmdline);
	tsc_log();
	log_memory_map(mb);
	mm_init(mb);
	kprintf("\nhyphae %s (x86_64): %zu MiB usable memory, %zu MiB free\n\n",
		HYPHAE_VERSION, mm_total_frames() * PAGE_SIZE >> MIB_SHIFT,
		mm_free_frames_count() * PAGE_SIZE >> MIB_SHIFT);
	acpi_init(mb);
	lapic_init(acpi_get()->lapic_addr);
	ioapic_init(acpi_get());
	smp_init(acpi_get());
	if (ktest_main)
		ktest_main(mb);
	kernel_main_loop();
}
