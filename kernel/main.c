/*
 * main.c - kmain(), the boot core's C entry: the machine comes up in this
 * order, one direct call per step.
 *
 *   serial_init      the console first, so anything can be reported
 *   cpu_init_boot    per-core block, GDT/TSS, the exception vectors (the
 *                    fault report names the task being polled)
 *   tsc_init         the clock (log timestamps from here on)
 *   mb2_parse        the boot information GRUB left (malformed: panic)
 *   mm_init          frames, kernel page tables, the heap
 *   acpi_init        MADT: processors and I/O APICs (bad tables: one core)
 *   lapic_init       this core's local APIC and its timer
 *   ioapic_init      every I/O APIC, all inputs masked
 *   smp_init         the other processors; each ends in kernel_ap_start()
 *   kernel_start     the runtime and the shell (start.c), or the in-kernel
 *                    tests in hyphae-test.elf
 *
 * Command line: `log=LEVEL` sets the log level; `ap_fault` makes two APs
 * fault before their IDT is loaded (the early exception stub's test); the
 * test kernel reads `ktest=NAME`.
 */
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "kernel/kernel.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "panic.h"

#define MIB_SHIFT	20

_Noreturn void kmain(uint32_t magic, uint32_t info_pa);

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
	trap_set_context_hook(kernel_fault_context);
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
		kernel_version, mm_total_frames() * PAGE_SIZE >> MIB_SHIFT,
		mm_free_frames_count() * PAGE_SIZE >> MIB_SHIFT);
	acpi_init(mb);
	lapic_init(acpi_get()->lapic_addr);
	ioapic_init(acpi_get());
	if (cmdline_has(mb->cmdline, "ap_fault"))
		smp_plant_ap_faults();
	smp_init(acpi_get(), kernel_ap_start);
	kernel_start(mb);
}
