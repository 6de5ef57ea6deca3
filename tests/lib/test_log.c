/*
 * test_log.c - lib/log.c: the line format, truncation, levels.
 *
 * log_format() is pure, so the line layout is checked byte for byte for
 * chosen times, cores and levels.  log_msg() is checked end to end by
 * redirecting stdout (where the host's arch_console_write() goes) into a
 * temporary file: one line per call, dropped below the current level, and
 * a timestamp that is plausible for CLOCK_MONOTONIC.  The log ring: the
 * last LOG_RING_LINES lines come back whole, a line being written does
 * not, and the tail prints the newest lines in order.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "errno.h"
#include "lib/log.h"
#include "tests/support/capture.h"

static size_t __printf(6, 7) fmt_line(char *buf, size_t n, enum log_level lvl,
				      uint64_t ns, unsigned cpu, const char *fmt, ...)
{
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = log_format(buf, n, lvl, ns, cpu, fmt, ap);
	va_end(ap);
	return len;
}

static void test_format_line(void **state)
{
	char buf[LOG_LINE_MAX];
	size_t len;

	(void)state;
	len = fmt_line(buf, sizeof(buf), LOG_INFO, 12345678, 0,
		       "mm: %d MiB usable", 126);
	assert_string_equal(buf, "[    0.012345] cpu0 INFO  mm: 126 MiB usable\n");
	assert_int_equal(len, strlen(buf));

	fmt_line(buf, sizeof(buf), LOG_ERROR, 98765ull * 1000000000 + 999999999,
		 17, "x");
	assert_string_equal(buf, "[98765.999999] cpu17 ERROR x\n");
	fmt_line(buf, sizeof(buf), LOG_WARN, 3000000000ull, 2, "%s", "");
	assert_string_equal(buf, "[    3.000000] cpu2 WARN  \n");
	fmt_line(buf, sizeof(buf), LOG_DEBUG, 999, 511, "d");
	assert_string_equal(buf, "[    0.000000] cpu511 DEBUG d\n");
	/* More than five digits of seconds widen the field, never cut it. */
	fmt_line(buf, sizeof(buf), LOG_INFO, UINT64_MAX, 1, "m");
	assert_string_equal(buf, "[18446744073.709551] cpu1 INFO  m\n");
}

static void test_format_truncates(void **state)
{
	char buf[LOG_LINE_MIN + 16];
	char msg[200];
	size_t len;

	(void)state;
	memset(msg, 'm', sizeof(msg) - 1);
	msg[sizeof(msg) - 1] = '\0';
	memset(buf, 'z', sizeof(buf));
	len = fmt_line(buf, sizeof(buf), LOG_INFO, 0, 0, "%s", msg);
	assert_int_equal(len, sizeof(buf) - 1);
	assert_int_equal(strlen(buf), len);
	assert_memory_equal(buf + len - 4, "...\n", 4);
	assert_memory_equal(buf, "[    0.000000] cpu0 INFO  mmm", 29);

	/* A message that exactly fits (newline and NUL included) is whole. */
	{
		size_t prefix = strlen("[    0.000000] cpu0 INFO  ");
		size_t room = sizeof(buf) - prefix - 2;

		msg[room] = '\0';
		len = fmt_line(buf, sizeof(buf), LOG_INFO, 0, 0, "%s", msg);
		assert_int_equal(len, sizeof(buf) - 1);
		assert_int_equal(buf[len - 1], '\n');
		assert_int_equal(buf[len - 2], 'm');
		msg[room] = 'm';
		msg[room + 1] = '\0';
		len = fmt_line(buf, sizeof(buf), LOG_INFO, 0, 0, "%s", msg);
		assert_memory_equal(buf + len - 4, "...\n", 4);
	}
}

static void test_parse_level(void **state)
{
	enum log_level lvl = LOG_ERROR;

	(void)state;
	assert_int_equal(log_parse_level("debug", &lvl), 0);
	assert_int_equal(lvl, LOG_DEBUG);
	assert_int_equal(log_parse_level("INFO", &lvl), 0);
	assert_int_equal(lvl, LOG_INFO);
	assert_int_equal(log_parse_level("Warn", &lvl), 0);
	assert_int_equal(lvl, LOG_WARN);
	assert_int_equal(log_parse_level("warning", &lvl), 0);
	assert_int_equal(lvl, LOG_WARN);
	assert_int_equal(log_parse_level("error", &lvl), 0);
	assert_int_equal(lvl, LOG_ERROR);
	lvl = LOG_INFO;
	assert_int_equal(log_parse_level("err", &lvl), -EINVAL);
	assert_int_equal(log_parse_level("errors", &lvl), -EINVAL);
	assert_int_equal(log_parse_level("", &lvl), -EINVAL);
	assert_int_equal(log_parse_level(NULL, &lvl), -EINVAL);
	assert_int_equal(lvl, LOG_INFO);
	assert_string_equal(log_level_name(LOG_WARN), "WARN");
	assert_string_equal(log_level_name((enum log_level)42), "?");
}

static void emit_all_levels(void)
{
	log_debug("d%d", 1);
	log_info("i%d", 2);
	log_warn("w%d", 3);
	log_error("e%d", 4);
}

static void test_levels_filter(void **state)
{
	char out[4 * LOG_LINE_MAX];

	(void)state;
	assert_int_equal(log_get_level(), LOG_INFO);	/* the default */
	capture_stdout(emit_all_levels, out, sizeof(out));
	assert_null(strstr(out, "DEBUG"));
	assert_non_null(strstr(out, "cpu0 INFO  i2\n"));
	assert_non_null(strstr(out, "cpu0 WARN  w3\n"));
	assert_non_null(strstr(out, "cpu0 ERROR e4\n"));

	log_set_level(LOG_ERROR);
	assert_int_equal(log_get_level(), LOG_ERROR);
	capture_stdout(emit_all_levels, out, sizeof(out));
	assert_null(strstr(out, "INFO"));
	assert_null(strstr(out, "WARN"));
	assert_non_null(strstr(out, " ERROR e4\n"));

	log_set_level(LOG_DEBUG);
	capture_stdout(emit_all_levels, out, sizeof(out));
	assert_non_null(strstr(out, "cpu0 DEBUG d1\n"));
	log_set_level(LOG_INFO);
}

static void emit_one(void)
{
	log_info("clock: %s", "tsc");
}

static void test_timestamp(void **state)
{
	char out[LOG_LINE_MAX];
	struct timespec ts;
	unsigned long long sec, usec;
	unsigned cpu;
	char rest[64];

	(void)state;
	capture_stdout(emit_one, out, sizeof(out));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	assert_int_equal(sscanf(out, "[%llu.%6llu] cpu%u INFO  %63[^\n]",
				&sec, &usec, &cpu, rest), 4);
	assert_string_equal(rest, "clock: tsc");
	assert_int_equal(out[strlen(out) - 1], '\n');
	/* The stamp is CLOCK_MONOTONIC, taken just before ts. */
	assert_true(sec <= (unsigned long long)ts.tv_sec);
	assert_true(sec + 1 >= (unsigned long long)ts.tv_sec);
	assert_true(usec < 1000000);
}

/* ---- the log ring ---------------------------------------------------------- */

static struct log_ring test_ring;

static void put_line(struct log_ring *r, const char *s)
{
	log_ring_put(r, s, strlen(s));
}

static void test_ring_keeps_last_lines(void **state)
{
	char buf[LOG_LINE_MAX], want[64];
	uint64_t i;

	(void)state;
	memset(&test_ring, 0, sizeof(test_ring));
	assert_int_equal(log_ring_get(&test_ring, 0, buf), -1);
	for (i = 0; i < LOG_RING_LINES + 10; i++) {
		snprintf(want, sizeof(want), "line %llu of the ring\n",
			 (unsigned long long)i);
		put_line(&test_ring, want);
	}
	/* The first ten were overwritten; the rest come back whole. */
	assert_int_equal(log_ring_get(&test_ring, 9, buf), -1);
	for (i = 10; i < LOG_RING_LINES + 10; i++) {
		snprintf(want, sizeof(want), "line %llu of the ring\n",
			 (unsigned long long)i);
		assert_int_equal(log_ring_get(&test_ring, i, buf), (int)strlen(want));
		assert_string_equal(buf, want);
	}
	/* A line being written (odd seq) is not returned. */
	atomic_store(&test_ring.lines[(LOG_RING_LINES + 9) % LOG_RING_LINES].seq,
		     2 * (LOG_RING_LINES + 9) + 1);
	assert_int_equal(log_ring_get(&test_ring, LOG_RING_LINES + 9, buf), -1);
	/* A full-length line keeps every byte. */
	memset(buf, 'x', LOG_LINE_MAX - 1);
	buf[LOG_LINE_MAX - 1] = '\0';
	put_line(&test_ring, buf);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(log_ring_get(&test_ring, LOG_RING_LINES + 10, buf),
			 LOG_LINE_MAX - 1);
	assert_int_equal(strspn(buf, "x"), LOG_LINE_MAX - 1);
}

/* A writer a lap behind still fills slot 0 when the writer of line 64
 * comes: the newer line stays out of the ring rather than mixing its
 * text into the older one's. */
static void test_ring_lapped_writer(void **state)
{
	char buf[LOG_LINE_MAX];

	(void)state;
	memset(&test_ring, 0, sizeof(test_ring));
	/* Line 0's writer has claimed slot 0 and stored its text... */
	atomic_store(&test_ring.next, LOG_RING_LINES);
	atomic_store(&test_ring.lines[0].seq, 1);
	memcpy(buf, "line zero.....\n", 16);
	for (int w = 0; w < 2; w++) {
		uint64_t v;

		memcpy(&v, buf + 8 * w, 8);
		atomic_store(&test_ring.lines[0].text[w], v);
	}
	atomic_store(&test_ring.lines[0].len, 15);
	/* ...when line 64 comes for the same slot. */
	put_line(&test_ring, "line sixty-four, longer than line zero\n");
	assert_int_equal(atomic_load(&test_ring.lines[0].seq), 1);
	assert_int_equal(atomic_load(&test_ring.lines[0].len), 15);
	/* Line 0's writer finishes: its line is whole. */
	atomic_store(&test_ring.lines[0].seq, 2);
	assert_int_equal(log_ring_get(&test_ring, 0, buf), 15);
	assert_string_equal(buf, "line zero.....\n");
	assert_int_equal(log_ring_get(&test_ring, LOG_RING_LINES, buf), -1);
	/* A writer that comes after a newer line is in its slot stays out. */
	atomic_store(&test_ring.next, 0);
	atomic_store(&test_ring.lines[0].seq, 2 * LOG_RING_LINES + 2);
	put_line(&test_ring, "stale\n");
	assert_int_equal(atomic_load(&test_ring.lines[0].seq), 2 * LOG_RING_LINES + 2);
}

/* log_msg() lines land in the global ring; the tail prints the last. */
static void test_ring_tail(void **state)
{
	const char *tail_out = capture_sink_text();

	(void)state;
	log_set_level(LOG_INFO);
	log_info("ring: first %d", 1);
	log_info("ring: second %d", 2);
	log_debug("ring: dropped below the level");
	capture_sink_reset();
	log_ring_print_tail(2, capture_sink);
	assert_non_null(strstr(tail_out, "---- the last 2 log lines ----\n"));
	assert_non_null(strstr(tail_out, "INFO  ring: first 1\n"));
	assert_non_null(strstr(tail_out, "INFO  ring: second 2\n"));
	assert_null(strstr(tail_out, "dropped"));
	assert_true(strstr(tail_out, "first") < strstr(tail_out, "second"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_line),
		cmocka_unit_test(test_format_truncates),
		cmocka_unit_test(test_parse_level),
		cmocka_unit_test(test_levels_filter),
		cmocka_unit_test(test_timestamp),
		cmocka_unit_test(test_ring_keeps_last_lines),
		cmocka_unit_test(test_ring_lapped_writer),
		cmocka_unit_test(test_ring_tail),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
