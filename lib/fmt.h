/*
 * fmt.h - formatted output without a C library: ksnprintf and kprintf.
 *
 * One formatter (lib/fmt.c) writes into a sink: a caller's buffer for the
 * snprintf family, a bounded stack buffer flushed to arch_console_write()
 * for kprintf.  The semantics are C99 snprintf's for the subset below, so
 * host tests compare the output with the C library byte for byte:
 *   conversions  %d %i %u %o %x %X %p %s %c %%
 *   lengths      hh h l ll z j t
 *   flags        - 0 + space #, width and precision (both also as *)
 * No floating point: the kernel builds with -mgeneral-regs-only.  %p prints
 * 0x-prefixed lowercase hex and "(nil)" for NULL, %s of NULL "(null)", as
 * glibc does.  An unknown conversion is copied to the output as written.
 */
#ifndef HYPHAE_LIB_FMT_H
#define HYPHAE_LIB_FMT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/*
 * Format into buf, writing at most size bytes including the terminating
 * NUL (always written when size > 0).  Returns the length the whole
 * output would have had, so a result >= size means it was truncated.
 * Any context; uses only the caller's stack.
 */
int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) __printf(3, 4);

/*
 * Format and write to the console.  Output up to KPRINTF_CHUNK bytes goes
 * out in one arch_console_write() call, so lines printed by different
 * cores do not interleave mid-line; longer output is written in chunks.
 * Returns the number of bytes written.  Any context (uses ~300 bytes of
 * stack); as IRQ-safe as arch_console_write().
 */
int kvprintf(const char *fmt, va_list ap);
int kprintf(const char *fmt, ...) __printf(1, 2);

/*
 * Format and pass the output to write(ctx, bytes, n): one call when it fits
 * in KPRINTF_CHUNK bytes, else consecutive chunks of that size.  Returns
 * the length of the output.  For sinks such as the shell's output.
 */
int kvformat(void (*write)(void *ctx, const char *s, size_t n), void *ctx,
	     const char *fmt, va_list ap);

/*
 * A destination for formatted text: write(ctx, bytes, n).  Drivers' dump
 * functions (lapic_dump and the like) print through one, so the shell,
 * the console or a test's buffer can take their output.
 */
struct fmt_out {
	void (*write)(void *ctx, const char *s, size_t n);
	void *ctx;
};

/* kvformat() into `out`.  Returns the length of the output. */
int fmt_printf(const struct fmt_out *out, const char *fmt, ...) __printf(2, 3);

/*
 * A duration in ns as "678 ns", "1.234 us", "12.345 ms" or "3.210 s" into
 * buf (at least FMT_NS_MAX bytes); returns buf.  Pure; any context.
 */
#define FMT_NS_MAX	24
char *fmt_ns(char *buf, size_t n, uint64_t ns);

/* Size of kprintf's stack buffer: the longest message written at once. */
#define KPRINTF_CHUNK	256

#endif /* HYPHAE_LIB_FMT_H */
