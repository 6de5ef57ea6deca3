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
 * "cpuN online (apic X)" and calls the entry smp_init() was given (the
 * kernel's kernel_ap_start).  arch_wake(index) wakes the core
 * bound to runtime slot `index` (smp_bind, from arch_cpu_bind): the
 * wakeup IPI only when that core sits in HLT (idle.h).  Reference: Intel
 * SDM vol. 3 section 8.4 (MP initialisation), 11.6 (IPIs).
 */
#ifndef HYPHAE_X86_64_SMP_H
#define HYPHAE_X86_64_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

struct acpi_info;
struct cpu;

#define SMP_AP_TIMEOUT_MS	2000	/* TCG on a busy host can be slow */

/*
 * Start every AP in `info` (the boot core is skipped by APIC id); each
 * ends in entry(its bring-up number), interrupts off, which must not
 * return.  APs that do not answer (or fault early) are logged and
 * skipped.  Returns the number of cores online, the boot core included.
 * Boot core, once, after lapic_init and mm_init, interrupts off.
 */
unsigned smp_init(const struct acpi_info *info, void (*entry)(unsigned));

/*
 * Make the next smp_init()'s first AP fault in 32-bit code and its second
 * in 64-bit code, before either has the kernel's IDT: the test of the
 * trampoline's early exception stub (`ap_fault` on the command line).
 * Boot core, before smp_init().
 */
void smp_plant_ap_faults(void);

/* Cores online (boot core included).  Any core. */
unsigned smp_cpus_online(void);

/* APIC id of the core brought up as number n (0: boot core). */
uint32_t smp_cpu_apic(unsigned n);

/* arch_wake(): wake the core bound to slot `index` (an IPI if it halts).
 * Any core. */
void smp_wake(unsigned index);

/* Wake core c (smp_wake without the slot lookup); true if that took an
 * IPI (the core sat in HLT).  Any core. */
bool smp_wake_cpu(struct cpu *c);

/* Record that runtime slot `index` runs on core `c`.  Any core. */
void smp_bind(unsigned index, struct cpu *c);

/* The APIC id bound to slot `index` into *apic_id; false if none.  Any core. */
bool smp_slot_apic(unsigned index, uint32_t *apic_id);

/* The bring-up number of the core with APIC id `apic_id`, or -1. */
int smp_number_of_apic(uint32_t apic_id);

/*
 * Stop every other core with an NMI (panic): they halt without a report.
 * Any context; idempotent.
 */
void smp_stop_others(void);

/* True once smp_stop_others() ran: an NMI now means "halt quietly". */
bool smp_stop_requested(void);

#endif /* HYPHAE_X86_64_SMP_H */
