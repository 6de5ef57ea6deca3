/*
 * test_fmt.c - lib/fmt.c against the C library's snprintf.
 *
 * Every case formats the same format and arguments with ksnprintf and the
 * host's snprintf and requires the same bytes and the same return value.
 * A table covers each conversion, flag, width, precision and length by
 * hand; a seeded random generator then builds thousands of well-defined
 * format/value combinations.  Truncation, size 0 and kprintf's console
 * output (captured by redirecting stdout) are checked separately.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lib/fmt.h"
#include "tests/support/capture.h"
#include "tests/support/rng.h"

/* The cases below deliberately use formats the compiler frowns on. */
#pragma GCC diagnostic ignored "-Wformat"
#pragma GCC diagnostic ignored "-Wformat-overflow"
#pragma GCC diagnostic ignored "-Wformat-extra-args"
#pragma GCC diagnostic ignored "-Wformat-zero-length"

#define BUF 512

/* Format with both implementations; fail the test on any difference. */
static void __printf(1, 2) same(const char *fmt, ...)
{
	char want[BUF], got[BUF];
	va_list ap, aq;
	int nw, ng;

	va_start(ap, fmt);
	va_copy(aq, ap);
	nw = vsnprintf(want, sizeof(want), fmt, ap);
	memset(got, 0x5a, sizeof(got));
	ng = kvsnprintf(got, sizeof(got), fmt, aq);
	va_end(aq);
	va_end(ap);
	if (nw != ng || strcmp(want, got) != 0) {
		print_error("format \"%s\": libc %d \"%s\", ksnprintf %d \"%s\"\n",
			    fmt, nw, want, ng, got);
		fail();
	}
}

static void test_conversions(void **state)
{
	(void)state;
	same("plain text");
	same("");
	same("%%");
	same("%d %d %d %d", 0, 1, -1, 42);
	same("%d %d", INT32_MAX, INT32_MIN);
	same("%i", -12345);
	same("%u %u", 0u, UINT32_MAX);
	same("%x %X %x", 0xdeadbeefu, 0xdeadbeefu, 0u);
	same("%o %o", 8u, 0u);
	same("%c%c%c", 'a', 'b', 'c');
	same("%s|%s", "hello", "");
	same("%p", (void *)0x1234);
	same("%p", (void *)-1);
	same("%p", (void *)NULL);
	same("%s", (char *)NULL);
	same("%.3s|%.10s", (char *)NULL, (char *)NULL);
}

static void test_lengths(void **state)
{
	(void)state;
	same("%hhd %hhu %hhx", 300, 300, 0x1ff);
	same("%hhd", -129);
	same("%hd %hu %hx", 70000, 70000, 0x1ffff);
	same("%ld %lu %lx", LONG_MIN, ULONG_MAX, ULONG_MAX);
	same("%lld %llu %llX", LLONG_MIN, ULLONG_MAX, 0x0123456789abcdefull);
	same("%zu %zx %zd", SIZE_MAX, (size_t)0xabc, (size_t)-5);
	same("%jd %ju", INTMAX_MIN, UINTMAX_MAX);
	same("%td", (ptrdiff_t)-77);
}

static void test_flags_width_precision(void **state)
{
	(void)state;
	same("[%5d] [%-5d] [%05d] [%+d] [% d]", 42, 42, 42, 42, 42);
	same("[%05d] [%+05d] [% 05d] [%-05d]", -42, 42, 42, 42);
	same("[%.5d] [%8.5d] [%-8.5d] [%08.5d]", 42, -42, 42, 42);
	same("[%.0d] [%.0u] [%.0x] [%5.0d] [%+.0d]", 0, 0u, 0u, 0, 0);
	same("[%#x] [%#X] [%#o] [%#x] [%#o] [%#.0o]", 255u, 255u, 8u, 0u, 0u, 0u);
	same("[%#10x] [%#-10x] [%#010x] [%#.6x]", 255u, 255u, 255u, 255u);
	same("[%10s] [%-10s] [%.2s] [%10.2s] [%-10.2s]", "abc", "abc", "abc",
	     "abc", "abc");
	same("[%5c] [%-5c]", 'x', 'y');
	same("[%20p] [%-20p] [%20p]", (void *)0xbeef, (void *)0xbeef, NULL);
	same("[%+p] [% p] [%020p] [%.8p] [%#p]", (void *)0x1234, (void *)0x1234,
	     (void *)0x1234, (void *)0x1234, (void *)0x1234);
	same("[%*d] [%-*d] [%*d]", 6, 1, 6, 2, -6, 3);
	same("[%.*d] [%.*s] [%.*d]", 4, 7, 2, "wxyz", -1, 8);
	same("[%*.*x]", 10, 6, 0xabcu);
	same("[%u] [%+u] [% u]", 5u, 5u, 5u);
	same("[%0-5d] [%-05d]", 1, 2);
}

/* Positional arguments are not supported; the spec is copied verbatim. */
static void test_unknown_conversion(void **state)
{
	char buf[64];
	int n;

	(void)state;
	n = ksnprintf(buf, sizeof(buf), "a%qb");
	assert_string_equal(buf, "a%qb");
	assert_int_equal(n, 4);
	n = ksnprintf(buf, sizeof(buf), "end%");
	assert_string_equal(buf, "end%");
	assert_int_equal(n, 4);
	n = ksnprintf(buf, sizeof(buf), "end%-08");
	assert_string_equal(buf, "end%-08");
	assert_int_equal(n, 7);
}

static void test_truncation(void **state)
{
	char buf[8];
	int n;

	(void)state;
	memset(buf, 'z', sizeof(buf));
	n = ksnprintf(buf, sizeof(buf), "%s-%d", "abcdef", 12345);
	assert_int_equal(n, 12);
	assert_string_equal(buf, "abcdef-");
	memset(buf, 'z', sizeof(buf));
	n = ksnprintf(buf, 1, "%d", 99);
	assert_int_equal(n, 2);
	assert_int_equal(buf[0], '\0');
	assert_int_equal(buf[1], 'z');
	n = ksnprintf(NULL, 0, "%5d|%s", 7, "xyz");
	assert_int_equal(n, 9);
	/* Exactly fitting: size = length + 1. */
	n = ksnprintf(buf, 4, "abc");
	assert_int_equal(n, 3);
	assert_string_equal(buf, "abc");
	/* Every prefix length agrees with libc. */
	for (size_t size = 0; size <= 20; size++) {
		char want[32], got[32];
		int nw, ng;

		memset(want, 'q', sizeof(want));
		memset(got, 'q', sizeof(got));
		nw = snprintf(want, size, "%-6s|%#06x|%c", "ab", 0x3fu, '!');
		ng = ksnprintf(got, size, "%-6s|%#06x|%c", "ab", 0x3fu, '!');
		assert_int_equal(nw, ng);
		assert_memory_equal(want, got, sizeof(want));
	}
}

/* ---- random formats ------------------------------------------------------ */

/* Seeded in test_random_formats(); HYPHAE_TEST_SEED picks another run. */
static struct xoroshiro128pp rng;

/* A value with interesting magnitudes: small, edge, or fully random. */
static uint64_t rnd_value(void)
{
	static const uint64_t edges[] = {
		0, 1, 7, 8, 9, 10, 15, 16, 127, 128, 255, 256, 32767, 32768,
		65535, 65536, INT32_MAX, (uint64_t)INT32_MAX + 1, UINT32_MAX,
		INT64_MAX, (uint64_t)INT64_MAX + 1, UINT64_MAX,
	};

	switch (xoro_below(&rng, 4)) {
	case 0: return edges[xoro_below(&rng, ARRAY_SIZE(edges))];
	case 1: return (uint64_t)-(int64_t)xoro_below(&rng, 1000);
	case 2: return xoro_below(&rng, 1000);
	default: return xoro_next(&rng) >> xoro_below(&rng, 64);
	}
}

static void random_case(void)
{
	static const char *const lengths[] = { "", "hh", "h", "l", "ll", "z", "j", "t" };
	static const char int_convs[] = "diuxXo";
	char fmt[64], want[BUF], got[BUF];
	const char *len = "";
	int pos = 0, nw = 0, ng = 0;
	int kind = (int)xoro_below(&rng, 10);
	char conv;
	uint64_t v = rnd_value();
	int width = (int)xoro_below(&rng, 25);
	int prec = (int)xoro_below(&rng, 25);
	int use_width = (int)xoro_below(&rng, 3);
	int use_prec = (int)xoro_below(&rng, 3);

	fmt[pos++] = '<';
	fmt[pos++] = '%';
	/* Flags valid for the kind of conversion only (others are UB). */
	if (xoro_below(&rng, 3) == 0)
		fmt[pos++] = '-';
	if (kind < 8) {
		conv = int_convs[xoro_below(&rng, sizeof(int_convs) - 1)];
		len = lengths[xoro_below(&rng, ARRAY_SIZE(lengths))];
		if (xoro_below(&rng, 3) == 0)
			fmt[pos++] = '0';
		if ((conv == 'd' || conv == 'i') && xoro_below(&rng, 3) == 0)
			fmt[pos++] = '+';
		if ((conv == 'd' || conv == 'i') && xoro_below(&rng, 3) == 0)
			fmt[pos++] = ' ';
		if ((conv == 'x' || conv == 'X' || conv == 'o') &&
		    xoro_below(&rng, 3) == 0)
			fmt[pos++] = '#';
	} else {
		conv = kind == 8 ? 's' : 'c';
	}
	if (use_width == 1)
		pos += sprintf(fmt + pos, "%d", width);
	else if (use_width == 2)
		fmt[pos++] = '*';
	if (conv != 'c') {
		if (use_prec == 1)
			pos += sprintf(fmt + pos, ".%d", prec);
		else if (use_prec == 2)
			pos += sprintf(fmt + pos, ".*");
	} else {
		use_prec = 0;
	}
	pos += sprintf(fmt + pos, "%s%c>", len, conv);

	/* Call both with identically typed arguments. */
#define BOTH(...) do { \
		nw = snprintf(want, sizeof(want), fmt, __VA_ARGS__); \
		ng = ksnprintf(got, sizeof(got), fmt, __VA_ARGS__); \
	} while (0)
#define WITH_STAR(x) do { \
		if (use_width == 2 && use_prec == 2) \
			BOTH(width - 12, prec - 3, x); \
		else if (use_width == 2) \
			BOTH(width - 12, x); \
		else if (use_prec == 2) \
			BOTH(prec - 3, x); \
		else \
			BOTH(x); \
	} while (0)
	if (conv == 's') {
		static const char *const strs[] = { "", "a", "hello", "hyphae runtime" };

		WITH_STAR(strs[v % 4]);
	} else if (conv == 'c') {
		WITH_STAR((int)(' ' + v % 94));
	} else if (conv == 'd' || conv == 'i') {
		if (!strcmp(len, "hh") || !strcmp(len, "h") || !*len)
			WITH_STAR((int)v);
		else if (!strcmp(len, "l"))
			WITH_STAR((long)v);
		else if (!strcmp(len, "ll"))
			WITH_STAR((long long)v);
		else if (!strcmp(len, "z"))
			WITH_STAR((ssize_t)v);
		else if (!strcmp(len, "j"))
			WITH_STAR((intmax_t)v);
		else
			WITH_STAR((ptrdiff_t)v);
	} else {
		if (!strcmp(len, "hh") || !strcmp(len, "h") || !*len)
			WITH_STAR((unsigned)v);
		else if (!strcmp(len, "l"))
			WITH_STAR((unsigned long)v);
		else if (!strcmp(len, "ll"))
			WITH_STAR((unsigned long long)v);
		else if (!strcmp(len, "z"))
			WITH_STAR((size_t)v);
		else if (!strcmp(len, "j"))
			WITH_STAR((uintmax_t)v);
		else
			WITH_STAR((ptrdiff_t)v);
	}
#undef WITH_STAR
#undef BOTH
	if (nw != ng || strcmp(want, got) != 0) {
		print_error("format \"%s\" value %llu: libc %d \"%s\", ksnprintf %d \"%s\"\n",
			    fmt, (unsigned long long)v, nw, want, ng, got);
		fail();
	}
}

#define RANDOM_CASES 20000

static void test_random_formats(void **state)
{
	(void)state;
	test_rng_init(&rng, 0x853c49e6748fea9bull);
	for (int i = 0; i < RANDOM_CASES; i++)
		random_case();
}

/* ---- kprintf ------------------------------------------------------------- */

static int kprintf_ret;

static void print_short(void)
{
	kprintf_ret = kprintf("core %u: %s=%#x\n", 3u, "flags", 0x2au);
}

static void print_long(void)
{
	char big[3 * KPRINTF_CHUNK + 17];

	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	kprintf_ret = kprintf("<%s|%d>", big, -9);
}

static void test_kprintf(void **state)
{
	char out[4 * KPRINTF_CHUNK];
	size_t n;

	(void)state;
	n = capture_stdout(print_short, out, sizeof(out));
	assert_string_equal(out, "core 3: flags=0x2a\n");
	assert_int_equal(n, (size_t)kprintf_ret);

	/* Longer than one chunk: written in pieces, nothing lost. */
	n = capture_stdout(print_long, out, sizeof(out));
	assert_int_equal(n, 3 * KPRINTF_CHUNK + 16 + 5);
	assert_int_equal((int)n, kprintf_ret);
	assert_int_equal(out[0], '<');
	for (size_t i = 1; i <= 3 * KPRINTF_CHUNK + 16; i++)
		assert_int_equal(out[i], 'k');
	assert_string_equal(out + 3 * KPRINTF_CHUNK + 17, "|-9>");
}

/* ---- kvformat ------------------------------------------------------------ */

struct collect {
	char buf[4 * KPRINTF_CHUNK];
	size_t len;
	int calls;
};

static void collect_write(void *ctx, const char *s, size_t n)
{
	struct collect *c = ctx;

	assert_true(n > 0 && n <= KPRINTF_CHUNK);
	assert_true(c->len + n < sizeof(c->buf));
	memcpy(c->buf + c->len, s, n);
	c->len += n;
	c->calls++;
}

static int __printf(2, 3) format_to(struct collect *c, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvformat(collect_write, c, fmt, ap);
	va_end(ap);
	c->buf[c->len] = '\0';
	return n;
}

static void test_kvformat_chunks(void **state)
{
	static struct collect c;
	char want[4 * KPRINTF_CHUNK];
	char big[3 * KPRINTF_CHUNK];

	(void)state;
	assert_int_equal(format_to(&c, "%s=%d\n", "x", 5), 4);
	assert_string_equal(c.buf, "x=5\n");
	assert_int_equal(c.calls, 1);	/* fits: one write */

	memset(&c, 0, sizeof(c));
	assert_int_equal(format_to(&c, "%s", ""), 0);
	assert_int_equal(c.calls, 0);	/* nothing to write: no call */

	memset(&c, 0, sizeof(c));
	memset(big, 'b', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(want, sizeof(want), "[%s|%08x]", big, 0xabcu);
	assert_int_equal(format_to(&c, "[%s|%08x]", big, 0xabcu), strlen(want));
	assert_string_equal(c.buf, want);
	assert_int_equal(c.calls, (int)((strlen(want) + KPRINTF_CHUNK - 1) / KPRINTF_CHUNK));
}

/* fmt_ns: each unit's boundary and the largest duration. */
static void test_fmt_ns(void **state)
{
	char b[FMT_NS_MAX];

	(void)state;
	assert_string_equal(fmt_ns(b, sizeof(b), 999), "999 ns");
	assert_string_equal(fmt_ns(b, sizeof(b), 1000), "1.000 us");
	assert_string_equal(fmt_ns(b, sizeof(b), 1500000), "1.500 ms");
	assert_string_equal(fmt_ns(b, sizeof(b), 50123456), "50.123 ms");
	assert_string_equal(fmt_ns(b, sizeof(b), 2500000000ull), "2.500 s");
	assert_string_equal(fmt_ns(b, sizeof(b), UINT64_MAX),
			    "18446744073.709 s");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conversions),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_flags_width_precision),
		cmocka_unit_test(test_unknown_conversion),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_random_formats),
		cmocka_unit_test(test_kprintf),
		cmocka_unit_test(test_kvformat_chunks),
		cmocka_unit_test(test_fmt_ns),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
