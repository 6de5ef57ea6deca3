/*
 * test_line.c - shell/line.c fed byte streams, as a terminal would send.
 *
 * Each case types a string into a fresh editor and checks the lines that
 * come out, the events, and the echo.  A model test types random edits
 * (printables, Backspace, Ctrl-U, Enter) and compares each line with a
 * trivially correct model; a noise test feeds random bytes and checks the
 * editor's invariants after every byte.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "shell/line.h"
#include "tests/support/rng.h"

#define PROMPT "hyphae> "

struct rig {
	struct shell_line ed;
	struct capture cap;
	/* What came out of the editor while typing. */
	char lines[32][SHELL_LINE_MAX + 1];
	int nlines, canceled, too_long;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	shell_line_init(&r->ed, PROMPT);
	capture_reset(&r->cap);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void check_invariants(const struct shell_line *ed)
{
	assert_true(ed->len <= SHELL_LINE_MAX);
	assert_int_equal(ed->buf[ed->len], '\0');
	assert_int_equal(strlen(ed->buf), ed->len);
	for (size_t i = 0; i < ed->len; i++)
		assert_true(ed->buf[i] >= 0x20 && ed->buf[i] <= 0x7e);
}

static void type_n(struct rig *r, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		enum shell_line_event ev =
			shell_line_feed(&r->ed, (uint8_t)s[i], &r->cap.out);

		check_invariants(&r->ed);
		if (ev == SHELL_LINE_READY) {
			assert_true(strlen(shell_line_text(&r->ed)) <= SHELL_LINE_MAX);
			if (r->nlines < 32)
				strcpy(r->lines[r->nlines], shell_line_text(&r->ed));
			r->nlines++;
		} else if (ev == SHELL_LINE_CANCELED) {
			r->canceled++;
		} else if (ev == SHELL_LINE_TOO_LONG) {
			r->too_long++;
		}
	}
}

static void type(struct rig *r, const char *s)
{
	type_n(r, s, strlen(s));
}

static void test_simple_line(void **state)
{
	struct rig *r = *state;

	type(r, "help\r");
	assert_int_equal(r->nlines, 1);
	assert_string_equal(r->lines[0], "help");
	assert_string_equal(r->cap.buf, "help\n");
	capture_reset(&r->cap);
	shell_line_redraw(&r->ed, &r->cap.out);
	assert_string_equal(r->cap.buf, PROMPT);
}

static void test_line_endings(void **state)
{
	struct rig *r = *state;

	type(r, "a\r\nb\nc\r\r\nd\n\re");
	/* CRLF is one end; CR CR is two; LF CR is two. */
	assert_int_equal(r->nlines, 6);
	assert_string_equal(r->lines[0], "a");
	assert_string_equal(r->lines[1], "b");
	assert_string_equal(r->lines[2], "c");
	assert_string_equal(r->lines[3], "");
	assert_string_equal(r->lines[4], "d");
	assert_string_equal(r->lines[5], "");
	assert_string_equal(r->ed.buf, "e");
}

static void test_erase(void **state)
{
	struct rig *r = *state;

	type(r, "\x08\x7f");	/* nothing to erase: no echo */
	assert_int_equal(r->cap.len, 0);
	type(r, "abc\x08\x7f" "d\r");
	assert_string_equal(r->lines[0], "ad");
	assert_string_equal(r->cap.buf, "abc\b \b\b \bd\n");
	capture_reset(&r->cap);
	type(r, "hello\x15xy\r");
	assert_string_equal(r->lines[1], "xy");
	assert_non_null(strstr(r->cap.buf, "hello\b \b\b \b\b \b\b \b\b \bxy"));
}

static void test_ctrl_c_and_ctrl_l(void **state)
{
	struct rig *r = *state;

	type(r, "abc\x03");
	assert_int_equal(r->canceled, 1);
	assert_int_equal(r->nlines, 0);
	assert_string_equal(r->cap.buf, "abc^C\n");
	assert_int_equal(shell_line_history_count(&r->ed), 0);
	type(r, "d\r");
	assert_string_equal(r->lines[0], "d");

	capture_reset(&r->cap);
	type(r, "xy\x0c");
	assert_string_equal(r->cap.buf, "xy\x1b[H\x1b[2J" PROMPT "xy");
	type(r, "\r");
	assert_string_equal(r->lines[1], "xy");
}

static void test_history(void **state)
{
	struct rig *r = *state;
	char cmd[16];

	for (int i = 1; i <= 20; i++) {
		snprintf(cmd, sizeof(cmd), "l%d\r", i);
		type(r, cmd);
		r->nlines = 0;
	}
	type(r, "\r");		/* empty lines are not remembered */
	type(r, "l20\r");	/* nor a repeat of the newest */
	r->nlines = 0;
	assert_int_equal(shell_line_history_count(&r->ed), SHELL_HISTORY);
	assert_string_equal(shell_line_history(&r->ed, 0), "l20");
	assert_string_equal(shell_line_history(&r->ed, SHELL_HISTORY - 1), "l5");
	assert_null(shell_line_history(&r->ed, SHELL_HISTORY));

	type(r, "\x1b[A\r");
	assert_string_equal(r->lines[0], "l20");
	type(r, "\x1b[A\x1b[A\x1b[A\r");
	assert_string_equal(r->lines[1], "l18");
	/* Now "l18" is the newest; SS3 arrows work as well. */
	type(r, "\x1bOA\x1bOA\r");
	assert_string_equal(r->lines[2], "l20");
	/* Two lines were added, so the ring dropped l5 and l6. */
	assert_string_equal(shell_line_history(&r->ed, SHELL_HISTORY - 1), "l7");

	/* Down returns to the line being typed. */
	capture_reset(&r->cap);
	type(r, "par\x1b[A\x1b[B");
	assert_string_equal(r->ed.buf, "par");
	assert_string_equal(r->cap.buf, "par\b \b\b \b\b \bl20\b \b\b \b\b \bpar");
	/* Past either end: a bell, nothing changes. */
	capture_reset(&r->cap);
	type(r, "\x1b[B");
	assert_string_equal(r->cap.buf, "\a");
	for (int i = 0; i < SHELL_HISTORY; i++)
		type(r, "\x1b[A");
	capture_reset(&r->cap);
	type(r, "\x1b[A");
	assert_string_equal(r->cap.buf, "\a");
	assert_string_equal(r->ed.buf, "l7");
	/* Recalled text can be edited. */
	type(r, "\x08" "8\r");
	assert_string_equal(r->lines[3], "l8");
}

static void test_overlong(void **state)
{
	struct rig *r = *state;
	char line[SHELL_LINE_MAX + 50];

	memset(line, 'x', sizeof(line));
	type_n(r, line, SHELL_LINE_MAX + 44);
	assert_int_equal(r->ed.len, SHELL_LINE_MAX);
	assert_int_equal(r->ed.overflow, 44);
	capture_reset(&r->cap);
	type(r, "\r");
	assert_int_equal(r->too_long, 1);
	assert_int_equal(r->nlines, 0);
	assert_non_null(strstr(r->cap.buf, "line too long (300 bytes, at most 256)"));
	assert_int_equal(shell_line_history_count(&r->ed), 0);

	/* The next line is unaffected. */
	type(r, "ok\r");
	assert_string_equal(r->lines[0], "ok");

	/* Exactly SHELL_LINE_MAX is fine; one more, erased again, is too. */
	type_n(r, line, SHELL_LINE_MAX);
	type(r, "\r");
	assert_int_equal(strlen(r->lines[1]), SHELL_LINE_MAX);
	type_n(r, line, SHELL_LINE_MAX + 1);
	type(r, "\x7f\r");
	assert_int_equal(strlen(r->lines[2]), SHELL_LINE_MAX);
	assert_int_equal(r->too_long, 1);

	/* Ctrl-U clears an overflowing line, too. */
	type_n(r, line, sizeof(line));
	type(r, "\x15z\r");
	assert_string_equal(r->lines[3], "z");
}

static void test_ignored_bytes(void **state)
{
	struct rig *r = *state;

	type(r, "a\x01\x02\x80\xff\x09\x7e" "b\r");
	assert_string_equal(r->lines[0], "a~b");
	assert_string_equal(r->cap.buf, "a~b\n");
	/* Escape sequences other than Up/Down leave no trace. */
	type(r, "c\x1b[1;5Cd\x1b[3~e\x1bxf\r");
	assert_string_equal(r->lines[1], "cdef");
	/* A control byte ends an unfinished sequence and still works. */
	type(r, "g\x1b[12\r");
	assert_string_equal(r->lines[2], "g");
	type(r, "h\x1b\r");
	assert_string_equal(r->lines[3], "h");
	type(r, "\x1b\x1b[Ai\r");	/* ESC ESC [ A: the second ESC starts Up */
	assert_string_equal(r->lines[4], "hi");
}

/* Seeded in main() (test_rng_init). */
static struct xoroshiro128pp rng;

/* Typed edits against a model of what the line must be. */
static void test_random_edits_model(void **state)
{
	struct rig *r = *state;
	char model[SHELL_LINE_MAX + 1];
	size_t mlen = 0, extra = 0;

	for (int i = 0; i < 200000; i++) {
		uint64_t k = xoro_below(&rng, 100);
		uint8_t b;

		if (k < 80) {
			b = (uint8_t)(0x20 + xoro_below(&rng, 95));
			if (mlen < SHELL_LINE_MAX && extra == 0)
				model[mlen++] = (char)b;
			else
				extra++;
		} else if (k < 92) {
			b = xoro_below(&rng, 2) ? 0x08 : 0x7f;
			if (extra)
				extra--;
			else if (mlen)
				mlen--;
		} else if (k < 94) {
			b = 0x15;
			mlen = extra = 0;
		} else {
			int before = r->nlines, too = r->too_long;

			type(r, "\r");
			model[mlen] = '\0';
			if (extra) {
				assert_int_equal(r->too_long, too + 1);
			} else {
				assert_int_equal(r->nlines, before + 1);
				assert_string_equal(r->lines[before], model);
			}
			r->nlines = 0;
			mlen = extra = 0;
			capture_reset(&r->cap);
			continue;
		}
		type_n(r, (const char *)&b, 1);
	}
}

/* Random bytes, including every control and escape byte. */
static void test_random_noise(void **state)
{
	struct rig *r = *state;
	char chunk[4096];

	for (int round = 0; round < 100; round++) {
		for (size_t i = 0; i < sizeof(chunk); i++) {
			/* Bias towards the interesting bytes. */
			static const char special[] = "\x1b[AOB\r\n\x08\x7f\x15\x03\x0c";

			chunk[i] = xoro_below(&rng, 3) ? (char)xoro_next(&rng) :
				   special[xoro_below(&rng, sizeof(special) - 1)];
		}
		type_n(r, chunk, sizeof(chunk));
		r->nlines = 0;
		capture_reset(&r->cap);
		assert_true(shell_line_history_count(&r->ed) <= SHELL_HISTORY);
	}
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_simple_line),
		T(test_line_endings),
		T(test_erase),
		T(test_ctrl_c_and_ctrl_l),
		T(test_history),
		T(test_overlong),
		T(test_ignored_bytes),
		T(test_random_edits_model),
		T(test_random_noise),
	};
#undef T

	test_rng_init(&rng, 0x6a09e667f3bcc909ull);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
