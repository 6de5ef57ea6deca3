/*
 * trapstat.h - per-core counts of the operations that trap under
 * virtualization: interrupt masking, LAPIC and MSR accesses, HLT, port
 * I/O, IPIs (struct trapstat in cpu.h).
 *
 * The code that executes such an instruction counts it with
 * TRAPSTAT_ADD(field, n): one `addq $n, %gs:offset`, so it is cheap, needs
 * no lock and cannot be torn by an interrupt on the same core.  Only code
 * that runs after cpu_init_*() (GS base set) may count.  The shell's
 * `dump traps` prints them (trapstat_dump), and the ratios per task
 * are in docs/PERFORMANCE.md.
 */
#ifndef HYPHAE_X86_64_TRAPSTAT_H
#define HYPHAE_X86_64_TRAPSTAT_H

#include <stddef.h>

#include "arch/x86_64/cpu.h"

struct fmt_out;

#define TRAPSTAT_ADD(field, n)						\
	__asm__ volatile("addq %1, %%gs:%c0"				\
			 : : "i"(offsetof(struct cpu, trapstat.field)),	\
			     "er"((uint64_t)(n)) : "cc")
#define TRAPSTAT_INC(field)	TRAPSTAT_ADD(field, 1)

/* Sum over every core brought up so far (any core; a snapshot). */
struct trapstat trapstat_total(void);

/* Core number n's counters (bring-up order); false if there is no such core. */
bool trapstat_of(unsigned n, struct trapstat *out);

/*
 * The shell's `dump traps [reset]`: print every core's counters since the
 * last reset, and the sum; or take a reset snapshot (-ENOMEM if its
 * storage cannot be had).  Task context, one caller at a time.
 */
void trapstat_dump(const struct fmt_out *out);
int __must_check trapstat_reset(void);

#endif /* HYPHAE_X86_64_TRAPSTAT_H */
