/*
 * capture.h - run a function with stdout redirected, and get what it
 * printed (host tests of kprintf and the log).
 */
#ifndef HYPHAE_TESTS_SUPPORT_CAPTURE_H
#define HYPHAE_TESTS_SUPPORT_CAPTURE_H

#include <stddef.h>

/*
 * Run fn() with stdout redirected into a temporary file; copy what it
 * wrote into out (at most cap - 1 bytes, NUL-terminated) and return the
 * length.  Aborts the test (cmocka) if the redirection fails.
 */
size_t capture_stdout(void (*fn)(void), char *out, size_t cap);

#endif /* HYPHAE_TESTS_SUPPORT_CAPTURE_H */
