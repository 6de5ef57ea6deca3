/*
 * console.c - arch_console_write(): the serial console shared by all cores.
 *
 * One spinlock, taken with interrupts disabled, makes each call's bytes
 * contiguous on the wire (kprintf and the log write a line per call).  A
 * core that is reporting a fault or a panic bypasses the lock: the code it
 * interrupted may hold it, and the report matters more than tidiness.
 * A fault contained to its task is known not to hold it: its report holds
 * the lock throughout (console_hold), so reports from several cores and
 * other output do not interleave.
 * "\n" becomes "\r\n" for terminals.  Every byte handed to the UART
 * is counted (console_bytes_out(), for the tests).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "spinlock.h"

/* console_hold() waits for the lock at most 1 s / this (100 ms). */
#define CONSOLE_HOLD_DIVISOR	10

static struct spinlock console_lock = SPINLOCK_INIT;
/* Relaxed: a statistic; a reader after the writers returned is ordered
 * by whatever told it they had (the same core, or a join). */
static atomic_uint_fast64_t bytes_out;

void arch_console_write(const char *s, size_t n)
{
	unsigned long flags = arch_irq_save();
	bool bypass = this_cpu()->fault_depth > 0;
	size_t out;		/* bytes handed to the UART */

	if (!bypass)
		spin_lock(&console_lock);
	out = serial_write(s, n, true);
	atomic_fetch_add_explicit(&bytes_out, out, memory_order_relaxed);
	if (!bypass)
		spin_unlock(&console_lock);
	arch_irq_restore(flags);
}

bool console_hold(void)
{
	uint64_t t0 = rdtsc(), limit = tsc_hz() / CONSOLE_HOLD_DIVISOR;

	while (!spin_trylock(&console_lock))
		if (rdtsc() - t0 > limit)
			return false;
	return true;
}

void console_release(void)
{
	spin_unlock(&console_lock);
}

void console_emergency_puts(const char *s)
{
	size_t out = 0;

	for (; *s; s++) {
		if (*s == '\n') {
			serial_putc('\r');
			out++;
		}
		serial_putc(*s);
		out++;
	}
	atomic_fetch_add_explicit(&bytes_out, out, memory_order_relaxed);
}

uint64_t console_bytes_out(void)
{
	return atomic_load_explicit(&bytes_out, memory_order_relaxed);
}
