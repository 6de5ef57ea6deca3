/*
 * test_builtins.c - shell/builtins.c through shell_exec(): echo, log,
 * uptime (against CLOCK_MONOTONIC, which the host clock is) and panic
 * (which must reach panic(): cmocka sees it as an assertion failure).
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

#include "capture.h"
#include "errno.h"
#include "lib/log.h"
#include "shell/builtins.h"

static struct shell_commands reg;
static struct capture cap;

static int run(const char *line)
{
	char buf[512];

	strcpy(buf, line);
	capture_reset(&cap);
	return shell_exec(&reg, buf, &cap.out);
}

static void test_register_twice(void **state)
{
	(void)state;
	/* Registered in main(); a second time every name is taken. */
	assert_int_equal(shell_register_builtins(&reg), -EEXIST);
	assert_non_null(shell_find(&reg, "echo"));
	assert_non_null(shell_find(&reg, "panic"));
}

static void test_echo(void **state)
{
	(void)state;
	assert_int_equal(run("echo"), 0);
	assert_string_equal(cap.buf, "\n");
	assert_int_equal(run("echo a  'b  c' help"), 0);
	assert_string_equal(cap.buf, "a b  c help\n");
}

static void test_log(void **state)
{
	(void)state;
	assert_int_equal(run("log"), 0);
	assert_string_equal(cap.buf, "log level: INFO\n");
	assert_int_equal(run("log debug"), 0);
	assert_int_equal(log_get_level(), LOG_DEBUG);
	assert_string_equal(cap.buf, "log level: DEBUG\n");
	assert_int_equal(run("log ERROR"), 0);
	assert_int_equal(log_get_level(), LOG_ERROR);
	assert_int_equal(run("log loud"), -EINVAL);
	assert_non_null(strstr(cap.buf, "error: log: unknown level 'loud'"));
	assert_non_null(strstr(cap.buf, "usage: log [debug|info|warn|error]"));
	assert_int_equal(log_get_level(), LOG_ERROR);
	assert_int_equal(run("log info warn"), -EINVAL);
	log_set_level(LOG_INFO);
}

static void test_uptime(void **state)
{
	unsigned long long d, h, m, s, us;
	struct timespec before, after;
	char name[64];

	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &before);
	assert_int_equal(run("uptime"), 0);
	clock_gettime(CLOCK_MONOTONIC, &after);
	assert_int_equal(sscanf(cap.buf, "up %llud %llu:%llu:%llu.%llu (%63[^)])",
				&d, &h, &m, &s, &us, name), 6);
	assert_true(h < 24 && m < 60 && s < 60 && us < 1000000);
	assert_string_equal(name, "CLOCK_MONOTONIC");
	s += ((d * 24 + h) * 60 + m) * 60;
	assert_true(s >= (unsigned long long)before.tv_sec);
	assert_true(s <= (unsigned long long)after.tv_sec);
	assert_int_equal(run("uptime now"), -EINVAL);
}

static void test_panic(void **state)
{
	(void)state;
	assert_int_equal(run("panic"), -EINVAL);	/* needs a message */
	expect_assert_failure(run("panic test message"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_twice),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_uptime),
		cmocka_unit_test(test_panic),
	};

	shell_commands_init(&reg);
	if (shell_register_builtins(&reg) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
