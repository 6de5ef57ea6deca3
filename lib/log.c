/*
 * log.c - leveled, timestamped log lines (see log.h for the format).
 *
 * The level is one relaxed atomic: a change is seen by other cores soon,
 * and nothing else is ordered by it.  A line is built by log_format() on
 * the stack and written with a single arch_console_write() call.
 */
#include <stdatomic.h>

#include "arch.h"
#include "errno.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"
#include "clock.h"

#define LOG_ELLIPSIS	"...\n"

static atomic_int log_level = LOG_INFO;

static const char *const level_names[] = {
	[LOG_DEBUG] = "DEBUG",
	[LOG_INFO] = "INFO",
	[LOG_WARN] = "WARN",
	[LOG_ERROR] = "ERROR",
};

void log_set_level(enum log_level lvl)
{
	atomic_store_explicit(&log_level, (int)lvl, memory_order_relaxed);
}

enum log_level log_get_level(void)
{
	return (enum log_level)atomic_load_explicit(&log_level,
						    memory_order_relaxed);
}

const char *log_level_name(enum log_level lvl)
{
	if ((unsigned)lvl >= ARRAY_SIZE(level_names))
		return "?";
	return level_names[lvl];
}

static char ascii_lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static int name_equal(const char *a, const char *lower)
{
	for (; *a && *lower; a++, lower++) {
		if (ascii_lower(*a) != *lower)
			return 0;
	}
	return *a == '\0' && *lower == '\0';
}

int log_parse_level(const char *name, enum log_level *out)
{
	static const struct {
		const char *name;
		enum log_level lvl;
	} names[] = {
		{ "debug", LOG_DEBUG }, { "info", LOG_INFO },
		{ "warn", LOG_WARN }, { "warning", LOG_WARN },
		{ "error", LOG_ERROR },
	};

	if (name == NULL)
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (name_equal(name, names[i].name)) {
			*out = names[i].lvl;
			return 0;
		}
	}
	return -EINVAL;
}

size_t log_format(char *buf, size_t n, enum log_level lvl, uint64_t ns,
		  unsigned cpu, const char *fmt, va_list ap)
{
	size_t len;
	int r;

	kassert(n >= LOG_LINE_MIN);
	r = ksnprintf(buf, n, "[%5llu.%06llu] cpu%u %-5s ",
		      (unsigned long long)(ns / NS_PER_SEC),
		      (unsigned long long)(ns % NS_PER_SEC / NS_PER_US),
		      cpu, log_level_name(lvl));
	len = (size_t)r < n ? (size_t)r : n - 1;
	r = kvsnprintf(buf + len, n - len, fmt, ap);
	/* The message plus its newline must fit; else cut it and say so. */
	if (r >= 0 && len + (size_t)r + 1 < n) {
		len += (size_t)r;
		buf[len++] = '\n';
		buf[len] = '\0';
		return len;
	}
	len = n - sizeof(LOG_ELLIPSIS);
	ksnprintf(buf + len, n - len, "%s", LOG_ELLIPSIS);
	return n - 1;
}

/* Nanoseconds on the arch clock, saturating instead of wrapping. */
static uint64_t log_now_ns(void)
{
	const struct clock *clk = arch_clock();
	uint64_t t, q, r, sec, rem;

	/* The kernel's clock may not be calibrated yet during early boot. */
	if (clk == NULL || clk->now == NULL || clk->tick_ns == 0)
		return 0;
	t = clk->now(clk);
	/* t * tick_ns = q * tick_ns seconds + r * tick_ns nanoseconds. */
	q = t / NS_PER_SEC;
	r = t % NS_PER_SEC;
	if (clk->tick_ns > UINT64_MAX / NS_PER_SEC ||
	    (q != 0 && clk->tick_ns > UINT64_MAX / q))
		return UINT64_MAX;
	sec = q * clk->tick_ns + r * clk->tick_ns / NS_PER_SEC;
	rem = r * clk->tick_ns % NS_PER_SEC;
	if (sec > (UINT64_MAX - rem) / NS_PER_SEC)
		return UINT64_MAX;
	return sec * NS_PER_SEC + rem;
}

void log_vmsg(enum log_level lvl, const char *fmt, va_list ap)
{
	char line[LOG_LINE_MAX];
	size_t len;

	if ((int)lvl < atomic_load_explicit(&log_level, memory_order_relaxed))
		return;
	len = log_format(line, sizeof(line), lvl, log_now_ns(),
			 arch_cpu_index(), fmt, ap);
	log_ring_put(&log_ring, line, len);
	arch_console_write(line, len);
}

/* ---- the log ring -------------------------------------------------------- */

struct log_ring log_ring;

void log_ring_put(struct log_ring *r, const char *s, size_t n)
{
	/* relaxed: the slot's seq orders the text, not this count. */
	uint64_t i = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
	struct log_ring_line *l = &r->lines[i % LOG_RING_LINES];
	uint64_t old = atomic_load_explicit(&l->seq, memory_order_relaxed);

	if (n >= LOG_LINE_MAX)
		n = LOG_LINE_MAX - 1;
	/*
	 * Claim the slot: one writer at a time, or a reader could pass a
	 * line two writers a lap apart wrote into together.  A slot busy
	 * (odd) or already holding a newer line loses this line (the
	 * console still has it); never wait: the busy writer may be the
	 * code this interrupt handler interrupted.  relaxed: the stores
	 * below are release.
	 */
	do {
		if ((old & 1) || old >= 2 * i + 2)
			return;
	} while (!atomic_compare_exchange_weak_explicit(&l->seq, &old, 2 * i + 1,
							memory_order_relaxed,
							memory_order_relaxed));
	/* release: a reader that loads any word below (acquire) also sees
	 * the busy mark; no fences, which ThreadSanitizer does not model. */
	for (size_t w = 0; w * 8 < n; w++) {
		uint64_t v = 0;

		memcpy(&v, s + w * 8, MIN((size_t)8, n - w * 8));
		atomic_store_explicit(&l->text[w], v, memory_order_release);
	}
	atomic_store_explicit(&l->len, n, memory_order_release);
	/* release: publishes the text; pairs with log_ring_get()'s acquire. */
	atomic_store_explicit(&l->seq, 2 * i + 2, memory_order_release);
}

int log_ring_get(struct log_ring *r, uint64_t i, char *buf)
{
	struct log_ring_line *l = &r->lines[i % LOG_RING_LINES];
	/* acquire: pairs with the release store of seq in log_ring_put(). */
	uint64_t seq = atomic_load_explicit(&l->seq, memory_order_acquire);
	/* acquire (this and the text): pairs with the release stores in
	 * log_ring_put(), so a newer write's busy mark is seen below. */
	uint64_t n = atomic_load_explicit(&l->len, memory_order_acquire);

	if (seq != 2 * i + 2 || n >= LOG_LINE_MAX)
		return -1;
	for (size_t w = 0; w * 8 < n; w++) {
		uint64_t v = atomic_load_explicit(&l->text[w], memory_order_acquire);

		memcpy(buf + w * 8, &v, MIN((size_t)8, (size_t)n - w * 8));
	}
	buf[n] = '\0';
	if (atomic_load_explicit(&l->seq, memory_order_relaxed) != seq)
		return -1;
	return (int)n;
}

void log_ring_print_tail(unsigned n, void (*out)(const char *s, size_t len))
{
	uint64_t end = atomic_load_explicit(&log_ring.next, memory_order_acquire);
	uint64_t start = end > n ? end - n : 0;
	char buf[LOG_LINE_MAX];
	int len;

	if (end - start > LOG_RING_LINES)
		start = end - LOG_RING_LINES;
	len = ksnprintf(buf, sizeof(buf), "---- the last %u log lines ----\n",
			(unsigned)(end - start));
	out(buf, (size_t)len);
	for (uint64_t i = start; i < end; i++) {
		len = log_ring_get(&log_ring, i, buf);
		if (len < 0)
			len = ksnprintf(buf, sizeof(buf), "(line %llu is being written)\n",
					(unsigned long long)i);
		out(buf, (size_t)len);
	}
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vmsg(lvl, fmt, ap);
	va_end(ap);
}
