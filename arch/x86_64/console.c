/*
 * console.c - arch_console_write(): the serial console shared by all cores.
 *
 * One spinlock, taken with interrupts disabled, makes each call's bytes
 * contiguous on the wire (kprintf and the log write a line per call).  A
 * core that is reporting a fault or a panic bypasses the lock: the code it
 * interrupted may hold it, and the report matters more than tidiness.
 * "\n" becomes "\r\n" for terminals.
 */
#include <stddef.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/serial.h"
#include "arch/x86_64/trap.h"
#include "spinlock.h"

static struct spinlock console_lock = SPINLOCK_INIT;

void arch_console_write(const char *s, size_t n)
{
	unsigned long flags = arch_irq_save();
	bool bypass = this_cpu()->fault_depth > 0;

	if (!bypass)
		spin_lock(&console_lock);
	serial_write(s, n, true);
	if (!bypass)
		spin_unlock(&console_lock);
	arch_irq_restore(flags);
}

void console_emergency_puts(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			serial_putc('\r');
		serial_putc(*s);
	}
}
