/*
 * trace.h - a per-core event trace: what the runtime did, when, on which
 * core.
 *
 * Each core owns one fixed ring of TRACE_RING_EVENTS events (32 bytes
 * each) and is its only writer; the ring overwrites its oldest events
 * when full.  Task context writes with no interrupt mask: it flags the
 * ring `writing` for the few stores of one event, and a trace point in
 * an interrupt handler that finds the flag up drops its event and counts
 * it (reported with the events lost to wrapping).  Anyone may copy a ring
 * out at any time, without waiting for the writer: the ring's count of
 * events written is the seqlock (trace.c), so a copy that raced an
 * overwrite sees it and drops the events the writer may have reached
 * (counted as torn), never returning one half old, half new.  A copy
 * holds at most one event less than the ring (the slot the writer fills
 * next).  A ring counts the events written since it was last cleared;
 * the reader reports how many the ring lost by wrapping.
 *
 * Tracing is off by default.  Each trace point is one relaxed load of a
 * global flag and a branch predicted not taken (trace_event()); only when
 * it is on does a point write its core's ring.  A point on a thread that
 * runs no runtime core (arch_cpu_local() NULL: the host's main thread,
 * boot code) records nothing.
 *
 * Tracing reads no clock the scheduler does not read anyway.  The
 * scheduler's own trace points (polls, and spawns and wakes made by a
 * poll) take its stamps: with poll timing on, each poll's start and end;
 * with it off (sched_poll_timing_set()), only the batch's start, which
 * every poll of the batch then carries, marked untimed
 * (trace_poll_untimed()).  The JSON spreads a batch's untimed polls
 * evenly over the time to the core's next later stamp and says so in
 * each.  A yield_many poll is some 20 ns and a read of the TSC some 11
 * (docs/PERFORMANCE.md): a clock read per poll would double it.
 *
 * The event kinds, and what their arguments (a, x, y) hold:
 *   SPAWN        x task id, y name (const char *, the vtable's; may be NULL)
 *   POLL         one whole poll, written when it ends: ts its start, x
 *                task id, y name, a enum trace_poll_end | its duration
 *                (trace_poll_a(); the scheduler's one event per poll),
 *                or untimed: ts its batch's start (trace_poll_untimed_a())
 *   POLL_BEGIN   x task id, y name (a poll's start, for callers that
 *                record it as two events; a fault until its POLL_END
 *                names x)
 *   POLL_END     x task id, a enum trace_poll_end
 *   WAKE         x task id, a target core | TRACE_WAKE_IRQ if from an
 *                interrupt handler (the waker is the ring's core)
 *   STEAL        x tasks moved, a victim core, y when the steal began
 *   INJECT       x tasks taken from the injector, y when the take began
 *   IDLE_ENTER   (none)
 *   IDLE_EXIT    a enum arch_wake_reason: what ended the sleep
 *   IPI          a target core (a wakeup sent through arch_wake())
 *   TIMERS       x timer entries fired by one turn
 *   FAULT        x the task being polled (0: none), a vector
 *                (TRACE_FAULT_PANIC for a panic)
 * Timestamps are arch_trace_stamp()s (the TSC: a few ns to read), turned
 * into nanoseconds by their rate against arch_clock() measured from the
 * origin to the dump (trace_rate).  lib/trace_json.c turns the rings
 * into Chrome trace-event JSON.  Reference: Linux's ftrace ring buffer
 * (per-CPU, overwrite mode), Boehm, "Can Seqlocks Get Along with
 * Programming Language Memory Models?" (MSPC 2012).
 */
#ifndef HYPHAE_LIB_TRACE_H
#define HYPHAE_LIB_TRACE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Events per core's ring (a power of two): 1 MiB a core, enough for
 * `trace spawn 10000` on the core that spawns. */
#define TRACE_RING_EVENTS	32768u

enum trace_type {
	TRACE_NONE = 0,
	TRACE_SPAWN,
	TRACE_POLL_BEGIN,
	TRACE_POLL_END,
	TRACE_WAKE,
	TRACE_STEAL,
	TRACE_INJECT,
	TRACE_IDLE_ENTER,
	TRACE_IDLE_EXIT,
	TRACE_IPI,
	TRACE_TIMERS,
	TRACE_FAULT,
	TRACE_POLL,
	TRACE_TYPES,
};

/* POLL_END's a: how the poll ended (sched_tick's view of it). */
enum trace_poll_end {
	TRACE_POLL_PENDING = 0,	/* waits for a wake */
	TRACE_POLL_READY,	/* completed */
	TRACE_POLL_REQUEUED,	/* woken while polled: runs again */
	TRACE_POLL_YIELDED,	/* yielded: runs again after the tick */
	TRACE_POLL_RETIRED,	/* was cancelled: completed unpolled */
};

/*
 * POLL's a: bits 0-2 how it ended (enum trace_poll_end), bits 3-23 its
 * duration in stamps as a 16-bit mantissa and a 5-bit exponent: exact
 * below 65536 stamps (about 20 us at 3 GHz), truncated above (short by
 * less than 1/32768 of it), saturating at 0xffff << 31 (about 2^47).
 */
#define TRACE_POLL_HOW_BITS	3
#define TRACE_POLL_MANT_BITS	16

static inline uint32_t trace_poll_a(unsigned how, uint64_t stamps)
{
	unsigned e = 0;

	while ((stamps >> e) >> TRACE_POLL_MANT_BITS)
		e++;
	if (e > 31) {
		e = 31;
		stamps = (((uint64_t)1 << TRACE_POLL_MANT_BITS) - 1) << 31;
	}
	return (uint32_t)(how & 7) |
	       (uint32_t)((stamps >> e) << TRACE_POLL_HOW_BITS) |
	       (uint32_t)e << (TRACE_POLL_HOW_BITS + TRACE_POLL_MANT_BITS);
}

/*
 * An untimed poll's a: how it ended, and the exponent 31 over a mantissa
 * of 0, which trace_poll_a() never makes (it uses exponent 31 only for
 * durations of 2^47 stamps and more, mantissa 0xffff).  Its duration
 * reads as 0.
 */
#define TRACE_POLL_UNTIMED_EXP	(31u << (TRACE_POLL_HOW_BITS + TRACE_POLL_MANT_BITS))

#define TRACE_POLL_UNTIMED_A(how)	(((how) & 7u) | TRACE_POLL_UNTIMED_EXP)

static inline uint32_t trace_poll_untimed_a(unsigned how)
{
	return TRACE_POLL_UNTIMED_A(how);
}

static inline bool trace_poll_untimed(uint32_t a)
{
	return (a & ~7u) == TRACE_POLL_UNTIMED_EXP;
}

static inline unsigned trace_poll_how(uint32_t a)
{
	return a & 7;
}

static inline uint64_t trace_poll_stamps(uint32_t a)
{
	uint64_t mant = (a >> TRACE_POLL_HOW_BITS) &
			((1u << TRACE_POLL_MANT_BITS) - 1);

	return mant << ((a >> (TRACE_POLL_HOW_BITS + TRACE_POLL_MANT_BITS)) & 31);
}

/* WAKE's a: the waker ran in an interrupt handler. */
#define TRACE_WAKE_IRQ		(1u << 23)
#define TRACE_WAKE_CORE_MASK	(TRACE_WAKE_IRQ - 1)
/* FAULT's a for a panic (CPU exception vectors are below 32). */
#define TRACE_FAULT_PANIC	0xffffu
/* The largest a (24 bits); counts in x are full 64-bit. */
#define TRACE_A_MAX		0xffffffu

/* One event as it sits in a ring.  word: type (8 bits), a (24 bits). */
struct trace_event {
	_Atomic uint64_t word;
	_Atomic uint64_t ts;
	_Atomic uint64_t x;
	_Atomic uint64_t y;
};

struct trace_ring {
	/* Written by the owning core only; read by anyone. */
	_Atomic uint64_t written;	/* events ever written */
	/* Owner only: the task inside a traced poll (FAULT's x), 0: none. */
	uint64_t polling;
	/* Written by trace_ring_clear() on any core: events before this
	 * index are not read. */
	_Atomic uint64_t cleared;
	/* Events an interrupt handler dropped because it came while task
	 * context was writing (written by handlers on the owning core,
	 * which do not nest); `dropped` at the last clear. */
	_Atomic uint64_t dropped;
	_Atomic uint64_t cleared_dropped;
	/* Set by task context on the owning core around each event it
	 * writes; read by interrupt handlers on the same core (signal
	 * fences order it). */
	_Atomic unsigned char writing;
	/* Constant after trace_ring_init(). */
	unsigned core;
	uint32_t mask;			/* events - 1 */
	struct trace_event ev[] __aligned(32);
};

/* Bytes of a ring of `events` events. */
#define TRACE_RING_BYTES(events) \
	(sizeof(struct trace_ring) + (size_t)(events) * sizeof(struct trace_event))

/* An event copied out of a ring. */
struct trace_record {
	uint64_t ts, x, y;
	uint32_t a;
	uint8_t type;
};

/* What one trace_ring_copy() found. */
struct trace_read {
	uint64_t first;		/* index of the oldest event looked at */
	size_t copied;		/* records returned */
	uint64_t lost;		/* not copied: overwritten before the copy (the
				 * ring wrapped), in the slot the writer fills
				 * next (a full ring's oldest), beyond the
				 * caller's buffer, or dropped by an interrupt
				 * handler */
	uint64_t torn;		/* overwritten while being copied: dropped */
};

/* ---- one ring ----------------------------------------------------------- */

/*
 * Initialise caller storage of TRACE_RING_BYTES(events) bytes as the
 * empty ring of `core`; events is a power of two.  Before anyone uses it.
 */
void trace_ring_init(struct trace_ring *r, unsigned core, size_t events);

/* An event's word: type (8 bits) over a (24 bits). */
#define TRACE_TYPE_SHIFT	24
#define TRACE_TYPE_MASK		0xffu

/* The word of an event of `type` with argument a: a constant expression
 * of constant arguments (for tables of words), else trace_word(). */
#define TRACE_WORD(type, a) \
	((((uint64_t)(type) & TRACE_TYPE_MASK) << TRACE_TYPE_SHIFT) | \
	 ((uint64_t)(a) & TRACE_A_MAX))

static __always_inline uint64_t trace_word(enum trace_type type, uint32_t a)
{
	return TRACE_WORD(type, a);
}

/*
 * Append one event, its word made already (trace_word()), overwriting
 * the oldest when full.  The owning core only, never reentered: an
 * interrupt handler on the core does not write while task context is
 * (trace_ring_put()).  Five plain stores on x86_64: the event's four
 * words, then the count.  The writer's half of the seqlock that trace.c's
 * header draws: the count stored by the event before (release) is this
 * event's reservation, and every field store is a release, so a reader
 * that loads a field of this event also sees that count, and so knows
 * the slot may be changing under it.
 */
static __always_inline void trace_ring_write_word(struct trace_ring *r,
						  uint64_t word, uint64_t ts,
						  uint64_t x, uint64_t y)
{
	/* relaxed: only this core writes `written`. */
	uint64_t i = atomic_load_explicit(&r->written, memory_order_relaxed);
	struct trace_event *e = &r->ev[i & r->mask];

	/* release, each: a reader that loads one of these (acquire) sees
	 * `written` >= i when it looks again, and drops the slot. */
	atomic_store_explicit(&e->ts, ts, memory_order_release);
	atomic_store_explicit(&e->x, x, memory_order_release);
	atomic_store_explicit(&e->y, y, memory_order_release);
	atomic_store_explicit(&e->word, word, memory_order_release);
	/* release: a reader that sees the count sees the event complete;
	 * it is also the next event's reservation (above). */
	atomic_store_explicit(&r->written, i + 1, memory_order_release);
}

/* The same, of `type` with argument a. */
static __always_inline void trace_ring_write(struct trace_ring *r,
					     enum trace_type type, uint32_t a,
					     uint64_t ts, uint64_t x, uint64_t y)
{
	trace_ring_write_word(r, trace_word(type, a), ts, x, y);
}

/*
 * Append one event from task context on the ring's own core, with
 * interrupts enabled: `writing` is up for the stores, so a trace point in
 * an interrupt handler that lands among them drops its own event instead
 * (trace_record_at()).  The signal fences keep the compiler from moving
 * the stores out from under the flag; the handler runs on this core, so
 * program order is all it needs.
 */
static __always_inline void trace_ring_put_word(struct trace_ring *r,
						uint64_t word, uint64_t ts,
						uint64_t x, uint64_t y)
{
	atomic_store_explicit(&r->writing, 1, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	trace_ring_write_word(r, word, ts, x, y);
	atomic_signal_fence(memory_order_seq_cst);
	atomic_store_explicit(&r->writing, 0, memory_order_relaxed);
}

static __always_inline void trace_ring_put(struct trace_ring *r,
					   enum trace_type type, uint32_t a,
					   uint64_t ts, uint64_t x, uint64_t y)
{
	trace_ring_put_word(r, trace_word(type, a), ts, x, y);
}

/*
 * Copy the ring's events since its last clear, oldest first, into out
 * (room for max; the newest max are kept, and at most events - 1: the
 * slot the writer fills next is not read), and say in *rd what was lost
 * to wrapping or torn by a concurrent overwrite.  Any core, any time,
 * while the owner writes; lock-free (never waits for the writer).
 */
void trace_ring_copy(struct trace_ring *r, struct trace_record *out,
		     size_t max, struct trace_read *rd);

/*
 * Of n events copied from index `first` up, how many (the oldest) may
 * have been overwritten during the copy, given that the ring's count was
 * `now` after it (a ring of mask + 1 events): those below now - mask.
 * trace_ring_copy()'s second look.
 */
static inline size_t trace_copy_torn(uint64_t first, size_t n, uint64_t now,
				     uint32_t mask)
{
	if (now < mask || now - mask <= first)
		return 0;
	return now - mask - first < n ? (size_t)(now - mask - first) : n;
}

/* Forget the events written so far (they are not read again).  Any core. */
void trace_ring_clear(struct trace_ring *r);

/* ---- the per-core trace ------------------------------------------------- */

extern atomic_bool trace_on;

/* True while tracing is on: one relaxed load; any context. */
static __always_inline bool trace_enabled(void)
{
	return unlikely(atomic_load_explicit(&trace_on, memory_order_relaxed));
}

/*
 * Give cores 0 .. ncores-1 a ring each (those that have none yet), of
 * TRACE_RING_EVENTS events.  0, or -ENOMEM (the cores that got one keep
 * it).  Task context; one caller at a time (the shell, a benchmark).
 */
int __must_check trace_setup(unsigned ncores);

/*
 * Turn tracing on or off.  Turning it on with nothing recorded since the
 * last clear starts the clock origin (trace_epoch) now.  Any core.
 */
void trace_set_enabled(bool on);

/* Clear every ring and restart the origin at now.  Any core. */
void trace_clear(void);

/* The calling core's ring: NULL on a thread that runs no core, or for a
 * core without a ring.  Any context. */
struct trace_ring *trace_ring_here(void);

/* Core i's ring, or NULL; the number of cores with a ring so far. */
struct trace_ring *trace_ring_of(unsigned core);
unsigned trace_cores(void);

/* The stamp the trace counts time from (trace_json's zero). */
uint64_t trace_epoch(void);

/* The trace's timestamp, now (arch_trace_stamp()).  Any context. */
uint64_t trace_now(void);

/*
 * The stamps' rate: *ns nanoseconds of arch_clock() passed in *stamps
 * stamps since the origin (waits until at least 1 ms has).  Task
 * context.
 */
void trace_rate(uint64_t *ns, uint64_t *stamps);

/*
 * Record one event on the calling core's ring, now: for trace_event()
 * after its check.  Nothing on a thread that runs no core or a core
 * without a ring.  Any context, interrupts included (an interrupt
 * handler's event is dropped and counted if it came while task context
 * was writing one).
 */
void trace_record(enum trace_type type, uint32_t a, uint64_t x, uint64_t y);

/* The same with a stamp the caller read already (a poll's start or end,
 * which the scheduler reads for its poll times: one stamp for both). */
void trace_record_at(enum trace_type type, uint32_t a, uint64_t ts,
		     uint64_t x, uint64_t y);

/* A trace point: records only while tracing is on. */
static __always_inline void trace_event(enum trace_type type, uint32_t a,
					uint64_t x, uint64_t y)
{
	if (trace_enabled())
		trace_record(type, a, x, y);
}

/*
 * A whole poll, begin and end in one event, written when it ends: `start`
 * and `end` are the stamps the scheduler read for its poll times.  One
 * event a poll is half the ring traffic of a POLL_BEGIN/POLL_END pair; a
 * poll still running has no event yet (the watchdog reports a stuck one).
 * The scheduler writes its polls' events with trace_ring_put() on the
 * ring its tick looked up (sched/poll.h); this is the same event on the
 * calling core's ring, looked up now.
 */
static __always_inline void trace_poll(uint64_t start, uint64_t end,
				       uint64_t id, const char *name,
				       unsigned how)
{
	if (trace_enabled())
		trace_record_at(TRACE_POLL, trace_poll_a(how, end - start), start,
				id, (uintptr_t)name);
}

/*
 * A CPU exception (vector) or panic on this core: a FAULT event naming
 * the task this core was polling: the poll-id hook's answer, else the
 * open POLL_BEGIN's.  Fault and panic paths.
 */
void trace_fault(unsigned vector);

/* The runtime's answer to "which task is this core polling" (its id, 0:
 * none), for trace_fault(): set by rt_init(); returns the hook before. */
typedef uint64_t (*trace_poll_id_fn)(void);
trace_poll_id_fn trace_set_poll_id_hook(trace_poll_id_fn fn);

/* Short names for the JSON and the gdb commands ("spawn", "idle" ...). */
const char *trace_type_name(enum trace_type type);

#endif /* HYPHAE_LIB_TRACE_H */
