/*
 * capture.h - run a function with stdout redirected, and get what it
 * printed (host tests of kprintf and the log); and a sink that collects
 * what a dump function writes through its callback.
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

#define CAPTURE_SINK_MAX	65536

/* Empty the sink.  Test thread. */
void capture_sink_reset(void);

/*
 * A write callback for timer_dump(), rt_dump(), log_ring_print_tail() and
 * the like: append s[0..n) to the sink.  Fails the test (cmocka) if the
 * sink would hold CAPTURE_SINK_MAX bytes or more.  Test thread.
 */
void capture_sink(const char *s, size_t n);

/* What the sink holds, NUL-terminated. */
const char *capture_sink_text(void);

#endif /* HYPHAE_TESTS_SUPPORT_CAPTURE_H */
