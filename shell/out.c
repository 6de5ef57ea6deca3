/*
 * out.c - formatted output into a struct shell_out (see out.h).
 * Formatting is lib/fmt.c's kvformat, which hands over chunks of up to
 * KPRINTF_CHUNK bytes, so a line of output is usually one write.
 */
#include "lib/fmt.h"
#include "lib/string.h"
#include "shell/out.h"

void shell_write(const struct shell_out *out, const char *s, size_t n)
{
	if (n > 0)
		out->write(out->ctx, s, n);
}

void shell_puts(const struct shell_out *out, const char *s)
{
	shell_write(out, s, strlen(s));
}

int shell_vprintf(const struct shell_out *out, const char *fmt, va_list ap)
{
	return kvformat(out->write, out->ctx, fmt, ap);
}

int shell_printf(const struct shell_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = shell_vprintf(out, fmt, ap);
	va_end(ap);
	return n;
}
