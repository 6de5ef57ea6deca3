/*
 * kmain.c - the boot core's C entry: bring the machine up, print the
 * banner, hand over to the runtime.
 *
 * Order matters: serial first (so anything can be reported), then the
 * per-core block and the exception vectors (so any fault is reported),
 * the clock (log timestamps), the multiboot2 information, memory.  The
 * end of boot is kernel_main_loop(): weak here (idle in `sti; hlt`), for
 * the runtime (rt/) to replace; the test kernel defines ktest_main() and
 * runs its tests instead.
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "panic.h"

#ifndef HYPHAE_VERSION
#define HYPHAE_VERSION "unknown"
#endif

#define HZ_PER_MHZ	1000000u
#define MIB_SHIFT	20

_Noreturn void kmain(uint32_t magic, uint32_t info_pa);

/* The test kernel's entry (tests/kernel/ktest.c); absent in the normal one. */
_Noreturn void ktest_main(const struct mb2_info *mb) __attribute__((weak));

/*
 * What the boot core does once the machine is up.  The runtime (rt/)
 * provides the strong definition: start the per-core scheduler loop.
 * Called with interrupts disabled; must not return.
 */
__attribute__((weak)) _Noreturn void kernel_main_loop(const struct mb2_info *mb);

__attribute__((weak)) void kernel_main_loop(const struct mb2_info *mb)
{
	(void)mb;
	log_info("boot: no runtime linked; cpu%u idles", arch_cpu_index());
	for (;;) {
		arch_irq_disable();
		arch_wait_for_interrupt();
	}
}

static const struct mb2_info *boot_info_parse(uint32_t magic, uint32_t info_pa)
{
	static struct mb2_info mb;
	const void *info = (const void *)(uintptr_t)info_pa;
	uint32_t total;

	if (magic != MB2_BOOTLOADER_MAGIC)
		panic("kmain: bad multiboot2 magic 0x%x", magic);
	/* The block's own size is all we know; mb2_parse checks the rest. */
	total = *(const uint32_t *)info;
	if (mb2_parse(info, total < MB2_INFO_MAX ? total : MB2_INFO_MAX, &mb) != 0)
		panic("kmain: malformed multiboot2 information at 0x%x: %s "
		      "(tag type %u at offset %zu)", info_pa, mb.error,
		      mb.error_tag, mb.error_offset);
	return &mb;
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

void kmain(uint32_t magic, uint32_t info_pa)
{
	const struct mb2_info *mb;

	serial_init();
	cpu_init_boot();
	tsc_init();
	mb = boot_info_parse(magic, info_pa);
	log_info("boot: loader \"%s\", command line \"%s\"",
		 mb->loader_name ? mb->loader_name : "?", mb->cmdline);
	log_info("tsc: %llu.%03llu MHz (PIT calibrated)",
		 (unsigned long long)(tsc_hz() / HZ_PER_MHZ),
		 (unsigned long long)(tsc_hz() % HZ_PER_MHZ / 1000));
	log_memory_map(mb);
	mm_init(mb);
	kprintf("\nhyphae %s (x86_64): %zu MiB usable memory, %zu MiB free\n\n",
		HYPHAE_VERSION, mm_total_frames() * PAGE_SIZE >> MIB_SHIFT,
		mm_free_frames_count() * PAGE_SIZE >> MIB_SHIFT);
	if (mb->rsdp)
		log_info("acpi: RSDP revision %u in the boot information",
			 mb->rsdp_revision);
	else
		log_warn("acpi: no RSDP tag in the boot information");
	if (ktest_main)
		ktest_main(mb);
	kernel_main_loop(mb);
}
