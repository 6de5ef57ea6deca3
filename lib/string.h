/*
 * string.h - memory and string functions for freestanding code.
 *
 * The kernel has no C library, and the compiler emits calls to memcpy,
 * memmove, memset and memcmp on its own (struct copies, loop idioms), so
 * lib/string.c defines them under their standard names with the standard
 * contracts.  On the host that file is left out of libhyphae.a (its
 * symbols would replace the C library's under the sanitizers) and these
 * declarations resolve to libc; tests/lib/test_string.c checks a renamed
 * build of the same source against libc (see mk/lib.mk).
 *
 * Bounded copy: strlcpy (OpenBSD), defined in lib/strlcpy.c for both
 * targets.  strncpy exists for code ported from elsewhere, but it neither
 * terminates a truncated copy nor stops padding, so prefer strlcpy.
 */
#ifndef HYPHAE_LIB_STRING_H
#define HYPHAE_LIB_STRING_H

#include <stddef.h>

/* Any context; no locks, no allocation. */
void *memcpy(void *restrict dst, const void *restrict src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t maxlen);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strncpy(char *restrict dst, const char *restrict src, size_t n);

/*
 * Copy src into dst (size bytes), always NUL-terminated when size > 0.
 * Returns strlen(src): a result >= size means the copy was truncated.
 */
size_t strlcpy(char *restrict dst, const char *restrict src, size_t size);

#endif /* HYPHAE_LIB_STRING_H */
