/*
 * poll.h - the one place a poll is timed and shown to other cores:
 * poll_begin() and poll_end() around the call of a task's poll function
 * (task_run in task.c).  Private to sched/.
 *
 * Cost per poll, timed (poll timing on: poll_timed()): one
 * read of arch_cycles() (the start of a poll is the end of the one before
 * it in the same batch; sched_tick reads the counter once per batch), a
 * handful of plain stores to lines only the owner writes, and no atomic
 * read-modify-write.  So a poll's time includes the scheduler's own work
 * for it (its state transitions, some tens of ns); the histogram is log2
 * buckets, the longest poll exact.  Untimed: no clock read, the stores
 * that show the poll to other cores, and the task's poll count.  A read
 * of the TSC is some 10 ns on the machines measured, half a yield_many
 * poll (docs/PERFORMANCE.md).
 *
 * What other cores read (the watchdog, kicks): poll_seq, odd while a poll
 * runs, and the poll's start, id and name, each stored with release after
 * what it describes and loaded with acquire (sched_poll_in_progress,
 * sched_poll_describe).  The kick handler runs on the owner's own core,
 * between two instructions of the owner: signal fences order the batch
 * indexes and poll_seq for it.
 */
#ifndef HYPHAE_SCHED_POLL_H
#define HYPHAE_SCHED_POLL_H

#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "lib/trace.h"
#include "sched/scheduler.h"

/* A counter only the owner writes: no read-modify-write needed. */
static inline void poll_owner_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline unsigned poll_bucket(uint64_t cycles)
{
	unsigned b = cycles < 2 ? 0 : 63u - (unsigned)__builtin_clzll(cycles);

	return b < SCHED_POLL_BUCKETS ? b : SCHED_POLL_BUCKETS - 1;
}

/*
 * The poll-timing switch, read on every poll: a cache line of its own
 * (the type's alignment pads it), or a variable the linker puts next to
 * it, written by other cores, costs every poll a miss.
 */
struct sched_timing_flag {
	atomic_bool on;
} __cacheline_aligned;

extern struct sched_timing_flag sched_timing;

/* Is the poll about to begin timed?  One relaxed load of a read-mostly
 * flag.  Tracing does not time polls: it takes what this decides. */
static inline bool poll_timed(void)
{
	return atomic_load_explicit(&sched_timing.on, memory_order_relaxed);
}

/*
 * The ring s's tick traces to: s ticks on this core, in task context.
 * Looked up as the tick begins if tracing is on, else at its first event
 * or next batch (tracing may come on in the middle of a tick: `trace
 * COMMAND` turns it on from a poll), then kept until the tick ends; NULL
 * on a thread that runs no core.
 */
static __always_inline struct trace_ring *tick_trace_ring(struct scheduler *s)
{
	if (likely(s->trace != NULL))
		return s->trace;
	s->trace = trace_ring_here();
	return s->trace;
}

/*
 * The trace event of a poll of task `id` that began at `start` (the batch's
 * start if untimed) and ended at `end`, on s's tick's ring: inline, a
 * handful of stores.  Tracing is on: the caller found s->trace set (a
 * tick that began with tracing on traces its polls to its end) or
 * tracing on (it came on during the tick: the ring is looked up now).
 */
static __always_inline void poll_trace(struct scheduler *s, bool timed,
				       uint64_t start, uint64_t end,
				       uint64_t id, const char *name,
				       unsigned how)
{
	struct trace_ring *r = tick_trace_ring(s);

	if (r != NULL)
		trace_ring_put_word(r, timed ?
				    trace_word(TRACE_POLL,
					       trace_poll_a(how, end - start)) :
				    trace_word(TRACE_POLL, trace_poll_untimed_a(how)),
				    start, id, (uintptr_t)name);
}

/*
 * The same for the poll of task `id` that just returned, `word` its event
 * word as if untimed (trace_poll_untimed_a()): its start is in poll_start
 * (the batch's, flagged, if untimed), its name in poll_name, its end in
 * poll_clock (poll_begin, poll_end: owner-written, so relaxed).  Untimed
 * (poll timing off, the default), the word is the caller's.  The caller
 * found s->trace set: sched_tick's polls are traced from the first batch
 * of the tick after tracing came on.
 */
static __always_inline void poll_trace_ended(struct scheduler *s, uint64_t id,
					     uint64_t word)
{
	uint64_t start = atomic_load_explicit(&s->poll_start,
					      memory_order_relaxed);

	if (unlikely(!(start & SCHED_POLL_START_BATCH)))
		word = trace_word(TRACE_POLL,
				  trace_poll_a(trace_poll_how((uint32_t)word),
					       s->poll_clock - start));
	trace_ring_put_word(s->trace, word, start & ~SCHED_POLL_START_BATCH, id,
			    (uintptr_t)atomic_load_explicit(&s->poll_name,
							    memory_order_relaxed));
}

/*
 * `t` is about to be polled by s's owner; returns its start (cycles; when
 * untimed, the batch's start).  A timed poll after an untimed one reads
 * the clock for its start: poll_clock is that batch's start.
 */
static inline uint64_t poll_begin(struct scheduler *s, struct task *t,
				  bool timed)
{
	uint64_t seq = atomic_load_explicit(&s->poll_seq, memory_order_relaxed);
	uint64_t start;

	if (timed && s->poll_clock_stale) {
		s->poll_clock = arch_cycles();
		s->poll_clock_stale = false;
	}
	start = s->poll_clock;

	s->current = t;
	/* What it waits for is what this poll says (sleep_poll marks it). */
	if (atomic_load_explicit(&t->wait, memory_order_relaxed) != TASK_WAIT_ANY)
		atomic_store_explicit(&t->wait, TASK_WAIT_ANY, memory_order_relaxed);
	/* release: each names the poll whose odd poll_seq follows; pairs
	 * with the acquire loads in sched_poll_describe(). */
	atomic_store_explicit(&s->poll_id, t->id, memory_order_release);
	atomic_store_explicit(&s->poll_name, task_name(t), memory_order_release);
	atomic_store_explicit(&s->poll_start,
			      timed ? start : start | SCHED_POLL_START_BATCH,
			      memory_order_release);
	atomic_store_explicit(&s->poll_seq, seq + 1, memory_order_release);
	/* For the kick handler on this core: the poll starts after this. */
	atomic_signal_fence(memory_order_seq_cst);
	return start;
}

/* The poll of `t` that began at `start` returned (t is still alive);
 * `timed` as poll_begin was told. */
static inline void poll_end(struct scheduler *s, struct task *t, uint64_t start,
			    bool timed)
{
	uint64_t seq, end = 0, d;
	struct sched_poll_stats *ps = &s->pstats;

	atomic_signal_fence(memory_order_seq_cst);
	if (timed)
		end = arch_cycles();
	seq = atomic_load_explicit(&s->poll_seq, memory_order_relaxed);
	/* release: the poll's effects happen before another core sees it
	 * ended; pairs with the acquire loads of poll_seq. */
	atomic_store_explicit(&s->poll_seq, seq + 1, memory_order_release);
	s->current = NULL;
	atomic_store_explicit(&t->polls,
			      atomic_load_explicit(&t->polls, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (!timed) {
		s->poll_clock_stale = true;
		return;
	}
	s->poll_clock = end;
	d = end - start;
	poll_owner_add(&ps->hist[poll_bucket(d)], 1);
	if (d > atomic_load_explicit(&ps->longest, memory_order_relaxed)) {
		atomic_store_explicit(&ps->longest, d, memory_order_relaxed);
		atomic_store_explicit(&ps->longest_id, t->id, memory_order_relaxed);
		atomic_store_explicit(&ps->longest_name, task_name(t),
				      memory_order_relaxed);
	}
	poll_owner_add(&t->busy, d);
}

#endif /* HYPHAE_SCHED_POLL_H */
