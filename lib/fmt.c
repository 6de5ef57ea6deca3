/*
 * fmt.c - the formatter behind ksnprintf and kprintf.
 *
 * fmt_format() walks the format once and emits bytes into a struct
 * fmt_sink: a fixed buffer that either truncates (snprintf) or is flushed
 * to a writer (the console for kprintf, any callback for kvformat) when
 * full.  Each conversion is parsed into a struct
 * fmt_spec (flags, width, precision, length) and printed by one of two
 * routines, for integers and for strings, following the C99 rules for
 * padding, precision and the 0 flag (ISO C 7.19.6.1).  Integers are
 * converted through uint64_t, most significant digit last, into a small
 * local buffer; nothing here allocates or touches floating point.
 */
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "clock.h"
#include "lib/fmt.h"

/* Where formatted bytes go. */
struct fmt_sink {
	char *buf;
	size_t cap;		/* bytes buf can hold before flush/truncation */
	size_t pos;		/* bytes held in buf */
	size_t total;		/* bytes produced so far, held or not */
	void (*flush)(struct fmt_sink *s);	/* NULL: drop what does not fit */
	void (*write)(void *ctx, const char *s, size_t n);	/* for kvformat */
	void *ctx;
};

/* One conversion specification, e.g. "%-08.3llx". */
struct fmt_spec {
	bool left;		/* '-' */
	bool zero;		/* '0' */
	bool plus;		/* '+' */
	bool space;		/* ' ' */
	bool alt;		/* '#' */
	int width;		/* 0: none */
	int prec;		/* -1: none */
	char length;		/* 0, 'H' (hh), 'h', 'l', 'L' (ll), 'z', 'j', 't' */
};

/* Enough for 64 bits in octal (22 digits). */
#define FMT_DIGITS_MAX	24

static void sink_put(struct fmt_sink *s, char c)
{
	if (s->pos == s->cap && s->flush)
		s->flush(s);
	if (s->pos < s->cap)
		s->buf[s->pos++] = c;
	s->total++;
}

static void sink_repeat(struct fmt_sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

static void sink_write(struct fmt_sink *s, const char *p, size_t n)
{
	while (n--)
		sink_put(s, *p++);
}

/* Print len bytes of str, padded to the spec's width. */
static void fmt_str(struct fmt_sink *s, const struct fmt_spec *sp,
		    const char *str, size_t len)
{
	int pad = sp->width > (int)len ? sp->width - (int)len : 0;

	if (!sp->left)
		sink_repeat(s, ' ', pad);
	sink_write(s, str, len);
	if (sp->left)
		sink_repeat(s, ' ', pad);
}

static size_t fmt_strnlen(const char *str, int prec)
{
	size_t n = 0;

	while ((prec < 0 || n < (size_t)prec) && str[n])
		n++;
	return n;
}

/*
 * Print an integer: magnitude v, negative if neg; is_signed enables the
 * '+' and ' ' flags (ignored for unsigned conversions, as in glibc).
 * Layout: [pad][sign][0x][zeros][digits][pad].
 */
static void fmt_int(struct fmt_sink *s, const struct fmt_spec *sp,
		    uint64_t v, bool neg, bool is_signed, unsigned base,
		    bool upper)
{
	static const char lower_digits[] = "0123456789abcdef";
	static const char upper_digits[] = "0123456789ABCDEF";
	const char *digits = upper ? upper_digits : lower_digits;
	char tmp[FMT_DIGITS_MAX];
	int ndig = 0, zeros, pad, prefix_len;
	const char *prefix = "";
	bool nonzero = v != 0;
	char sign = 0;

	/* ISO C: precision 0 with value 0 prints no digits. */
	if (nonzero || sp->prec != 0) {
		do {
			tmp[ndig++] = digits[v % base];
			v /= base;
		} while (v != 0);
	}
	if (neg)
		sign = '-';
	else if (is_signed && sp->plus)
		sign = '+';
	else if (is_signed && sp->space)
		sign = ' ';

	zeros = sp->prec > ndig ? sp->prec - ndig : 0;
	if (sp->alt && base == 8 && zeros == 0 &&
	    (ndig == 0 || tmp[ndig - 1] != '0'))
		zeros = 1;	/* '#' with o: the first digit is a 0 */
	if (sp->alt && base == 16 && nonzero)
		prefix = upper ? "0X" : "0x";
	prefix_len = (int)fmt_strnlen(prefix, -1);

	pad = sp->width - (ndig + zeros + prefix_len + (sign ? 1 : 0));
	if (pad < 0)
		pad = 0;
	/* The 0 flag is ignored with '-' or with a precision. */
	if (sp->zero && !sp->left && sp->prec < 0) {
		zeros += pad;
		pad = 0;
	}
	if (!sp->left)
		sink_repeat(s, ' ', pad);
	if (sign)
		sink_put(s, sign);
	sink_write(s, prefix, (size_t)prefix_len);
	sink_repeat(s, '0', zeros);
	while (ndig > 0)
		sink_put(s, tmp[--ndig]);
	if (sp->left)
		sink_repeat(s, ' ', pad);
}

/* Read a signed argument of the spec's length, widened. */
static int64_t fmt_arg_signed(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (signed char)va_arg(*ap, int);
	case 'h': return (short)va_arg(*ap, int);
	case 'l': return va_arg(*ap, long);
	case 'L': return va_arg(*ap, long long);
	case 'z': return (int64_t)va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, intmax_t);
	case 't': return va_arg(*ap, ptrdiff_t);
	default:  return va_arg(*ap, int);
	}
}

static uint64_t fmt_arg_unsigned(const struct fmt_spec *sp, va_list *ap)
{
	switch (sp->length) {
	case 'H': return (unsigned char)va_arg(*ap, unsigned);
	case 'h': return (unsigned short)va_arg(*ap, unsigned);
	case 'l': return va_arg(*ap, unsigned long);
	case 'L': return va_arg(*ap, unsigned long long);
	case 'z': return va_arg(*ap, size_t);
	case 'j': return va_arg(*ap, uintmax_t);
	case 't': return (uint64_t)va_arg(*ap, ptrdiff_t);
	default:  return va_arg(*ap, unsigned);
	}
}

/* Parse a decimal field; stops at INT_MAX rather than overflowing. */
static int fmt_atoi(const char **p)
{
	int n = 0;

	while (**p >= '0' && **p <= '9') {
		int d = **p - '0';

		n = n > (INT_MAX - d) / 10 ? INT_MAX : n * 10 + d;
		(*p)++;
	}
	return n;
}

/* Parse flags, width, precision and length after '%'; *p ends on the conversion. */
static void fmt_parse_spec(struct fmt_spec *sp, const char **p, va_list *ap)
{
	const char *f = *p;

	*sp = (struct fmt_spec){ .prec = -1 };
	for (;; f++) {
		if (*f == '-')
			sp->left = true;
		else if (*f == '0')
			sp->zero = true;
		else if (*f == '+')
			sp->plus = true;
		else if (*f == ' ')
			sp->space = true;
		else if (*f == '#')
			sp->alt = true;
		else
			break;
	}
	if (*f == '*') {
		int w = va_arg(*ap, int);

		f++;
		if (w < 0) {
			sp->left = true;
			w = w == INT_MIN ? INT_MAX : -w;
		}
		sp->width = w;
	} else {
		sp->width = fmt_atoi(&f);
	}
	if (*f == '.') {
		f++;
		if (*f == '*') {
			f++;
			sp->prec = va_arg(*ap, int);
			if (sp->prec < 0)
				sp->prec = -1;	/* negative: as if omitted */
		} else {
			sp->prec = fmt_atoi(&f);
		}
	}
	switch (*f) {
	case 'h':
		sp->length = f[1] == 'h' ? 'H' : 'h';
		f += f[1] == 'h' ? 2 : 1;
		break;
	case 'l':
		sp->length = f[1] == 'l' ? 'L' : 'l';
		f += f[1] == 'l' ? 2 : 1;
		break;
	case 'z': case 'j': case 't':
		sp->length = *f++;
		break;
	default:
		break;
	}
	*p = f;
}

/* Format fmt into the sink; returns bytes produced (held or dropped). */
static size_t fmt_format(struct fmt_sink *s, const char *fmt, va_list ap_in)
{
	struct fmt_spec sp;
	va_list ap;
	const char *start;

	va_copy(ap, ap_in);
	while (*fmt) {
		if (*fmt != '%') {
			sink_put(s, *fmt++);
			continue;
		}
		start = fmt++;
		fmt_parse_spec(&sp, &fmt, &ap);
		switch (*fmt) {
		case 'd': case 'i': {
			int64_t v = fmt_arg_signed(&sp, &ap);
			uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

			fmt_int(s, &sp, mag, v < 0, true, 10, false);
			break;
		}
		case 'u':
			fmt_int(s, &sp, fmt_arg_unsigned(&sp, &ap), false, false,
				10, false);
			break;
		case 'o':
			fmt_int(s, &sp, fmt_arg_unsigned(&sp, &ap), false, false,
				8, false);
			break;
		case 'x': case 'X':
			fmt_int(s, &sp, fmt_arg_unsigned(&sp, &ap), false, false,
				16, *fmt == 'X');
			break;
		case 'p': {
			void *ptr = va_arg(ap, void *);

			if (ptr == NULL) {
				sp.prec = -1;
				fmt_str(s, &sp, "(nil)", 5);
			} else {
				sp.alt = true;
				fmt_int(s, &sp, (uintptr_t)ptr, false, true, 16,
					false);
			}
			break;
		}
		case 's': {
			const char *str = va_arg(ap, const char *);

			if (str == NULL)	/* glibc: "(null)", or nothing if it does not fit */
				str = sp.prec < 0 || sp.prec >= 6 ? "(null)" : "";
			fmt_str(s, &sp, str, fmt_strnlen(str, sp.prec));
			break;
		}
		case 'c': {
			char c = (char)va_arg(ap, int);

			fmt_str(s, &sp, &c, 1);
			break;
		}
		case '%':
			sink_put(s, '%');
			break;
		default:
			/* Unknown or truncated conversion: show it as written. */
			sink_write(s, start, (size_t)(fmt - start));
			if (*fmt == '\0')
				goto out;
			sink_put(s, *fmt);
			break;
		}
		fmt++;
	}
out:
	va_end(ap);
	return s->total;
}

static int fmt_result(size_t total)
{
	return total > INT_MAX ? INT_MAX : (int)total;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_sink s = {
		.buf = buf,
		.cap = size > 0 ? size - 1 : 0,	/* keep room for the NUL */
	};
	size_t total = fmt_format(&s, fmt, ap);

	if (size > 0)
		buf[s.pos] = '\0';
	return fmt_result(total);
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

static void callback_flush(struct fmt_sink *s)
{
	s->write(s->ctx, s->buf, s->pos);
	s->pos = 0;
}

int kvformat(void (*write)(void *ctx, const char *s, size_t n), void *ctx,
	     const char *fmt, va_list ap)
{
	char buf[KPRINTF_CHUNK];
	struct fmt_sink s = {
		.buf = buf,
		.cap = sizeof(buf),
		.flush = callback_flush,
		.write = write,
		.ctx = ctx,
	};
	size_t total = fmt_format(&s, fmt, ap);

	if (s.pos > 0)
		callback_flush(&s);
	return fmt_result(total);
}

static void console_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

int kvprintf(const char *fmt, va_list ap)
{
	return kvformat(console_write, NULL, fmt, ap);
}

int kprintf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvprintf(fmt, ap);
	va_end(ap);
	return n;
}

int fmt_printf(const struct fmt_out *out, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvformat(out->write, out->ctx, fmt, ap);
	va_end(ap);
	return n;
}

char *fmt_ns(char *buf, size_t n, uint64_t ns)
{
	if (ns < NS_PER_US)
		ksnprintf(buf, n, "%llu ns", (unsigned long long)ns);
	else if (ns < NS_PER_MS)
		ksnprintf(buf, n, "%llu.%03llu us", (unsigned long long)(ns / NS_PER_US),
			  (unsigned long long)(ns % NS_PER_US));
	else if (ns < NS_PER_SEC)
		ksnprintf(buf, n, "%llu.%03llu ms", (unsigned long long)(ns / NS_PER_MS),
			  (unsigned long long)(ns % NS_PER_MS / NS_PER_US));
	else
		ksnprintf(buf, n, "%llu.%03llu s", (unsigned long long)(ns / NS_PER_SEC),
			  (unsigned long long)(ns % NS_PER_SEC / NS_PER_MS));
	return buf;
}
