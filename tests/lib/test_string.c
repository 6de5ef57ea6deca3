/*
 * test_string.c - lib/string.c (built renamed: hy_memcpy, ...) against libc.
 *
 * mk/lib.mk compiles lib/string.c a second time with each function renamed
 * hy_<name> and links that object here, so these tests run the kernel's
 * code while libc (and ASan) keep the real names.  Memory functions are
 * checked over every small length and every alignment of source and
 * destination inside guarded buffers, overlapping moves in both
 * directions, and random cases; the string functions against libc on
 * tables and random strings.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "compiler.h"

/* Reach the renamed copies through lib/string.h's own declarations. */
#define memcpy hy_memcpy
#define memmove hy_memmove
#define memset hy_memset
#define memcmp hy_memcmp
#define strlen hy_strlen
#define strnlen hy_strnlen
#define strcmp hy_strcmp
#define strncmp hy_strncmp
#define strchr hy_strchr
#define strrchr hy_strrchr
#define strncpy hy_strncpy
#include "lib/string.h"
#include "tests/support/rng.h"
#undef memcpy
#undef memmove
#undef memset
#undef memcmp
#undef strlen
#undef strnlen
#undef strcmp
#undef strncmp
#undef strchr
#undef strrchr
#undef strncpy

#define AREA		256
#define MAX_ALIGN	16
#define MAX_LEN		(AREA - 2 * MAX_ALIGN)

/* Seeded in main() (test_rng_init). */
static struct xoroshiro128pp rng;

static void fill_random(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)xoro_next(&rng);
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static void test_memcpy(void **state)
{
	unsigned char src[AREA], dst[AREA], want[AREA];

	(void)state;
	for (size_t so = 0; so < MAX_ALIGN; so++) {
		for (size_t doff = 0; doff < MAX_ALIGN; doff++) {
			for (size_t n = 0; n <= MAX_LEN; n += (n < 80 ? 1 : 13)) {
				fill_random(src, sizeof(src));
				fill_random(dst, sizeof(dst));
				memcpy(want, dst, sizeof(dst));
				memcpy(want + doff, src + so, n);
				assert_ptr_equal(hy_memcpy(dst + doff, src + so, n),
						 dst + doff);
				/* Bytes around the copy are untouched, too. */
				assert_memory_equal(dst, want, sizeof(dst));
			}
		}
	}
}

static void test_memmove(void **state)
{
	unsigned char buf[AREA], want[AREA];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = xoro_below(&rng, MAX_LEN);
		size_t from = xoro_below(&rng, AREA - n + 1);
		size_t to = xoro_below(&rng, AREA - n + 1);

		if (iter % 4 == 0) {	/* close overlaps are the hard cases */
			long near = (long)from + (long)xoro_below(&rng, 17) - 8;

			if (near >= 0 && near <= (long)(AREA - n))
				to = (size_t)near;
		}
		fill_random(buf, sizeof(buf));
		memcpy(want, buf, sizeof(buf));
		memmove(want + to, want + from, n);
		assert_ptr_equal(hy_memmove(buf + to, buf + from, n), buf + to);
		assert_memory_equal(buf, want, sizeof(buf));
	}
}

static void test_memset(void **state)
{
	unsigned char dst[AREA], want[AREA];

	(void)state;
	for (size_t off = 0; off < MAX_ALIGN; off++) {
		for (size_t n = 0; n <= MAX_LEN; n++) {
			/* only the low byte counts */
			int c = (int)xoro_below(&rng, 512) - 128;

			fill_random(dst, sizeof(dst));
			memcpy(want, dst, sizeof(dst));
			memset(want + off, c, n);
			assert_ptr_equal(hy_memset(dst + off, c, n), dst + off);
			assert_memory_equal(dst, want, sizeof(dst));
		}
	}
}

static void test_memcmp(void **state)
{
	unsigned char a[AREA], b[AREA];

	(void)state;
	fill_random(a, sizeof(a));
	fill_random(b, sizeof(b));
	assert_int_equal(hy_memcmp(a, b, 0), 0);
	for (int iter = 0; iter < 20000; iter++) {
		size_t n = 1 + xoro_below(&rng, MAX_LEN);
		size_t ao = xoro_below(&rng, MAX_ALIGN);
		size_t bo = xoro_below(&rng, MAX_ALIGN);

		fill_random(a, sizeof(a));
		memcpy(b + bo, a + ao, n);
		assert_int_equal(hy_memcmp(a + ao, b + bo, n), 0);
		/* One differing byte, anywhere, high bit set or not. */
		b[bo + xoro_below(&rng, n)] ^=
			(unsigned char)(1 + xoro_below(&rng, 255));
		assert_int_equal(sign(hy_memcmp(a + ao, b + bo, n)),
				 sign(memcmp(a + ao, b + bo, n)));
		assert_int_not_equal(hy_memcmp(a + ao, b + bo, n), 0);
	}
}

static const char *const words[] = {
	"", "a", "b", "ab", "abc", "abd", "abcd", "hyphae", "hyphaE",
	"\x80high", "\x7flow", "mycelium", "mycelium!", "z",
};

static void test_str_compare(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		assert_int_equal(hy_strlen(words[i]), strlen(words[i]));
		for (size_t n = 0; n < 12; n++)
			assert_int_equal(hy_strnlen(words[i], n), strnlen(words[i], n));
		for (size_t j = 0; j < ARRAY_SIZE(words); j++) {
			assert_int_equal(sign(hy_strcmp(words[i], words[j])),
					 sign(strcmp(words[i], words[j])));
			for (size_t n = 0; n < 12; n++)
				assert_int_equal(sign(hy_strncmp(words[i], words[j], n)),
						 sign(strncmp(words[i], words[j], n)));
		}
	}
}

static void test_strchr(void **state)
{
	const char *s = "a/b/c:d";

	(void)state;
	for (int c = 0; c < 256; c++) {
		assert_ptr_equal(hy_strchr(s, c), strchr(s, c));
		assert_ptr_equal(hy_strrchr(s, c), strrchr(s, c));
	}
	/* Searching for the terminator finds it. */
	assert_ptr_equal(hy_strchr(s, '\0'), s + 7);
	assert_ptr_equal(hy_strrchr(s, '\0'), s + 7);
	assert_ptr_equal(hy_strrchr(s, '/'), s + 3);
	assert_null(hy_strchr("", 'x'));
}

static void test_strncpy(void **state)
{
	char got[16], want[16];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		for (size_t n = 0; n < sizeof(got); n++) {
			memset(got, 'x', sizeof(got));
			memset(want, 'x', sizeof(want));
			strncpy(want, words[i], n);
			assert_ptr_equal(hy_strncpy(got, words[i], n), got);
			assert_memory_equal(got, want, sizeof(got));
		}
	}
}

static void test_strlcpy(void **state)
{
	char buf[8];

	(void)state;
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(strlcpy(buf, "hello", sizeof(buf)), 5);
	assert_string_equal(buf, "hello");
	assert_int_equal(strlcpy(buf, "hyphae runtime", sizeof(buf)), 14);
	assert_string_equal(buf, "hyphae ");
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(strlcpy(buf, "abc", 0), 3);
	assert_int_equal(buf[0], 'x');
	assert_int_equal(strlcpy(buf, "abc", 1), 3);
	assert_string_equal(buf, "");
	assert_int_equal(strlcpy(buf, "1234567", sizeof(buf)), 7);
	assert_string_equal(buf, "1234567");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memcpy),
		cmocka_unit_test(test_memmove),
		cmocka_unit_test(test_memset),
		cmocka_unit_test(test_memcmp),
		cmocka_unit_test(test_str_compare),
		cmocka_unit_test(test_strchr),
		cmocka_unit_test(test_strncpy),
		cmocka_unit_test(test_strlcpy),
	};

	test_rng_init(&rng, 0x2545f4914f6cdd1dull);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
