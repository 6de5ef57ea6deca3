/*
 * parse.h - turning a shell line into words, numbers and durations.
 *
 * Tokenizing is in place: words are split on spaces and tabs; "double
 * quotes" allow spaces and the escapes \" \\ \n \t \xHH; 'single quotes'
 * are literal; outside quotes a backslash takes the next byte literally;
 * adjacent pieces join (a"b c" is one word, `ab c`).  Numbers are decimal
 * or 0x hexadecimal, unsigned, range-checked; durations are an integer
 * with a unit (ns, us, ms, s) converted to nanoseconds, overflow refused.
 * Every failure returns a negative errno code and, when asked, a short
 * static message naming the problem.
 */
#ifndef HYPHAE_SHELL_PARSE_H
#define HYPHAE_SHELL_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define SHELL_MAX_ARGS	16

/*
 * Split line (modified in place) into at most max words stored in argv,
 * which gets a NULL after the last.  Returns the number of words, or
 * -EINVAL (unterminated quote, bad escape) / -ENOSPC (more than max - 1
 * words); *why, if why is non-NULL, then names the problem.
 */
int __must_check shell_tokenize(char *line, char **argv, int max,
				const char **why);

/*
 * Parse an unsigned number, decimal or 0x-prefixed hex, in [min, max].
 * 0, -EINVAL (not a number) or -ERANGE (too large or out of range).
 */
int __must_check shell_parse_u64(const char *s, uint64_t min, uint64_t max,
				 uint64_t *out, const char **why);

/*
 * Parse a duration such as 10ms, 2s, 500us, 100ns into nanoseconds.
 * 0, -EINVAL (no number, no or unknown unit) or -ERANGE (overflows 64 bits).
 */
int __must_check shell_parse_duration(const char *s, uint64_t *ns,
				      const char **why);

#endif /* HYPHAE_SHELL_PARSE_H */
