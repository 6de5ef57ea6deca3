/*
 * out.h - where the shell's output goes: a write callback and its context.
 *
 * The kernel's shell writes to the serial console; host tests and the
 * fuzzer capture into a buffer.  Newlines are "\n": the kernel console
 * turns them into "\r\n" for terminals.
 */
#ifndef HYPHAE_SHELL_OUT_H
#define HYPHAE_SHELL_OUT_H

#include <stdarg.h>
#include <stddef.h>

#include "compiler.h"

struct shell_out {
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
};

/* Write n bytes / a string / formatted text (lib/fmt.h conversions). */
void shell_write(const struct shell_out *out, const char *s, size_t n);
void shell_puts(const struct shell_out *out, const char *s);
int shell_printf(const struct shell_out *out, const char *fmt, ...) __printf(2, 3);
int shell_vprintf(const struct shell_out *out, const char *fmt, va_list ap);

#endif /* HYPHAE_SHELL_OUT_H */
