/*
 * strlcpy.c - bounded, always-terminated string copy (OpenBSD's strlcpy).
 *
 * Kept apart from lib/string.c because the C library of the host (glibc
 * before 2.38) has no strlcpy: this file is built for both targets, while
 * string.c is kernel-only.
 */
#include "lib/string.h"

size_t strlcpy(char *restrict dst, const char *restrict src, size_t size)
{
	size_t len = 0;

	while (src[len] != '\0') {
		if (len + 1 < size)
			dst[len] = src[len];
		len++;
	}
	if (size > 0)
		dst[len < size ? len : size - 1] = '\0';
	return len;
}
