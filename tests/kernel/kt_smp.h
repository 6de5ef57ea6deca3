/*
 * kt_smp.h - run code on the application processors of the test kernel.
 *
 * In hyphae-test.elf every AP runs kt_smp.c's kernel_ap_start(): it binds
 * runtime slot = its bring-up number n (1..smp_cpus_online()-1), sleeps in
 * arch_wait_for_interrupt(), and runs what the boot core posts to it, one
 * call at a time, interrupts off (fn may enable them, e.g. rt_core_run).
 * Posting wakes AP n by its APIC id, so it works after a test runtime
 * rebound the slots (then arch_wake(n) no longer means AP n).
 */
#ifndef HYPHAE_TESTS_KERNEL_KT_SMP_H
#define HYPHAE_TESTS_KERNEL_KT_SMP_H

#include <stdbool.h>

/* Post fn(arg) to AP n and wake it; returns at once.  Boot core. */
void kt_smp_post(unsigned n, void (*fn)(void *arg), void *arg);

/* Calls AP n has finished (acquire: what fn wrote is visible). */
unsigned kt_smp_calls_done(unsigned n);

/* Post and wait (bounded, 2 s) for it to finish; false if it did not. */
bool kt_smp_call(unsigned n, void (*fn)(void *arg), void *arg);

#endif /* HYPHAE_TESTS_KERNEL_KT_SMP_H */
