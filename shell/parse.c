/*
 * parse.c - tokenizer, number and duration parsers (see parse.h).
 *
 * The tokenizer walks the line with a read and a write pointer; the write
 * side never passes the read side (escapes and quotes only shrink text),
 * so words are built in the line's own storage and NUL-terminated there.
 */
#include <stdbool.h>

#include "clock.h"
#include "errno.h"
#include "lib/string.h"
#include "shell/parse.h"


static void set_why(const char **why, const char *msg)
{
	if (why)
		*why = msg;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode the escape after a backslash inside double quotes; -1 if bad. */
static int dq_escape(const char **rp)
{
	const char *r = *rp;
	int hi, lo;

	switch (*r) {
	case '"': case '\\':
		*rp = r + 1;
		return *r;
	case 'n':
		*rp = r + 1;
		return '\n';
	case 't':
		*rp = r + 1;
		return '\t';
	case 'x':
		hi = hex_digit(r[1]);
		lo = hi < 0 ? -1 : hex_digit(r[2]);
		if (lo < 0 || (hi == 0 && lo == 0))
			return -1;	/* \x00 would end the word early */
		*rp = r + 3;
		return hi * 16 + lo;
	default:
		return -1;
	}
}

int shell_tokenize(char *line, char **argv, int max, const char **why)
{
	const char *r = line;
	char *w = line;
	int argc = 0;

	for (;;) {
		while (*r == ' ' || *r == '\t')
			r++;
		if (*r == '\0')
			break;
		if (argc >= max - 1) {
			set_why(why, "too many arguments");
			return -ENOSPC;
		}
		argv[argc++] = w;
		/* One word: until unquoted blank or the end. */
		while (*r != '\0' && *r != ' ' && *r != '\t') {
			if (*r == '\'') {
				r++;
				while (*r != '\'' && *r != '\0')
					*w++ = *r++;
				if (*r == '\0') {
					set_why(why, "unterminated ' quote");
					return -EINVAL;
				}
				r++;
			} else if (*r == '"') {
				r++;
				while (*r != '"' && *r != '\0') {
					if (*r == '\\') {
						int c;

						r++;
						c = dq_escape(&r);
						if (c < 0) {
							set_why(why, "bad escape in \"...\" (use \\\" \\\\ \\n \\t \\xHH)");
							return -EINVAL;
						}
						*w++ = (char)c;
					} else {
						*w++ = *r++;
					}
				}
				if (*r == '\0') {
					set_why(why, "unterminated \" quote");
					return -EINVAL;
				}
				r++;
			} else if (*r == '\\') {
				r++;
				if (*r == '\0') {
					set_why(why, "backslash at end of line");
					return -EINVAL;
				}
				*w++ = *r++;
			} else {
				*w++ = *r++;
			}
		}
		/* Terminate the word; r has not moved past this byte yet only
		 * when it is the end, so read before writing. */
		{
			char next = *r;

			*w++ = '\0';
			if (next == '\0')
				break;
			r++;
		}
	}
	if (max > 0)
		argv[argc] = NULL;
	return argc;
}

int shell_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out,
		    const char **why)
{
	unsigned base = 10;
	uint64_t v = 0;
	const char *p = s;

	if (s == NULL || *s == '\0') {
		set_why(why, "empty number");
		return -EINVAL;
	}
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (*p == '\0') {
			set_why(why, "no digits after 0x");
			return -EINVAL;
		}
	}
	for (; *p; p++) {
		int d = hex_digit(*p);

		if (d < 0 || (unsigned)d >= base) {
			set_why(why, base == 16 ? "not a hex number" : "not a number");
			return -EINVAL;
		}
		if (v > (UINT64_MAX - (unsigned)d) / base) {
			set_why(why, "number too large");
			return -ERANGE;
		}
		v = v * base + (unsigned)d;
	}
	if (v < min || v > max) {
		set_why(why, "number out of range");
		return -ERANGE;
	}
	*out = v;
	return 0;
}

int shell_parse_duration(const char *s, uint64_t *ns, const char **why)
{
	static const struct {
		const char *name;
		uint64_t ns;
	} units[] = {
		{ "ns", 1 }, { "us", NS_PER_US }, { "ms", NS_PER_MS }, { "s", NS_PER_SEC },
	};
	uint64_t v = 0;
	const char *p = s;

	if (s == NULL || *p < '0' || *p > '9') {
		set_why(why, "duration must start with a number (e.g. 10ms)");
		return -EINVAL;
	}
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10) {
			set_why(why, "duration too large");
			return -ERANGE;
		}
		v = v * 10 + d;
	}
	if (*p == '\0') {
		set_why(why, "duration needs a unit: ns, us, ms or s");
		return -EINVAL;
	}
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(p, units[i].name) == 0) {
			if (v > UINT64_MAX / units[i].ns) {
				set_why(why, "duration too large");
				return -ERANGE;
			}
			*ns = v * units[i].ns;
			return 0;
		}
	}
	set_why(why, "unknown unit (use ns, us, ms or s)");
	return -EINVAL;
}
