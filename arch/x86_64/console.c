/*
 * console.c - arch_console_write(): the serial console shared by all cores.
 *
 * One spinlock, taken with interrupts disabled, makes each call's bytes
 * contiguous on the wire (kprintf and the log write a line per call).  A
 * core that is reporting a fault or a panic bypasses the lock: the code it
 * interrupted may hold it, and the report matters more than tidiness.
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
#include "spinlock.h"

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
