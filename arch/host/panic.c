/*
 * panic.c - panic() and kassert() on the host.
 *
 * Both format their message and hand it to cmocka's mock_assert(), so a
 * unit test can expect_assert_failure() on a broken contract.  Outside a
 * running test mock_assert() reports and exits; abort() covers the rest.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "panic.h"

void panic_at(const char *file, int line, const char *fmt, ...)
{
	/* cmocka keeps the pointer and prints it after the longjmp. */
	static _Thread_local char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	mock_assert(0, msg, file, line);
	abort();
}

void kassert_fail(const char *expr, const char *func, const char *file,
		  int line)
{
	/* cmocka keeps the pointer and prints it after the longjmp. */
	static _Thread_local char msg[512];

	snprintf(msg, sizeof(msg), "%s: assertion failed: %s", func, expr);
	mock_assert(0, msg, file, line);
	abort();
}
