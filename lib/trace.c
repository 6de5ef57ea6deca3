/*
 * trace.c - the per-core trace rings (see trace.h for the design).
 *
 * The ring's count, `written`, is the seqlock.  The writer
 * (trace_ring_write(), inline in trace.h) stores event i's fields into
 * slot i mod N, then written = i + 1.  That store is also event i + 1's
 * reservation: the writer stores it before any field of event i + 1, the
 * one that overwrites the slot of event i + 1 - N.  A reader loads
 * written (h), copies events h - (N - 1) .. h - 1 (the slot of h, which
 * the writer fills next, is left out), then loads written again (w).  A
 * field it copied from an event k newer than the one it wanted came
 * after written = k, so w >= k; so every event below w + 1 - N may have
 * been overwritten during the copy and is dropped (torn, always the
 * oldest), and every event from it up was copied whole.  The writer
 * makes one store a field and one for the count; a copy that no write
 * raced drops nothing as torn (the oldest event of a full ring, in the
 * slot the writer fills next, is left out and counted as lost).
 *
 * Every field is an atomic, so the race itself is defined behaviour and
 * ThreadSanitizer sees no data race.  No fences (ThreadSanitizer does not
 * model them): the fields are stored with release and loaded with
 * acquire instead, so a reader that loads a field of event k also sees
 * written = k stored before it (on x86_64 every one of these is a plain
 * mov).
 *
 *   writer (owner core)                  reader (any core)
 *   (written = i, the event before)      h = written          acquire
 *   ts, x, y, word of slot i  release    copy h-(N-1) .. h-1  acquire
 *   written = i + 1           release    w = written          acquire
 *                                        keep those >= w + 1 - N
 * Reference: the seqlock of Linux's include/linux/seqlock.h, with the
 * ring's count as its sequence; Boehm (trace.h).
 */
#include <stdatomic.h>

#include "arch.h"
#include "clock.h"
#include "config.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "panic.h"

/* The flag every trace point loads: a line of its own, read-mostly. */
atomic_bool trace_on __cacheline_aligned;

/* Rings by core; a ring, once published, stays for good. */
static _Atomic(struct trace_ring *) rings[MAX_CORES];
static atomic_uint ring_cores;
/* The origin, in stamps, and the clock (ns) at the same moment: the pair
 * trace_rate() measures the stamps' rate from. */
static atomic_uint_least64_t epoch;
static atomic_uint_least64_t epoch_ns;

/* How long trace_rate() measures at least. */
#define RATE_MIN_NS	1000000ull

void trace_ring_init(struct trace_ring *r, unsigned core, size_t events)
{
	kassert(events >= 2 && (events & (events - 1)) == 0);
	atomic_init(&r->written, 0);
	r->polling = 0;
	atomic_init(&r->cleared, 0);
	atomic_init(&r->dropped, 0);
	atomic_init(&r->cleared_dropped, 0);
	atomic_init(&r->writing, 0);
	r->core = core;
	r->mask = (uint32_t)(events - 1);
	for (size_t i = 0; i < events; i++) {
		atomic_init(&r->ev[i].word, 0);
		atomic_init(&r->ev[i].ts, 0);
		atomic_init(&r->ev[i].x, 0);
		atomic_init(&r->ev[i].y, 0);
	}
}

void trace_ring_copy(struct trace_ring *r, struct trace_record *out,
		     size_t max, struct trace_read *rd)
{
	/* acquire: pairs with the release store of `written`; every event
	 * below it is complete. */
	uint64_t end = atomic_load_explicit(&r->written, memory_order_acquire);
	uint64_t start = atomic_load_explicit(&r->cleared, memory_order_relaxed);
	/* The slot of `end` is the writer's next: never read. */
	uint64_t cap = r->mask;
	uint64_t now, dropped, mark;
	size_t n, torn;

	rd->copied = 0;
	rd->lost = 0;
	rd->torn = 0;
	if (start > end)
		start = end;
	/* Older than one ring's worth: overwritten already. */
	if (end - start > cap) {
		rd->lost = end - start - cap;
		start = end - cap;
	}
	/* The caller's buffer keeps the newest. */
	if (end - start > max) {
		rd->lost += end - start - max;
		start = end - max;
	}
	/* relaxed: a count a handler raises meanwhile shows next time.  A
	 * clear between the two loads can leave the mark above the count
	 * read first: nothing dropped since, then. */
	dropped = atomic_load_explicit(&r->dropped, memory_order_relaxed);
	mark = atomic_load_explicit(&r->cleared_dropped, memory_order_relaxed);
	if (dropped > mark)
		rd->lost += dropped - mark;
	rd->first = start;
	n = (size_t)(end - start);
	for (size_t k = 0; k < n; k++) {
		const struct trace_event *e = &r->ev[(start + k) & r->mask];
		struct trace_record *o = &out[k];
		uint64_t w;

		/* acquire, each: a field of a newer event brings the count
		 * its writer stored before it (the look below sees it). */
		o->ts = atomic_load_explicit(&e->ts, memory_order_acquire);
		o->x = atomic_load_explicit(&e->x, memory_order_acquire);
		o->y = atomic_load_explicit(&e->y, memory_order_acquire);
		w = atomic_load_explicit(&e->word, memory_order_acquire);
		o->type = (uint8_t)((w >> TRACE_TYPE_SHIFT) & TRACE_TYPE_MASK);
		o->a = (uint32_t)(w & TRACE_A_MAX);
	}
	/* The second look: the writer may have reached event `now` (it
	 * reserved it), so the slots of now - N and older may be torn. */
	now = atomic_load_explicit(&r->written, memory_order_acquire);
	torn = trace_copy_torn(start, n, now, r->mask);
	if (torn) {
		memmove(out, out + torn, (n - (size_t)torn) * sizeof(*out));
		n -= (size_t)torn;
	}
	rd->copied = n;
	rd->torn = torn;
}

void trace_ring_clear(struct trace_ring *r)
{
	/* relaxed: a reader that misses the mark only shows more. */
	atomic_store_explicit(&r->cleared,
			      atomic_load_explicit(&r->written, memory_order_acquire),
			      memory_order_relaxed);
	atomic_store_explicit(&r->cleared_dropped,
			      atomic_load_explicit(&r->dropped, memory_order_relaxed),
			      memory_order_relaxed);
}

/* ---- the per-core trace ------------------------------------------------- */

uint64_t trace_now(void)
{
	return arch_trace_stamp();
}

static uint64_t clock_ns(void)
{
	const struct clock *clk = arch_clock();

	return clk->now(clk) * clk->tick_ns;
}

/* Start the origin now: a stamp and the clock, read back to back. */
static void set_epoch(void)
{
	atomic_store_explicit(&epoch_ns, clock_ns(), memory_order_relaxed);
	atomic_store_explicit(&epoch, trace_now(), memory_order_relaxed);
}

void trace_rate(uint64_t *ns, uint64_t *stamps)
{
	uint64_t n0 = atomic_load_explicit(&epoch_ns, memory_order_relaxed);
	uint64_t s0 = atomic_load_explicit(&epoch, memory_order_relaxed);
	uint64_t n1, s1;

	/* Long enough that the reads' jitter is small against it. */
	do {
		n1 = clock_ns();
		s1 = trace_now();
	} while (n1 - n0 < RATE_MIN_NS && n1 >= n0);
	*ns = n1 - n0;
	*stamps = s1 - s0;
	if (*ns == 0 || *stamps == 0 || n1 < n0 || s1 < s0)
		*ns = *stamps = 1;
}

int trace_setup(unsigned ncores)
{
	if (ncores > MAX_CORES)
		ncores = MAX_CORES;
	for (unsigned i = 0; i < ncores; i++) {
		struct trace_ring *r;

		if (atomic_load_explicit(&rings[i], memory_order_relaxed))
			continue;
		r = kmalloc_aligned(TRACE_RING_BYTES(TRACE_RING_EVENTS), CACHE_LINE);
		if (r == NULL)
			return -ENOMEM;
		trace_ring_init(r, i, TRACE_RING_EVENTS);
		/* release: publishes the initialised ring; pairs with the
		 * acquire loads in trace_record() and trace_ring_of(). */
		atomic_store_explicit(&rings[i], r, memory_order_release);
		if (atomic_load_explicit(&ring_cores, memory_order_relaxed) < i + 1)
			atomic_store_explicit(&ring_cores, i + 1, memory_order_relaxed);
	}
	return 0;
}

/* True if no ring holds an event since its last clear. */
static bool trace_empty(void)
{
	unsigned n = trace_cores();

	for (unsigned i = 0; i < n; i++) {
		struct trace_ring *r = trace_ring_of(i);

		if (r && atomic_load_explicit(&r->written, memory_order_relaxed) !=
		    atomic_load_explicit(&r->cleared, memory_order_relaxed))
			return false;
	}
	return true;
}

void trace_set_enabled(bool on)
{
	if (on && trace_empty())
		set_epoch();
	/* relaxed: trace points notice soon; nothing is published by it. */
	atomic_store_explicit(&trace_on, on, memory_order_relaxed);
}

void trace_clear(void)
{
	unsigned n = trace_cores();

	set_epoch();
	for (unsigned i = 0; i < n; i++) {
		struct trace_ring *r = trace_ring_of(i);

		if (r)
			trace_ring_clear(r);
	}
}

struct trace_ring *trace_ring_of(unsigned core)
{
	if (core >= MAX_CORES)
		return NULL;
	/* acquire: pairs with the release store in trace_setup(). */
	return atomic_load_explicit(&rings[core], memory_order_acquire);
}

unsigned trace_cores(void)
{
	return atomic_load_explicit(&ring_cores, memory_order_relaxed);
}

uint64_t trace_epoch(void)
{
	return atomic_load_explicit(&epoch, memory_order_relaxed);
}

struct trace_ring *trace_ring_here(void)
{
	if (arch_cpu_local() == NULL)
		return NULL;
	return trace_ring_of(arch_cpu_index());
}

void trace_record(enum trace_type type, uint32_t a, uint64_t x, uint64_t y)
{
	trace_record_at(type, a, trace_now(), x, y);
}

void trace_record_at(enum trace_type type, uint32_t a, uint64_t ts,
		     uint64_t x, uint64_t y)
{
	struct trace_ring *r = trace_ring_here();

	if (r == NULL)
		return;
	if (!arch_in_interrupt()) {
		if (type == TRACE_POLL_BEGIN)
			r->polling = x;
		else if (type == TRACE_POLL_END)
			r->polling = 0;
		trace_ring_put(r, type, a, ts, x, y);
		return;
	}
	/* A handler that interrupted task context in the middle of an event
	 * would mix the two: drop this one, and count it.  Handlers on one
	 * core do not nest, so the count has one writer at a time. */
	if (atomic_load_explicit(&r->writing, memory_order_relaxed)) {
		atomic_store_explicit(&r->dropped,
				      atomic_load_explicit(&r->dropped,
							   memory_order_relaxed) + 1,
				      memory_order_relaxed);
		return;
	}
	trace_ring_write(r, type, a, ts, x, y);
}

static _Atomic trace_poll_id_fn poll_id_hook;

trace_poll_id_fn trace_set_poll_id_hook(trace_poll_id_fn fn)
{
	return atomic_exchange_explicit(&poll_id_hook, fn, memory_order_relaxed);
}

void trace_fault(unsigned vector)
{
	trace_poll_id_fn hook = atomic_load_explicit(&poll_id_hook,
						     memory_order_relaxed);
	struct trace_ring *r;
	uint64_t id = 0;

	if (!trace_enabled() || (r = trace_ring_here()) == NULL)
		return;
	if (hook)
		id = hook();
	if (id == 0)
		id = r->polling;
	trace_ring_write(r, TRACE_FAULT, vector & TRACE_A_MAX, trace_now(),
			 id, 0);
}

const char *trace_type_name(enum trace_type type)
{
	static const char *const names[TRACE_TYPES] = {
		[TRACE_NONE] = "none",
		[TRACE_SPAWN] = "spawn",
		[TRACE_POLL_BEGIN] = "poll-begin",
		[TRACE_POLL_END] = "poll-end",
		[TRACE_WAKE] = "wake",
		[TRACE_STEAL] = "steal",
		[TRACE_INJECT] = "injector",
		[TRACE_IDLE_ENTER] = "idle",
		[TRACE_IDLE_EXIT] = "idle-end",
		[TRACE_IPI] = "ipi",
		[TRACE_TIMERS] = "timers",
		[TRACE_FAULT] = "fault",
		[TRACE_POLL] = "poll",
	};

	if ((unsigned)type >= TRACE_TYPES)
		return "?";
	return names[type];
}
