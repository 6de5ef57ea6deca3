/*
 * log.h - leveled log lines with a timestamp and the core, on the console.
 *
 *   [    0.012345] cpu0 INFO  mm: 126 MiB usable
 *
 * Seconds.microseconds since the clock's origin (arch_clock()), the runtime
 * slot of the calling core (arch_cpu_index()), the level padded to five
 * columns, then the message; the newline is added here.  A line is
 * formatted on the stack and written with one arch_console_write(), so
 * lines from different cores never interleave.  Lines longer than
 * LOG_LINE_MAX are cut and end in "...".  Messages below the current level
 * (default LOG_INFO) are dropped before formatting.
 *
 * Every line printed is also kept in the log ring, the last LOG_RING_LINES
 * lines in memory: the panic and fault reports end with its tail, and gdb
 * reads it (hy-log).  Writers on different cores take slots with one
 * atomic increment and claim their slot with a compare-and-swap on its
 * seq (odd while written), so one writer at a time fills a slot, and a
 * reader skips a line that is being overwritten instead of printing it
 * torn.  A line whose slot is still being written by a writer a lap
 * behind (64 lines ago) is left out of the ring; the console has it.
 */
#ifndef HYPHAE_LIB_LOG_H
#define HYPHAE_LIB_LOG_H

#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

enum log_level {
	LOG_DEBUG,
	LOG_INFO,
	LOG_WARN,
	LOG_ERROR,
};

/* Longest line, newline included. */
#define LOG_LINE_MAX	256

/* Set / read the lowest level printed.  Any core; takes effect at once. */
void log_set_level(enum log_level lvl);
enum log_level log_get_level(void);

/*
 * Parse a level name, case-insensitive: "debug", "info", "warn" (or
 * "warning"), "error".  Returns 0 and sets *out, or -EINVAL.
 */
int __must_check log_parse_level(const char *name, enum log_level *out);

/* "DEBUG", "INFO", "WARN", "ERROR"; "?" for a value out of range. */
const char *log_level_name(enum log_level lvl);

/* Print one line if lvl is at or above the current level.  Any context. */
void log_msg(enum log_level lvl, const char *fmt, ...) __printf(2, 3);
void log_vmsg(enum log_level lvl, const char *fmt, va_list ap);

/*
 * Format one complete line (prefix, message, newline) into buf, as
 * log_msg() would for a message at time ns on core cpu, and NUL-terminate
 * it.  Returns the line's length (< n); a message that does not fit is cut
 * and ends in "...\n".  n must be at least LOG_LINE_MIN.  Pure: no clock,
 * no console, so tests call it directly.
 */
size_t log_format(char *buf, size_t n, enum log_level lvl, uint64_t ns,
		  unsigned cpu, const char *fmt, va_list ap);

/* ---- the log ring --------------------------------------------------- */

#define LOG_RING_LINES	64
#define LOG_RING_WORDS	(LOG_LINE_MAX / 8)

/* One line: seq is 2 * (index + 1) once written, odd while written; the
 * text is stored as relaxed 64-bit words (len bytes, no NUL). */
struct log_ring_line {
	_Atomic uint64_t seq;
	_Atomic uint64_t len;
	_Atomic uint64_t text[LOG_RING_WORDS];
};

struct log_ring {
	_Atomic uint64_t next;		/* lines ever written */
	struct log_ring_line lines[LOG_RING_LINES];
};

/* The kernel's ring (a global symbol, for gdb). */
extern struct log_ring log_ring;

/* Append a line of n bytes (n < LOG_LINE_MAX) to r.  Any context. */
void log_ring_put(struct log_ring *r, const char *s, size_t n);

/*
 * Copy the line with index i into buf (LOG_LINE_MAX bytes) and NUL-
 * terminate it: its length, or -1 if that line is gone or being
 * written.  Any context.
 */
int log_ring_get(struct log_ring *r, uint64_t i, char *buf);

/*
 * Write the last n lines of the global ring through out, oldest first,
 * under a header line; a line lost to a concurrent writer is said so.
 * For the panic and fault reports (other cores stopped).  Any context.
 */
void log_ring_print_tail(unsigned n, void (*out)(const char *s, size_t len));

/* Room for the prefix of a line plus the "...\n" and the NUL. */
#define LOG_LINE_MIN	64

#define log_debug(...)	log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...)	log_msg(LOG_ERROR, __VA_ARGS__)

#endif /* HYPHAE_LIB_LOG_H */
