/*
 * smp.h - starting the application processors and talking to them.
 *
 * smp_init() starts every processor the MADT lists that the APIC mode
 * can address: INIT to all of them, 10 ms, then one at a time STARTUP,
 * 200 us, a second STARTUP if the first did not take, and up to
 * SMP_AP_TIMEOUT_MS for the AP to report itself online (or to fault:
 * the trampoline's stub IDT reports an exception before the kernel's
 * IDT is loaded, and that AP is skipped).  Each AP runs
 * boot/trampoline.asm into smp.c's C entry on its own guarded stack,
 * sets up its struct cpu (GS base, GDT/TSS/IST, IDT) and LAPIC, logs
 * "cpuN online (apic X)" and calls ap_main_loop() (kernel_rt.c), or
 * ktest_ap_main() in the test kernel.  arch_wake(index) wakes the core
 * bound to runtime slot `index` (smp_bind, from arch_cpu_bind): the
 * wakeup IPI only when that core sits in HLT (idle.h).  Reference: Intel
 * SDM vol. 3 section 8.4 (MP initialisation), 11.6 (IPIs).
 */
#ifndef HYPHAE_X86_64_SMP_H
#define HYPHAE_X86_64_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

struct acpi_info;
struct cpu;

#define SMP_MAX_SLOTS		512	/* = RT_MAX_CORES (checked in smp.c) */
#define SMP_AP_TIMEOUT_MS	2000	/* TCG on a busy host can be slow */

/*
 * Start every AP in `info` (the boot core is skipped by APIC id).  APs that
 * do not answer are logged and skipped.  Returns the number of cores
 * online, the boot core included.  Boot core, once, after lapic_init and
 * mm_init, interrupts off.
 */
unsigned smp_init(const struct acpi_info *info);

/* Cores online (boot core included).  Any core. */
unsigned smp_cpus_online(void);

/* APIC id of the core brought up as number n (0: boot core). */
uint32_t smp_cpu_apic(unsigned n);

/* arch_wake(): wake the core bound to slot `index` (an IPI if it halts).  Any core. */
void smp_wake(unsigned index);

/* Wake core c (smp_wake without the slot lookup).  Any core. */
void smp_wake_cpu(struct cpu *c);

/* Record that runtime slot `index` runs on core `c`.  Any core. */
void smp_bind(unsigned index, struct cpu *c);

/*
 * Stop every other core with an NMI (panic): they halt without a report.
 * Any context; idempotent.
 */
void smp_stop_others(void);

/* True once smp_stop_others() ran: an NMI now means "halt quietly". */
bool smp_stop_requested(void);

/*
 * The test kernel's AP entry (tests/kernel/kt_smp.c), weak: when present
 * each AP calls it instead of ap_main_loop(), with its bring-up number.
 */
_Noreturn void ktest_ap_main(unsigned number) __attribute__((weak));

#endif /* HYPHAE_X86_64_SMP_H */
