/*
 * panic.c - panic(), kassert() and the stack protector, for the kernel.
 *
 * panic_at() disables interrupts, prints "PANIC on cpuN: <message>", the
 * source location, a backtrace and the last log lines (the log ring), and
 * halts the core.  First it stops the
 * other cores with an NMI (smp_stop_others; they halt without a report),
 * so the report is not interleaved -- except under a panic hook (the
 * test kernel's, trap.h), which may resume and let the other cores go on.
 *
 * -fstack-protector-strong -mstack-protector-guard=global makes protected
 * functions compare a copy of __stack_chk_guard on return and call
 * __stack_chk_fail() on a mismatch.  The guard is chosen once at boot by
 * stack_protector_init(), called from boot.asm before any protected frame
 * exists (functions live across the change would fail their check).
 */
#include <stdarg.h>
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ksyms.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "arch.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/trace.h"
#include "panic.h"

/* A fixed value until stack_protector_init() replaces it. */
uintptr_t __stack_chk_guard = 0x595e9fbd94fda766ull;

#define NO_STACK_PROTECTOR __attribute__((no_stack_protector, noinline))

/* Low byte zero: a string overflow (strcpy & co.) cannot forge it. */
#define CANARY_TERMINATOR_MASK	(~(uintptr_t)0xff)

NO_STACK_PROTECTOR void stack_protector_init(void);

/* Boot core, from boot.asm only: runs before C has any protected frame. */
NO_STACK_PROTECTOR void stack_protector_init(void)
{
	uint64_t v = 0;
	bool got = false;

	if (cpuid(1, 0).ecx & CPUID_1_ECX_RDRAND)
		for (int i = 0; i < 10 && !got; i++)
			got = rdrand64(&v);
	if (!got) {
		/* No RDRAND: the TSC at boot, spread over 64 bits. */
		v = rdtsc() * 0x9e3779b97f4a7c15ull;
		v ^= v >> 29;
		v *= 0xbf58476d1ce4e5b9ull;
		v ^= v >> 32;
	}
	__stack_chk_guard = (uintptr_t)v & CANARY_TERMINATOR_MASK;
}

/* panic_set_hook(); written before anything panics on purpose. */
static void (*panic_hook)(const char *msg);

void panic_set_hook(void (*hook)(const char *msg))
{
	panic_hook = hook;
}

/* Log lines (the log ring's tail) at the end of a report. */
#define PANIC_LOG_LINES	16

/* Interrupts off, console lock bypassed; a nested panic stops here. */
static void panic_enter(const char *what)
{
	cli();
	/* Stop the other cores so the report is not interleaved; not under
	 * a hook (the test kernel's expected panics resume and go on). */
	if (!panic_hook)
		smp_stop_others();
	/* Bypass the console lock: the code we interrupt may hold it. */
	if (this_cpu()->fault_depth++ > 0) {
		console_emergency_puts("\nPANIC while reporting a fault or panic: ");
		console_emergency_puts(what);
		console_emergency_puts("\nhalting\n");
		halt_forever();
	}
	/* After the guard, as in fault_handle(): the trace's poll-id hook
	 * reads this core's scheduler, and a fault in it now halts with the
	 * nested-fault message instead of recursing. */
	trace_fault(TRACE_FAULT_PANIC);
}

/* The message of the panic in progress (one core panics at a time). */
static char panic_msg[PANIC_MSG_MAX];

/* Backtrace from the caller of the function whose frame is fp, then halt. */
static _Noreturn void panic_finish(const uint64_t *fp)
{
	/* fp[0] is the caller's saved rbp, fp[1] the return address into it. */
	backtrace_print(fp[1] - 1, fp[0]);
	log_ring_print_tail(PANIC_LOG_LINES, arch_console_write);
	kprintf("======== end of panic report; cpu%u halted ========\n",
		this_cpu()->index);
	if (panic_hook)
		panic_hook(panic_msg);
	halt_forever();
}

void panic_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	panic_enter(fmt);
	va_start(ap, fmt);
	kvsnprintf(panic_msg, sizeof(panic_msg), fmt, ap);
	va_end(ap);
	kprintf("\n======== PANIC on cpu%u: %s\n  at %s:%d\n", this_cpu()->index,
		panic_msg, file, line);
	panic_finish(__builtin_frame_address(0));
}

void kassert_fail(const char *expr, const char *func, const char *file,
		  int line)
{
	panic_enter(expr);
	ksnprintf(panic_msg, sizeof(panic_msg), "%s: assertion failed: %s",
		  func, expr);
	kprintf("\n======== PANIC on cpu%u: %s\n  at %s:%d\n", this_cpu()->index,
		panic_msg, file, line);
	panic_finish(__builtin_frame_address(0));
}

_Noreturn void __stack_chk_fail(void);

void __stack_chk_fail(void)
{
	/* The call sits in the function whose canary died; the return
	 * address may already be past its end (the call is its last
	 * instruction), so look up the byte before it. */
	uint64_t ra = (uint64_t)(uintptr_t)__builtin_return_address(0);
	const char *name = "?";
	uint64_t off = 0;

	if (!ksyms_lookup(ra - 1, &name, &off))
		name = "(unknown function)";
	panic("__stack_chk_fail: stack smashed in %s (call at 0x%llx, %s+0x%llx)",
	      name, (unsigned long long)(ra - 1), name, (unsigned long long)off);
}
