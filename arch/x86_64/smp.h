/*
 * smp.h - starting the application processors and talking to them.
 *
 * smp_init() starts every processor the MADT lists, one at a time: INIT,
 * 10 ms, STARTUP, 200 us, a second STARTUP if the first did not take, then
 * up to SMP_AP_TIMEOUT_MS for the AP to report itself online.  Each AP
 * runs boot/trampoline.asm into smp.c's C entry on its own guarded stack,
 * sets up its struct cpu (GS base, GDT/TSS/IST, IDT) and LAPIC, logs
 * "cpuN online (apic X)" and calls the entry smp_init() was given (the
 * kernel's kernel_ap_start).  arch_wake(index) sends the wakeup
 * IPI to the APIC id bound to runtime slot `index` (smp_bind, from
 * arch_cpu_bind).  Reference: Intel SDM vol. 3 section 8.4 (MP
 * initialisation), 11.6 (IPIs).
 */
#ifndef HYPHAE_X86_64_SMP_H
#define HYPHAE_X86_64_SMP_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

struct acpi_info;

#define SMP_AP_TIMEOUT_MS	2000	/* TCG on a busy host can be slow */

/*
 * Start every AP in `info` (the boot core is skipped by APIC id); each
 * ends in entry(its bring-up number), interrupts off, which must not
 * return.  APs that do not
 * answer are logged and skipped.  Returns the number of cores online, the
 * boot core included.  Boot core, once, after lapic_init and mm_init,
 * interrupts off.
 */
unsigned smp_init(const struct acpi_info *info, void (*entry)(unsigned));

/* Cores online (boot core included).  Any core. */
unsigned smp_cpus_online(void);

/* APIC id of the core brought up as number n (0: boot core). */
uint32_t smp_cpu_apic(unsigned n);

/* arch_wake(): the wakeup IPI to the core bound to slot `index`.  Any core. */
void smp_wake(unsigned index);

/* Record that runtime slot `index` runs on APIC id `apic_id`.  Any core. */
void smp_bind(unsigned index, uint32_t apic_id);

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
