/*
 * string.c - the kernel's memcpy, memset and friends.
 *
 * memcpy, memmove and memset move eight bytes at a time once the
 * destination is aligned (the source may stay unaligned: x86_64 loads
 * unaligned words at full speed, and the access type below says so to the
 * compiler); memcmp skips equal words the same way.  The str* functions are
 * plain byte loops: they may not read past the terminator.  No inline
 * assembly (no `rep movsb`): this is portable code.
 *
 * Built for the kernel only.  The host build leaves it out of libhyphae.a
 * and compiles a renamed copy for tests/lib/test_string.c (mk/lib.mk).
 */
#include <stdint.h>

#include "lib/string.h"

/*
 * GCC turns byte loops into calls to memset/memcpy even in freestanding
 * code (-ftree-loop-distribute-patterns), which inside memset itself is
 * infinite recursion.  Clang does not do this in functions with these
 * names or under -ffreestanding.
 */
#if defined(__GNUC__) && !defined(__clang__)
#define STRING_NO_IDIOMS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define STRING_NO_IDIOMS
#endif

/* A word that may alias anything; the second kind may also be unaligned. */
typedef uint64_t __attribute__((may_alias)) str_word;
typedef uint64_t __attribute__((may_alias, aligned(1))) str_uword;

#define WORD		sizeof(str_word)
#define WORD_MASK	(WORD - 1)
/* Below this length the alignment prologue costs more than it saves. */
#define WORD_MIN	(4 * WORD)
/* Every byte of a word set to the same value: c * ONES. */
#define ONES		0x0101010101010101ull

STRING_NO_IDIOMS
void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (n >= WORD_MIN) {
		while ((uintptr_t)d & WORD_MASK) {
			*d++ = *s++;
			n--;
		}
		for (; n >= 4 * WORD; n -= 4 * WORD, d += 4 * WORD, s += 4 * WORD) {
			str_word w0 = ((const str_uword *)s)[0];
			str_word w1 = ((const str_uword *)s)[1];
			str_word w2 = ((const str_uword *)s)[2];
			str_word w3 = ((const str_uword *)s)[3];

			((str_word *)d)[0] = w0;
			((str_word *)d)[1] = w1;
			((str_word *)d)[2] = w2;
			((str_word *)d)[3] = w3;
		}
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(str_word *)d = *(const str_uword *)s;
	}
	while (n--)
		*d++ = *s++;
	return dst;
}

/* Copy from the end down; for dst above an overlapping src. */
STRING_NO_IDIOMS
static void copy_backward(unsigned char *d, const unsigned char *s, size_t n)
{
	d += n;
	s += n;
	if (n >= WORD_MIN) {
		while ((uintptr_t)d & WORD_MASK) {
			*--d = *--s;
			n--;
		}
		for (; n >= WORD; n -= WORD) {
			d -= WORD;
			s -= WORD;
			*(str_word *)d = *(const str_uword *)s;
		}
	}
	while (n--)
		*--d = *--s;
}

/* Copy from the start up; safe for dst below an overlapping src. */
STRING_NO_IDIOMS
static void copy_forward(unsigned char *d, const unsigned char *s, size_t n)
{
	if (n >= WORD_MIN) {
		while ((uintptr_t)d & WORD_MASK) {
			*d++ = *s++;
			n--;
		}
		/* One word read before its write: never reads bytes already
		 * overwritten, because d < s. */
		for (; n >= WORD; n -= WORD, d += WORD, s += WORD)
			*(str_word *)d = *(const str_uword *)s;
	}
	while (n--)
		*d++ = *s++;
}

STRING_NO_IDIOMS
void *memmove(void *dst, const void *src, size_t n)
{
	uintptr_t d = (uintptr_t)dst, s = (uintptr_t)src;

	if (d == s || n == 0)
		return dst;
	if (d < s || d - s >= n)
		copy_forward(dst, src, n);
	else
		copy_backward(dst, src, n);
	return dst;
}

STRING_NO_IDIOMS
void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	unsigned char b = (unsigned char)c;

	if (n >= WORD_MIN) {
		str_word w = (str_word)b * ONES;

		while ((uintptr_t)d & WORD_MASK) {
			*d++ = b;
			n--;
		}
		for (; n >= 4 * WORD; n -= 4 * WORD, d += 4 * WORD) {
			((str_word *)d)[0] = w;
			((str_word *)d)[1] = w;
			((str_word *)d)[2] = w;
			((str_word *)d)[3] = w;
		}
		for (; n >= WORD; n -= WORD, d += WORD)
			*(str_word *)d = w;
	}
	while (n--)
		*d++ = b;
	return dst;
}

STRING_NO_IDIOMS
int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	/* Skip equal words; the byte loop below finds the first difference. */
	while (n >= WORD && *(const str_uword *)p == *(const str_uword *)q) {
		p += WORD;
		q += WORD;
		n -= WORD;
	}
	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
	}
	return 0;
}

STRING_NO_IDIOMS
size_t strlen(const char *s)
{
	const char *p = s;

	while (*p)
		p++;
	return (size_t)(p - s);
}

STRING_NO_IDIOMS
size_t strnlen(const char *s, size_t maxlen)
{
	size_t n = 0;

	while (n < maxlen && s[n])
		n++;
	return n;
}

STRING_NO_IDIOMS
int strcmp(const char *a, const char *b)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	while (*p && *p == *q) {
		p++;
		q++;
	}
	return (*p > *q) - (*p < *q);
}

STRING_NO_IDIOMS
int strncmp(const char *a, const char *b, size_t n)
{
	const unsigned char *p = (const unsigned char *)a;
	const unsigned char *q = (const unsigned char *)b;

	for (; n > 0; n--, p++, q++) {
		if (*p != *q)
			return *p < *q ? -1 : 1;
		if (*p == '\0')
			break;
	}
	return 0;
}

STRING_NO_IDIOMS
char *strchr(const char *s, int c)
{
	char ch = (char)c;

	for (;; s++) {
		if (*s == ch)
			return (char *)s;
		if (*s == '\0')
			return NULL;
	}
}

STRING_NO_IDIOMS
char *strrchr(const char *s, int c)
{
	char ch = (char)c;
	const char *last = NULL;

	for (;; s++) {
		if (*s == ch)
			last = s;
		if (*s == '\0')
			return (char *)last;
	}
}

/* ISO C strncpy: copies at most n bytes and pads the rest with NULs. */
STRING_NO_IDIOMS
char *strncpy(char *restrict dst, const char *restrict src, size_t n)
{
	size_t i = 0;

	for (; i < n && src[i]; i++)
		dst[i] = src[i];
	for (; i < n; i++)
		dst[i] = '\0';
	return dst;
}
