/*
 * kmain.c - the boot core's C entry: bring the machine up, print the
 * banner, hand over to the runtime.
 *
 * Order matters: serial first (so anything can be reported), then the
 * per-core block and the exception vectors (so any fault is reported),
 * then the multiboot2 information, the clock (log timestamps), memory.
 * The end of boot is kernel_main_loop(): weak here (log and idle in
 * `sti; hlt`), replaced by the runtime (rt/) when it lands; the test
 * kernel runs its tests instead (ktest_main).
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/x86.h"
#include "lib/fmt.h"
#include "lib/log.h"

#ifndef HYPHAE_VERSION
#define HYPHAE_VERSION "unknown"
#endif

_Noreturn void kmain(uint32_t magic, uint32_t info_pa);

void kmain(uint32_t magic, uint32_t info_pa)
{
	serial_init();
	cpu_init_boot();
	kprintf("\nhyphae %s\n", HYPHAE_VERSION);
	log_info("boot: magic 0x%x info 0x%x", magic, info_pa);
	for (;;)
		arch_wait_for_interrupt();
}
