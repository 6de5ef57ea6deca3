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

static void test_heap_stats_table(void **state)
{
	struct heap_stats st = {
		.pages = 3, .bytes_from_pages = 3 * HEAP_PAGE_SIZE,
		.bytes_in_use = 4096 + 10 * 64, .bytes_free = 52 * 64,
		.large_allocs = 1, .large_pages = 1, .nclasses = HEAP_NCLASSES,
	};

	(void)state;
	st.classes[3] = (struct heap_class_stats){
		.size = 64, .per_slab = 63, .slabs = 1, .in_use = 10, .free = 53,
		.allocs = 12, .frees = 2,
	};
	st.classes[5] = (struct heap_class_stats){ .size = 96, .per_slab = 42 };
	capture_reset(&cap);
	shell_print_heap_stats(&cap.out, &st);
	assert_non_null(strstr(cap.buf, "heap: 3 pages (12 KiB) from the page source\n"));
	assert_non_null(strstr(cap.buf, "large: 1 allocations in 1 pages\n"));
	assert_non_null(strstr(cap.buf,
		"     64       63      1       10       53           12            2\n"));
	/* Unused classes are left out. */
	assert_null(strstr(cap.buf, "     96 "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_twice),
		cmocka_unit_test(test_echo),
		cmocka_unit_test(test_log),
		cmocka_unit_test(test_uptime),
		cmocka_unit_test(test_panic),
		cmocka_unit_test(test_heap_stats_table),
	};

	shell_commands_init(&reg);
	if (shell_register_builtins(&reg) != 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
