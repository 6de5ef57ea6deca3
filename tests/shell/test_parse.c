/*
 * test_parse.c - shell/parse.c: tokenizer, numbers, durations.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "shell/parse.h"

/* Tokenize a copy of in; compare with the expected words. */
static void words(const char *in, int n, ...)
{
	char line[512];
	char *argv[SHELL_MAX_ARGS];
	const char *why = NULL;
	va_list ap;
	int argc;

	strcpy(line, in);
	argc = shell_tokenize(line, argv, SHELL_MAX_ARGS, &why);
	if (argc != n)
		print_error("input \"%s\": %d words (%s), want %d\n", in, argc,
			    why ? why : "-", n);
	assert_int_equal(argc, n);
	assert_null(argv[argc]);
	va_start(ap, n);
	for (int i = 0; i < n; i++)
		assert_string_equal(argv[i], va_arg(ap, const char *));
	va_end(ap);
}

static void bad_line(const char *in, int err, const char *why_part)
{
	char line[512];
	char *argv[SHELL_MAX_ARGS];
	const char *why = NULL;

	strcpy(line, in);
	assert_int_equal(shell_tokenize(line, argv, SHELL_MAX_ARGS, &why), err);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
}

static void test_tokenize(void **state)
{
	(void)state;
	words("", 0);
	words("   \t ", 0);
	words("rt", 1, "rt");
	words("  a  b\tc ", 3, "a", "b", "c");
	words("echo \"hello world\" x", 3, "echo", "hello world", "x");
	words("echo 'it\"s' \"it's\"", 3, "echo", "it\"s", "it's");
	words("a\"b c\"d", 1, "ab cd");
	words("\"\" ''", 2, "", "");
	words("\"q\\\"uote\\\\ \\n\\t\\x41\"", 1, "q\"uote\\ \n\tA");
	words("'no \\n escapes'", 1, "no \\n escapes");
	words("a\\ b \\\"c", 2, "a b", "\"c");
}

static void test_tokenize_errors(void **state)
{
	char line[256];
	char *argv[SHELL_MAX_ARGS];

	(void)state;
	bad_line("echo \"abc", -EINVAL, "unterminated \"");
	bad_line("echo 'abc", -EINVAL, "unterminated '");
	bad_line("echo \"\\q\"", -EINVAL, "bad escape");
	bad_line("echo \"\\x4\"", -EINVAL, "bad escape");
	bad_line("echo \"\\x00\"", -EINVAL, "bad escape");
	bad_line("echo abc\\", -EINVAL, "backslash");
	/* SHELL_MAX_ARGS - 1 words fit (argv keeps a NULL); one more does not. */
	strcpy(line, "1 2 3 4 5 6 7 8 9 10 11 12 13 14 15");
	assert_int_equal(shell_tokenize(line, argv, SHELL_MAX_ARGS, NULL), 15);
	bad_line("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", -ENOSPC, "too many");
}

static void num_ok(const char *s, uint64_t want)
{
	uint64_t v = 12345;

	assert_int_equal(shell_parse_u64(s, 0, UINT64_MAX, &v, NULL), 0);
	assert_int_equal(v, want);
}

static void num_bad(const char *s, uint64_t min, uint64_t max, int err)
{
	uint64_t v = 777;
	const char *why = NULL;

	assert_int_equal(shell_parse_u64(s, min, max, &v, &why), err);
	assert_non_null(why);
	assert_int_equal(v, 777);	/* untouched on error */
}

static void test_numbers(void **state)
{
	(void)state;
	num_ok("0", 0);
	num_ok("42", 42);
	num_ok("007", 7);
	num_ok("0x2A", 42);
	num_ok("0XfF", 255);
	num_ok("18446744073709551615", UINT64_MAX);
	num_ok("0xffffffffffffffff", UINT64_MAX);
	num_bad("18446744073709551616", 0, UINT64_MAX, -ERANGE);
	num_bad("0x10000000000000000", 0, UINT64_MAX, -ERANGE);
	num_bad("99999999999999999999999", 0, UINT64_MAX, -ERANGE);
	num_bad("", 0, 10, -EINVAL);
	num_bad("0x", 0, 10, -EINVAL);
	num_bad("12a", 0, 100, -EINVAL);
	num_bad("0x1g", 0, 100, -EINVAL);
	num_bad("-1", 0, 100, -EINVAL);
	num_bad("+1", 0, 100, -EINVAL);
	num_bad(" 1", 0, 100, -EINVAL);
	num_bad("1.5", 0, 100, -EINVAL);
	num_bad("0", 1, 512, -ERANGE);
	num_bad("513", 1, 512, -ERANGE);
	{
		uint64_t v;

		assert_int_equal(shell_parse_u64("512", 1, 512, &v, NULL), 0);
		assert_int_equal(v, 512);
		assert_int_equal(shell_parse_u64("1", 1, 512, &v, NULL), 0);
	}
}

static void dur_ok(const char *s, uint64_t want)
{
	uint64_t ns = 1;

	assert_int_equal(shell_parse_duration(s, &ns, NULL), 0);
	assert_int_equal(ns, want);
}

static void dur_bad(const char *s, int err, const char *why_part)
{
	uint64_t ns = 99;
	const char *why = NULL;

	assert_int_equal(shell_parse_duration(s, &ns, &why), err);
	assert_non_null(why);
	assert_non_null(strstr(why, why_part));
	assert_int_equal(ns, 99);
}

static void test_durations(void **state)
{
	(void)state;
	dur_ok("10ms", 10000000ull);
	dur_ok("2s", 2000000000ull);
	dur_ok("500us", 500000ull);
	dur_ok("100ns", 100ull);
	dur_ok("0s", 0);
	dur_ok("18446744073709551615ns", UINT64_MAX);
	dur_ok("18446744073s", 18446744073000000000ull);
	dur_bad("18446744074s", -ERANGE, "too large");
	dur_bad("18446744073709552ms", -ERANGE, "too large");
	dur_bad("99999999999999999999ns", -ERANGE, "too large");
	dur_bad("10", -EINVAL, "needs a unit");
	dur_bad("10m", -EINVAL, "unknown unit");
	dur_bad("10sec", -EINVAL, "unknown unit");
	dur_bad("10 ms", -EINVAL, "unknown unit");
	dur_bad("ms", -EINVAL, "start with a number");
	dur_bad("", -EINVAL, "start with a number");
	dur_bad("-5ms", -EINVAL, "start with a number");
	dur_bad("0x10ms", -EINVAL, "unknown unit");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokenize),
		cmocka_unit_test(test_tokenize_errors),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
