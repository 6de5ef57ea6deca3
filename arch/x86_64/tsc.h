/*
 * tsc.h - the TSC as the kernel's clock (arch_clock()).
 *
 * tsc_init() measures the TSC rate once against PIT channel 2; from then
 * on arch_clock()->now() is nanoseconds since the kernel's entry (the TSC
 * boot.asm saved; tick_ns = 1).  Before it, now() reads 0.  The rate comes from CPUID (leaf 0x15/0x16 or
 * the hypervisor leaf) when it agrees with the PIT, else from the median
 * of several PIT runs (tsc.c).  Not done: checking that the cores' TSCs
 * are synchronised (QEMU's and modern CPUs' are).
 */
#ifndef HYPHAE_X86_64_TSC_H
#define HYPHAE_X86_64_TSC_H

#include <stdint.h>

/* Calibrate and start the clock.  Boot core, once, interrupts off. */
void tsc_init(void);

/* Log the frequency, where it came from, and a missing invariant TSC.
 * Boot core, after the log level is set. */
void tsc_log(void);

/* TSC frequency in Hz (0 before tsc_init()). */
uint64_t tsc_hz(void);

/* The TSC at the kernel's entry, in ns: the time firmware and loader
 * took when the TSC started at 0 on reset (QEMU, KVM and hardware do). */
uint64_t tsc_entry_ns(void);

/* Convert a TSC delta to nanoseconds with the calibrated rate. */
uint64_t tsc_to_ns(uint64_t ticks);

#endif /* HYPHAE_X86_64_TSC_H */
