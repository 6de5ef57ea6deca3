/*
 * test_shell.c - a whole session (shell/shell.c): bytes typed in, the
 * transcript out, exactly as a terminal would show it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "errno.h"
#include "shell/builtins.h"
#include "shell/shell.h"

struct rig {
	struct shell_commands cmds;
	struct capture cap;
	struct shell sh;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	shell_commands_init(&r->cmds);
	if (shell_register_builtins(&r->cmds) != 0)
		return -1;
	capture_reset(&r->cap);
	shell_init(&r->sh, &r->cmds, &r->cap.out);
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static void type(struct rig *r, const char *s)
{
	while (*s)
		shell_feed(&r->sh, (uint8_t)*s++);
}

static void test_transcript(void **state)
{
	struct rig *r = *state;

	shell_prompt(&r->sh);
	type(r, "echo hi\r\n");
	type(r, "nope\r");
	type(r, "\r");
	assert_string_equal(r->cap.buf,
		"hyphae> echo hi\n"
		"hi\n"
		"hyphae> nope\n"
		"error: unknown command 'nope'; type 'help' for the list\n"
		"hyphae> \n"
		"hyphae> ");
	assert_int_equal(r->sh.lines, 3);
	assert_int_equal(r->sh.last_status, 0);	/* the empty line */
}

static void test_status_and_reprompt(void **state)
{
	struct rig *r = *state;

	type(r, "log loud\r");
	assert_int_equal(r->sh.last_status, -EINVAL);
	capture_reset(&r->cap);
	type(r, "ab\x03");
	assert_string_equal(r->cap.buf, "ab^C\nhyphae> ");
	capture_reset(&r->cap);
	for (int i = 0; i < SHELL_LINE_MAX + 10; i++)
		type(r, "y");
	type(r, "\r");
	assert_non_null(strstr(r->cap.buf, "error: line too long (266 bytes, at most 256); ignored\nhyphae> "));
	/* Up arrow brings back the last command that ran. */
	capture_reset(&r->cap);
	type(r, "\x1b[A\r");
	assert_int_equal(r->sh.last_status, -EINVAL);
	assert_non_null(strstr(r->cap.buf, "log loud\nerror: log: unknown level 'loud'"));
}

static void test_input_dropped(void **state)
{
	struct rig *r = *state;

	type(r, "ec");
	capture_reset(&r->cap);
	shell_input_dropped(&r->sh, 17);
	assert_string_equal(r->cap.buf,
		"\nwarning: 17 input bytes dropped (typing faster than the shell reads)\n"
		"hyphae> ec");
	type(r, "ho ok\r");
	assert_non_null(strstr(r->cap.buf, "ho ok\nok\nhyphae> "));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_transcript),
		T(test_status_and_reprompt),
		T(test_input_dropped),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
