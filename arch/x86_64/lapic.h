/*
 * lapic.h - the local APIC of each core: EOI, IPIs, the one-shot timer.
 *
 * xAPIC (MMIO at the address from the MADT / IA32_APIC_BASE) or, when
 * CPUID.1:ECX.x2APIC is set, x2APIC (MSRs 0x800+; 32-bit APIC ids).  The
 * timer runs in TSC-deadline mode when CPUID.1:ECX[24] says so, else in
 * one-shot mode with its rate measured against the TSC at boot.  Either
 * way it is armed only when a core goes idle with a timer pending, so an
 * idle machine takes no periodic interrupts.  Reference: Intel SDM vol. 3
 * chapter 11 (APIC), 11.5.4 (APIC timer), 11.12 (x2APIC).
 */
#ifndef HYPHAE_X86_64_LAPIC_H
#define HYPHAE_X86_64_LAPIC_H

#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/vectors.h"
#include "compiler.h"

struct cpu;
struct fmt_out;


/* Physical base of the xAPIC MMIO window when the MADT does not say. */
#define LAPIC_DEFAULT_BASE	0xfee00000ull

/*
 * Bring up the boot core's LAPIC: choose xAPIC or x2APIC, map the MMIO
 * window (uncached), choose the timer mode, measure the one-shot rate if
 * needed, then lapic_init_cpu().  `base` is the MADT's LAPIC address
 * (0: use IA32_APIC_BASE).  Boot core, once, after mm_init and tsc_init,
 * interrupts off.
 */
void lapic_init(uint64_t base);

/*
 * Enable this core's LAPIC in the mode lapic_init() chose: spurious and
 * error vectors, LINT0/1 masked, timer masked and disarmed, TPR 0.  Every
 * core, once, interrupts off (lapic_init does it for the boot core).
 */
void lapic_init_cpu(void);

/* This core's APIC id as the LAPIC reports it.  After lapic_init_cpu. */
uint32_t lapic_id(void);

/* Signal end of interrupt.  From an interrupt handler, interrupts off. */
void lapic_eoi(void);

/* True when running in x2APIC mode; true when the timer uses TSC-deadline. */
bool lapic_x2apic(void);
bool lapic_tsc_deadline(void);

/* Send a fixed IPI with `vector` to one APIC id.  Any core, IRQ-safe. */
void lapic_send_ipi(uint32_t apic_id, uint8_t vector);

/* Send an NMI to every core but the caller.  Any context (panic). */
void lapic_send_nmi_others(void);

/* Send an NMI to one APIC id (remote backtraces).  Any core. */
void lapic_send_nmi(uint32_t apic_id);

/* INIT and STARTUP (page = vector) IPIs for SMP bring-up (smp.c). */
void lapic_send_init(uint32_t apic_id);
void lapic_send_startup(uint32_t apic_id, uint8_t page);

/*
 * Program this core's timer to interrupt at TSC value `tsc` (one-shot
 * mode: as close as its 32-bit counter allows; an early interrupt is
 * harmless, the idle loop re-arms).  0 disarms.  Owner core, interrupts off.
 */
void lapic_timer_arm_tsc(uint64_t tsc);

/*
 * arch_timer_arm(): interrupt this core at `deadline` in arch_clock() ns;
 * UINT64_MAX disarms, a past deadline fires at once.  Records it in
 * this_cpu()->timer_deadline.  The hardware interrupt comes a little
 * early (lapic_timer_early_ns(), adapted to the measured interrupt
 * lateness) and lapic_wait_for_interrupt() polls the last stretch.  The
 * deadline already armed, not yet fired, costs no register write.  Owner
 * core, interrupts off.
 */
void lapic_timer_arm(uint64_t deadline);

/*
 * The HLT part of arch_wait_for_interrupt() (idle.c): `sti; hlt`, or,
 * when the armed deadline is less than the early margin away, poll the
 * clock with interrupts on until it passes or any interrupt arrives.
 * Called with interrupts off; returns with them on, saying whether a
 * wakeup IPI, the timer or another interrupt ended the wait.  Owner core.
 */
enum arch_wake_reason lapic_wait_for_interrupt(void);

/*
 * What ended a wait that began when this core's interrupt and wakeup-IPI
 * counts (struct cpu) were `others` and `wakes`: a wakeup IPI, else any
 * interrupt but the timer's, else the timer.  Owner core.
 */
enum arch_wake_reason lapic_wake_reason(const struct cpu *c, uint64_t others,
					uint64_t wakes);

/*
 * True while this core's armed deadline is within the early margin, so
 * lapic_wait_for_interrupt() will poll the clock instead of halting.
 * Owner core, interrupts off.
 */
bool lapic_timer_polling(void);

/* This core's current early margin in ns (for tests and the log). */
uint64_t lapic_timer_early_ns(void);

/* Timer interrupts taken by this core's LAPIC timer (all cores summed). */
uint64_t lapic_timer_fired(void);

/* Print this core's APIC state (`dump arch apic`).  Task context. */
void lapic_dump(const struct fmt_out *out);

#endif /* HYPHAE_X86_64_LAPIC_H */
