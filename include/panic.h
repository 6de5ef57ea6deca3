/*
 * panic.h - broken invariants.
 *
 * panic() is for states that must never happen: it names the function
 * first, e.g. panic("sched_tick: task %llu not woken", id).  On the kernel
 * it disables interrupts, stops the other cores, prints the core id, the
 * message and a backtrace on serial, and halts every core.  On the host it
 * maps to cmocka's mock_assert(), so a test can expect_assert_failure() on
 * a contract violation; outside a test it aborts.
 *
 * Expected failures (bad input, a full buffer) are not panics: they return
 * an error code (see errno.h).
 */
#ifndef HYPHAE_PANIC_H
#define HYPHAE_PANIC_H

#include "compiler.h"

_Noreturn void panic_at(const char *file, int line, const char *fmt, ...)
	__printf(3, 4);
_Noreturn void kassert_fail(const char *expr, const char *func,
			    const char *file, int line);

#define panic(...)	panic_at(__FILE__, __LINE__, __VA_ARGS__)

#define kassert(expr) \
	(likely(expr) ? (void)0 : kassert_fail(#expr, __func__, __FILE__, __LINE__))

#endif /* HYPHAE_PANIC_H */
