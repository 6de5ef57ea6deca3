/*
 * scheduler.c - per-core run queues, ticks, the injector and the stealer.
 *
 * A queued task carries one reference owned by the queue.  sched_tick()
 * takes the consumer lock once per batch of up to SCHED_TICK_BATCH tasks,
 * so a thief can slip in between batches; a BUSY queue ends the tick.
 * Counters are relaxed atomics: those written by one owner use load+store
 * (no locked instruction), shared ones fetch_add.  Stealing takes the victim's consumer lock, dequeues at most
 * the asked number of tasks, completes cancelled ones instead of moving
 * them, and rebinds the rest to the thief before enqueueing them there.
 * Reference: Mycelium maitake scheduler.rs, scheduler/steal.rs.
 */
#include <string.h>

#include "arch.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/trace.h"
#include "panic.h"
#include "sched/poll.h"
#include "sched/sched_internal.h"

/*
 * The trace event word of a poll that ended with sched_tick to trace it,
 * as if untimed (poll_trace_ended() makes a timed one's from its how),
 * by what task_run() returned (one load on the hot path); 0 for the two
 * endings task_run() traced itself, the last two values.
 */
#define POLL_UNTIMED_WORD(how)	TRACE_WORD(TRACE_POLL, TRACE_POLL_UNTIMED_A(how))
static const uint32_t trace_poll_word_of[] = {
	[TASK_RUN_PENDING] = POLL_UNTIMED_WORD(TRACE_POLL_PENDING),
	[TASK_RUN_REQUEUE] = POLL_UNTIMED_WORD(TRACE_POLL_REQUEUED),
	[TASK_RUN_YIELDED] = POLL_UNTIMED_WORD(TRACE_POLL_YIELDED),
	[TASK_RUN_YIELDED_WOKEN] = POLL_UNTIMED_WORD(TRACE_POLL_YIELDED),
	[TASK_RUN_DONE] = 0,
	[TASK_RUN_RETIRED] = 0,
};
_Static_assert(ARRAY_SIZE(trace_poll_word_of) == TASK_RUN_RETIRED + 1 &&
	       TASK_RUN_DONE + 1 == TASK_RUN_RETIRED,
	       "trace_poll_word_of: every task_run() result, the two that "
	       "task_run() traces last");

/* A counter only one thread writes: no read-modify-write needed. */
static inline void owner_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}

static inline void shared_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_fetch_add_explicit(c, n, memory_order_relaxed);
}

static inline uint64_t counter(_Atomic uint64_t *c)
{
	return atomic_load_explicit(c, memory_order_relaxed);
}

struct sched_timing_flag sched_timing;

void sched_poll_timing_set(bool on)
{
	atomic_store_explicit(&sched_timing.on, on, memory_order_relaxed);
}

bool sched_poll_timing(void)
{
	return atomic_load_explicit(&sched_timing.on, memory_order_relaxed);
}

void sched_init(struct scheduler *s, unsigned index,
		const struct sched_hooks *hooks)
{
	mpsc_init(&s->queue, &s->stub);
	atomic_init(&s->queued, 0);
	atomic_init(&s->spawned, 0);
	atomic_init(&s->woken_external, 0);
	atomic_init(&s->stolen_out, 0);
	atomic_init(&s->polled, 0);
	atomic_init(&s->queued_own, 0);
	atomic_init(&s->spawned_own, 0);
	atomic_init(&s->completed, 0);
	atomic_init(&s->woken_internal, 0);
	atomic_init(&s->stolen_in, 0);
	atomic_init(&s->pulled_in, 0);
	task_cache_init(&s->cache);
	for (unsigned i = 0; i < SCHED_POLL_BUCKETS; i++)
		atomic_init(&s->pstats.hist[i], 0);
	atomic_init(&s->pstats.longest, 0);
	atomic_init(&s->pstats.longest_id, 0);
	atomic_init(&s->pstats.longest_name, NULL);
	atomic_init(&s->pstats.released, 0);
	atomic_init(&s->pstats.faulted, 0);
	atomic_init(&s->poll_seq, 0);
	atomic_init(&s->tick_seq, 0);
	atomic_init(&s->poll_start, 0);
	atomic_init(&s->poll_id, 0);
	atomic_init(&s->poll_name, NULL);
	atomic_init(&s->batch_next, 0);
	atomic_init(&s->batch_end, 0);
	atomic_init(&s->lifo, NULL);
	atomic_init(&s->lifo_closed, 0);
	s->current = NULL;
	s->poll_clock = 0;
	s->poll_clock_stale = true;
	s->trace = NULL;
	s->njoin_wakes = 0;
	s->reg_ndone = 0;
	registry_init(s);
	s->hooks = hooks ? *hooks : (struct sched_hooks){ 0 };
	s->index = index;
}

/*
 * Does the caller run on s's owner (the on_owner hook's question)?  Inside
 * s's own tick - where nearly every spawn, wake and free of the owner
 * happens - arch_cpu_sched() is s, and only the owner ticks s: a load and
 * a compare instead of the hook's indirect call.  A scheduler without the
 * hook has no owner.
 */
static inline bool on_owner(struct scheduler *s)
{
	if (s->hooks.on_owner == NULL)
		return false;
	return arch_cpu_sched() == s || s->hooks.on_owner(s->hooks.arg);
}

/*
 * The caller is s's owner in task context: it may change the owner's
 * words (queued_own, spawned_own) with a load and a store.  Not in an
 * interrupt handler, which may land between the owner's two.
 */
static inline bool owner_task(struct scheduler *s)
{
	return on_owner(s) && !arch_in_interrupt();
}

/* Queue `t` on `s`; its run-queue reference moves into the queue.  `own`:
 * the caller is the owner in task context (owner_task). */
static void sched_push(struct scheduler *s, struct task *t, bool own)
{
	/* Count first, so the count never goes below the real length. */
	if (own)
		sched_queued_own_add(s, 1);
	else
		atomic_fetch_add_explicit(&s->queued, 1, memory_order_relaxed);
	mpsc_enqueue(&s->queue, &t->run_node);
}

static void sched_notify(struct scheduler *s)
{
	if (s->hooks.notify)
		s->hooks.notify(s->hooks.arg);
}

/*
 * A trace event stamped `ts` on this core's ring: inline on the ring of
 * `cur`'s tick (arch_cpu_sched(), in task context), else through
 * trace_record_at() (outside a tick, or in an interrupt handler).
 */
static __always_inline void tick_trace(struct scheduler *cur,
				       enum trace_type type, uint32_t a,
				       uint64_t ts, uint64_t x, uint64_t y)
{
	struct trace_ring *r;

	if (likely(cur && !arch_in_interrupt() &&
		   (r = tick_trace_ring(cur)) != NULL))
		trace_ring_put(r, type, a, ts, x, y);
	else
		trace_record_at(type, a, ts, x, y);
}

/*
 * The trace's wake event, on the waker's ring.  A wake from a poll takes
 * the poll's stamp (its start, or its batch's if untimed), as a spawn
 * from one does: no clock read.  Not inlined: in count_wake() it would
 * make every wake save five more registers, traced or not.
 */
static __noinline void trace_wake(struct scheduler *s, struct task *t)
{
	struct scheduler *cur = arch_cpu_sched();
	bool irq = arch_in_interrupt();

	tick_trace(cur, TRACE_WAKE, s->index | (irq ? TRACE_WAKE_IRQ : 0),
		   cur && !irq ? cur->poll_clock : trace_now(), t->id, 0);
}

/* sched_count_wake(); true if the on_owner hook said the owner woke. */
static bool count_wake(struct scheduler *s, struct task *t)
{
	if (trace_enabled())
		trace_wake(s, t);
	if (on_owner(s)) {
		owner_add(&s->woken_internal, 1);
		return true;
	}
	shared_add(&s->woken_external, 1);
	return false;
}

void sched_count_wake(struct scheduler *s, struct task *t)
{
	(void)count_wake(s, t);
}

/*
 * Put t (runnable, its run-queue reference passed, not counted) in s's
 * LIFO slot, for the owner inside a poll of s: LIFO_PLACED if it went
 * there (or, if a kick came meanwhile, to the queue); LIFO_BUSY if the
 * slot is taken, LIFO_CLOSED if a kick already emptied it in this poll
 * (the caller queues t; see lifo_queue).
 *
 * The kick handler runs on this core between any two of our
 * instructions, while the poll runs.  If it comes between our look and
 * our store it finds the slot empty, and no watcher kicks this poll
 * again, so we look at lifo_closed once more after the store and hand t
 * to the queue ourselves; with an exchange, since a late kick (sent for
 * an earlier poll) may still take it.
 */
enum lifo_fill { LIFO_PLACED, LIFO_BUSY, LIFO_CLOSED };

static enum lifo_fill lifo_fill(struct scheduler *s, struct task *t)
{
	uint64_t seq = atomic_load_explicit(&s->poll_seq, memory_order_relaxed);

	if (atomic_load_explicit(&s->lifo_closed, memory_order_relaxed) == seq)
		return LIFO_CLOSED;
	if (atomic_load_explicit(&s->lifo, memory_order_relaxed) != NULL)
		return LIFO_BUSY;
	atomic_store_explicit(&s->lifo, t, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&s->lifo_closed, memory_order_relaxed) == seq) {
		t = atomic_exchange_explicit(&s->lifo, NULL, memory_order_relaxed);
		if (t) {
			sched_push(s, t, true);
			sched_notify(s);
		}
	}
	return LIFO_PLACED;
}

/*
 * Queue t, which lifo_fill() did not place, for the owner inside a poll.
 * After a kick (LIFO_CLOSED) the poll is known to run long, and a task
 * queued behind it now was not there for the kick to hand over: the batch
 * hook makes an idle core look again, and take it from the queue.
 */
static void lifo_queue(struct scheduler *s, struct task *t, enum lifo_fill r)
{
	sched_push(s, t, true);
	sched_notify(s);
	if (r == LIFO_CLOSED && s->hooks.batch)
		s->hooks.batch(s->hooks.arg);
}

/*
 * The scheduler a woken task goes to: its own, or - when a poll on
 * another core of the same runtime woke it and the pull hook agrees (the
 * runtime's, rt_slot_pull: its own core has a higher number and is busy,
 * so it would wait there anyway, or asleep, so it would cost a wakeup;
 * and ours is not stopping) - the waker's core, which it is rebound to (tokio
 * schedules a wake from a worker on that worker).  The woken task then
 * runs next on the waker's core, from the LIFO slot, with what the waker
 * just wrote still in this core's cache: a lock or semaphore permit
 * handed to it, a message sent to it.  Stealing spreads the load again.
 * Not for pinned tasks, not from interrupt handlers (the timer's and the
 * devices' wakes keep the binding), not from the core loop outside a
 * poll.  A pulled task waits for our poll to return; the runtime watches
 * the LIFO slot as it watches a batch, and a kick hands it back if the
 * poll runs long.
 *
 * The caller moved t out of idle into WOKEN, so the enqueue is ours: no
 * queue holds t and no one else reads t->sched to enqueue it until it is
 * polled, so a store rebinds it, as a thief's does.
 */
static struct scheduler *wake_target(struct scheduler *s, struct task *t)
{
	struct scheduler *cur = arch_cpu_sched();

	if (cur == NULL || cur == s || cur->current == NULL ||
	    cur->hooks.pull == NULL || cur->hooks.pull != s->hooks.pull ||
	    (task_state_load(t) & TASK_PINNED) || arch_in_interrupt() ||
	    !cur->hooks.pull(cur->hooks.arg, s->hooks.arg))
		return s;
	/* release: as a thief's rebind (steal_take_one). */
	atomic_store_explicit(&t->sched, cur, memory_order_release);
	owner_add(&cur->pulled_in, 1);
	return cur;
}

void sched_enqueue_woken(struct scheduler *s, struct task *t)
{
	if (s == NULL)
		panic("sched_enqueue_woken: task %llu is bound to no scheduler",
		      (unsigned long long)t->id);
	s = wake_target(s, t);
	if (count_wake(s, t) && !arch_in_interrupt()) {
		/*
		 * The owner woke it inside a poll of s (current is set only
		 * there, and only the owner reads it): it runs when that poll
		 * returns, from the LIFO slot, if the slot is free (tokio's
		 * LIFO slot).  A kick in the meantime puts it on the queue.
		 */
		if (s->current != NULL) {
			enum lifo_fill r = lifo_fill(s, t);

			if (r != LIFO_PLACED)
				lifo_queue(s, t, r);
			return;
		}
		sched_push(s, t, true);
	} else {
		sched_push(s, t, false);
	}
	sched_notify(s);
}

/* `own`: the caller is s's owner in task context (owner_task); `cur`:
 * the calling core's scheduler (arch_cpu_sched()), or NULL. */
static void sched_spawn_task(const struct task_site *site, struct scheduler *s,
			     struct scheduler *cur, struct task *t,
			     const struct task_vtable *vt, uint64_t flags,
			     struct join_handle *jh, bool own)
{
	uint64_t seq, id;

	/* The spawn counters double as the id sequences (one atomic less);
	 * the owner's is a load and a store. */
	if (own) {
		seq = atomic_load_explicit(&s->spawned_own, memory_order_relaxed) + 1;
		atomic_store_explicit(&s->spawned_own, seq, memory_order_relaxed);
	} else {
		seq = (atomic_fetch_add_explicit(&s->spawned, 1,
						 memory_order_relaxed) + 1) |
		      SCHED_ID_REMOTE;
	}
	id = ((uint64_t)(s->index + 1) << SCHED_ID_SHIFT) | seq;
	/* A spawn from a poll is as old as that poll (no clock read); the
	 * trace's spawn event takes the same stamp. */
	uint64_t born = cur ? cur->poll_clock : arch_cycles();

	task_prepare(t, vt, id, s, flags, jh, site, born);
	if (trace_enabled())
		tick_trace(cur, TRACE_SPAWN, 0, born, id, (uintptr_t)task_name(t));
	/*
	 * A spawn by a poll of s's owner onto s: polled when that poll
	 * returns, from the LIFO slot, if the slot is free (as a task the
	 * poll wakes; a kick hands it back to the queue if the poll runs
	 * long).  Every task is listed in the registry once a poll of it
	 * returns PENDING (task_run), so one that completes in its first
	 * poll never touches a list.
	 */
	if (own && cur == s && s->current != NULL) {
		enum lifo_fill r = lifo_fill(s, t);

		if (r != LIFO_PLACED)
			lifo_queue(s, t, r);
		return;
	}
	sched_push(s, t, own);
	sched_notify(s);
}

/* s's task cache if the caller is its owner (and may use it), else NULL. */
static struct task_cache *owner_cache(struct scheduler *s)
{
	if (s && on_owner(s))
		return &s->cache;
	return NULL;
}

/*
 * A zeroed or `init`-copied heap task of `size` bytes for a spawn onto `s`
 * (NULL: the injector), or NULL.  *heap gets its TASK_HEAP bits.  Up to
 * TASK_CACHE_CLASSES lines it comes from the task cache: the owner's own
 * magazines when the spawn runs on s's core, else the depot; larger tasks
 * (and an empty depot) take kmalloc_aligned.
 */
static struct task *task_alloc(struct task_cache *cache, const void *init,
			       size_t size, uint64_t *heap)
{
	unsigned cls = task_cache_class(size);
	struct task *t;

	if (size < sizeof(struct task))
		panic("task_alloc: size %zu smaller than the task header", size);
	if (cls)
		t = task_cache_alloc(cache, cls);
	else
		t = kmalloc_aligned(size, CACHE_LINE);
	if (t == NULL)
		return NULL;
	/* The caller's part only: task_prepare() writes the header's first
	 * line, and the second is left to the first task_run() (task.h). */
	if (init)
		memcpy(t + 1, (const struct task *)init + 1, size - sizeof(*t));
	else
		memset(t + 1, 0, size - sizeof(*t));
	*heap = TASK_HEAP | ((uint64_t)cls << TASK_HEAP_CLASS_SHIFT);
	return t;
}

void sched_free_task(struct task *t, uint64_t state)
{
	unsigned cls = (unsigned)((state & TASK_HEAP_CLASS_MASK) >>
				  TASK_HEAP_CLASS_SHIFT);

	if (cls == 0) {
		kfree(t);
		return;
	}
	/* relaxed: the caller's last-reference acquire ordered every rebind.
	 * The task usually dies on the core it is bound to. */
	task_cache_free(owner_cache(atomic_load_explicit(&t->sched,
							 memory_order_relaxed)),
			t, cls);
}

void sched_cache_drain(struct scheduler *s)
{
	task_cache_drain(&s->cache);
}

/* A heap spawn onto s, from `cache` (s's own: the caller is its owner in
 * task context; NULL: the depot or the heap). */
static int spawn_heap(const struct task_site *site, uint64_t flags,
		      struct scheduler *s, struct task_cache *cache,
		      const struct task_vtable *vt, const void *init,
		      size_t size, struct join_handle *jh)
{
	uint64_t heap;
	struct task *t = task_alloc(cache, init, size, &heap);

	if (t == NULL)
		return -ENOMEM;
	/* arch_cpu_sched(), not s: it is s only inside s's tick (a spawn
	 * outside one reads the clock for its birth). */
	sched_spawn_task(site, s, arch_cpu_sched(), t, vt, heap | flags, jh,
			 cache != NULL);
	return 0;
}

int sched_spawn_at(const struct task_site *site, uint64_t flags,
		   struct scheduler *s, const struct task_vtable *vt,
		   const void *init, size_t size, struct join_handle *jh)
{
	/* Heap spawns are never made in interrupt handlers: the owner's
	 * cache means the owner in task context. */
	return spawn_heap(site, flags, s, owner_cache(s), vt, init, size, jh);
}

int sched_spawn_own_at(const struct task_site *site, uint64_t flags,
		       struct scheduler *s, const struct task_vtable *vt,
		       const void *init, size_t size, struct join_handle *jh)
{
	return spawn_heap(site, flags, s, &s->cache, vt, init, size, jh);
}

void sched_spawn_allocated_at(const struct task_site *site, uint64_t flags,
			      struct scheduler *s, struct task *t,
			      const struct task_vtable *vt,
			      struct join_handle *jh)
{
	sched_spawn_task(site, s, arch_cpu_sched(), t, vt, flags, jh,
			 owner_task(s));
}

/*
 * Take up to `max` tasks off s's queue under one hold of the consumer
 * lock.  Returns how many (0 also when a thief holds the lock);
 * *inconsistent is set if it stopped at a producer caught between its
 * exchange and its link (retry later).
 */
static unsigned sched_take_batch(struct scheduler *s, struct mpsc_node **out,
				 unsigned max, bool *inconsistent)
{
	unsigned n;

	*inconsistent = false;
	if (!mpsc_consumer_trylock(&s->queue))
		return 0;
	n = (unsigned)mpsc_dequeue_batch_locked(&s->queue, out, max,
						inconsistent);
	mpsc_consumer_unlock(&s->queue);
	return n;
}

void sched_wake_joiners(struct scheduler *s)
{
	unsigned n = s->njoin_wakes;

	s->njoin_wakes = 0;
	for (unsigned i = 0; i < n; i++)
		waker_wake(&s->join_wakes[i]);
}

/* What sched_tick() carries from one poll to the next. */
struct tick_state {
	struct sched_tick tick;
	/* Tasks that yielded this tick, in order; queued again at its end. */
	struct mpsc_node *yfirst, *ylast;
	unsigned yields, held;
};

/*
 * Poll t (its run-queue reference is ours) and put it where it goes next.
 * `counted`: t is counted in `queued` (it came off the queue); the LIFO
 * slot's task is not.  Returns the task to poll next (the LIFO slot): the
 * first the poll woke or spawned on s while the slot was free; or NULL.
 */
static __always_inline struct task *tick_poll(struct scheduler *s,
					      struct tick_state *ts,
					      struct task *t, bool counted)
{
	struct task *next = NULL;
	enum task_run_result rr;
	/* Read now: after the poll the task may be gone. */
	uint64_t id = t->id;

	rr = task_run(s, t);
	/* task_run traced a completing poll (or a cancelled task's end)
	 * itself, before the completion could be seen. */
	if (unlikely(s->trace != NULL) && rr < TASK_RUN_DONE)
		poll_trace_ended(s, id, trace_poll_word_of[rr]);
	/* A task the poll woke here (unless a kick took it back). */
	atomic_signal_fence(memory_order_seq_cst);
	next = atomic_load_explicit(&s->lifo, memory_order_relaxed);
	if (next)
		atomic_store_explicit(&s->lifo, NULL, memory_order_relaxed);
	/*
	 * Lower `queued` after each poll, not once per tick: thieves size
	 * their steal from it (min(count/2, 256)), and a count that lags a
	 * whole tick lets them take every task the owner has left instead
	 * of half (seen with 16 cores: the spawning core ran none of its own
	 * tasks).  A task that goes back to the queue (woken or yielded)
	 * never leaves the count; one that was not counted joins it.
	 */
	if (counted) {
		if (rr == TASK_RUN_DONE || rr == TASK_RUN_PENDING ||
		    rr == TASK_RUN_RETIRED)
			sched_queued_own_add(s, (size_t)-1);
	} else if (rr != TASK_RUN_DONE && rr != TASK_RUN_PENDING &&
		   rr != TASK_RUN_RETIRED) {
		sched_queued_own_add(s, 1);
	}
	switch (rr) {
	case TASK_RUN_RETIRED:
		ts->tick.completed++;
		break;
	case TASK_RUN_DONE:
		ts->tick.completed++;
		ts->tick.polled++;
		break;
	case TASK_RUN_REQUEUE:
		/* Woken during its poll: to the tail. */
		mpsc_enqueue(&s->queue, &t->run_node);
		ts->tick.polled++;
		break;
	case TASK_RUN_YIELDED:
		/* A wake by the owner, counted below. */
		ts->yields++;
		/* fall through */
	case TASK_RUN_YIELDED_WOKEN:
		/* Owner-local until the tick ends: plain stores, published
		 * by mpsc_enqueue_chain (which also ends the chain with
		 * NULL). */
		if (ts->ylast)
			atomic_store_explicit(&ts->ylast->next, &t->run_node,
					      memory_order_relaxed);
		else
			ts->yfirst = &t->run_node;
		ts->ylast = &t->run_node;
		ts->held++;
		ts->tick.polled++;
		break;
	case TASK_RUN_PENDING:
		ts->tick.polled++;
		break;
	}
	return next;
}

/* The LIFO slot's task, not polled after all: to the queue's tail. */
static void lifo_push(struct scheduler *s, struct task *t)
{
	sched_queued_own_add(s, 1);
	mpsc_enqueue(&s->queue, &t->run_node);
}

struct sched_tick sched_tick(struct scheduler *s)
{
	struct tick_state ts = { 0 };
	uint64_t spawned0 = sched_spawned(s);
	uint64_t external0 = counter(&s->woken_external);
	uint64_t internal0 = counter(&s->woken_internal);
	unsigned retries = 0;
	void *outer = arch_cpu_sched();

	/* Odd from here to the end (owner-written: a load and a store).
	 * relaxed: a reader that learns of a poll of this tick through the
	 * poll's own release (a count it lowered, a task it woke) reads this
	 * value or a later one, by coherence. */
	atomic_store_explicit(&s->tick_seq,
			      atomic_load_explicit(&s->tick_seq,
						   memory_order_relaxed) + 1,
			      memory_order_relaxed);
	/* task_current() and the registry's batches know who ticks. */
	arch_set_cpu_sched(s);
	/* The ring this tick traces to, if tracing is on as it begins;
	 * else looked up by the tick's first event (tick_trace_ring) or
	 * at its next batch, whichever comes first. */
	s->trace = trace_enabled() ? trace_ring_here() : NULL;

	while (ts.tick.polled < SCHED_TICK_BUDGET) {
		unsigned want = MIN(SCHED_TICK_BATCH,
				    SCHED_TICK_BUDGET - ts.tick.polled);
		bool inconsistent;
		unsigned n;

		/*
		 * `queued` never counts fewer tasks than are queued, and it
		 * counts the yielders this tick holds: if it counts no more
		 * than those, the queue is empty; skip the consumer lock's
		 * exchange (a lone yielder pays one tick per yield).
		 */
		if (sched_queued(s) <= ts.held)
			break;
		n = sched_take_batch(s, s->batch, want, &inconsistent);
		/* Tracing came on during the tick (a poll turned it on, as
		 * `trace COMMAND` does): its polls are traced from this
		 * batch on (task_run traces completing ones at once). */
		if (unlikely(trace_enabled()) && s->trace == NULL)
			s->trace = trace_ring_here();

		if (n == 0) {
			/* Not a poll: does not count against the budget. */
			if (inconsistent && ++retries <= SCHED_INCONSISTENT_RETRIES) {
				arch_cpu_relax();
				continue;
			}
			break;	/* EMPTY, BUSY (a thief), or gave up */
		}
		retries = 0;
		if (n > 1 && s->hooks.batch)
			s->hooks.batch(s->hooks.arg);
		s->poll_clock = arch_cycles();
		s->poll_clock_stale = false;
		atomic_store_explicit(&s->batch_end, n, memory_order_relaxed);
		for (unsigned i = 0;; i++) {
			struct task *t, *next;
			unsigned end, lifo_runs = 0;

			/* The kick handler may have cut the batch short
			 * (sched_release_batch): read its end again. */
			atomic_signal_fence(memory_order_seq_cst);
			end = atomic_load_explicit(&s->batch_end,
						   memory_order_relaxed);
			if (i >= end)
				break;
			t = container_of(s->batch[i], struct task, run_node);
			atomic_store_explicit(&s->batch_next, i + 1,
					      memory_order_relaxed);
			next = tick_poll(s, &ts, t, true);
			/*
			 * The LIFO slot: a task the poll just spawned or woke
			 * runs next, from cache, ahead of the rest of the
			 * batch (which a kick can still hand to other cores),
			 * at most SCHED_LIFO_MAX in a row, so a task that
			 * spawns its successor forever does not keep the
			 * queue and the injector waiting.  The budget does
			 * not cut a chain, as tokio's event_interval counts
			 * only tasks taken off the queue: a chain cut there
			 * goes to the queue's tail, behind everything queued
			 * (ping_pong's reply waited behind 1,000 parents,
			 * each holding its channel), and every batch after
			 * the budget's first three-quarters was cut so.  A
			 * batch is taken only below the budget and holds at
			 * most SCHED_TICK_BATCH tasks, so a tick polls at
			 * most SCHED_TICK_BUDGET + SCHED_TICK_BATCH *
			 * SCHED_LIFO_MAX times (112).
			 */
			while (next) {
				if (lifo_runs >= SCHED_LIFO_MAX) {
					lifo_push(s, next);
					break;
				}
				lifo_runs++;
				next = tick_poll(s, &ts, next, false);
			}
		}
		atomic_store_explicit(&s->batch_end, 0, memory_order_relaxed);
		atomic_store_explicit(&s->batch_next, 0, memory_order_relaxed);
		/* Every completion is in a batch: its outside joiners'
		 * wakes end with it. */
		if (s->njoin_wakes != 0)
			sched_wake_joiners(s);
	}
	/*
	 * A task that yielded runs again only after everything that was
	 * queued ahead of it or woken while the tick ran, and after the
	 * caller's next look at its other sources (rt_core_run: the
	 * injector), as tokio defers yield_now: a core whose only tasks
	 * yield in a loop ends its tick after one poll of each instead of
	 * spending the whole budget on them.
	 */
	if (ts.yfirst) {
		mpsc_enqueue_chain(&s->queue, ts.yfirst, ts.ylast);
		owner_add(&s->woken_internal, ts.yields);
	}
	if (s->reg_ndead | s->reg_ndone)
		registry_flush(s);
	s->trace = NULL;
	arch_set_cpu_sched(outer);
	/* release: the tick's writes (its trace events) happen before a
	 * reader that sees the even value (sched_tick_seq). */
	atomic_store_explicit(&s->tick_seq,
			      atomic_load_explicit(&s->tick_seq,
						   memory_order_relaxed) + 1,
			      memory_order_release);
	owner_add(&s->polled, ts.tick.polled);
	owner_add(&s->completed, ts.tick.completed);
	ts.tick.spawned = (unsigned)(sched_spawned(s) - spawned0);
	ts.tick.woken_external = (unsigned)(counter(&s->woken_external) - external0);
	ts.tick.woken_internal = (unsigned)(counter(&s->woken_internal) - internal0);
	ts.tick.has_remaining = sched_queued(s) > 0;
	return ts.tick;
}

bool sched_release_batch(struct scheduler *s)
{
	struct task *lifo;
	unsigned next, end;
	uint64_t seq;

	/* On the owner's core, between two of its instructions: only a
	 * poll in progress (poll_seq odd) leaves the batch indexes still. */
	seq = atomic_load_explicit(&s->poll_seq, memory_order_relaxed);
	if (!(seq & 1))
		return false;
	/* The rest of this poll's wakes and spawns go to the queue
	 * (lifo_fill): nobody would kick it again for them. */
	atomic_store_explicit(&s->lifo_closed, seq, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	lifo = atomic_load_explicit(&s->lifo, memory_order_relaxed);
	if (lifo) {
		/* Not counted yet; an interrupt handler's count is an RMW. */
		atomic_store_explicit(&s->lifo, NULL, memory_order_relaxed);
		atomic_fetch_add_explicit(&s->queued, 1, memory_order_relaxed);
		mpsc_enqueue(&s->queue, &lifo->run_node);
		owner_add(&s->pstats.released, 1);
	}
	next = atomic_load_explicit(&s->batch_next, memory_order_relaxed);
	end = atomic_load_explicit(&s->batch_end, memory_order_relaxed);
	if (next >= end) {
		if (lifo) {
			atomic_signal_fence(memory_order_seq_cst);
			sched_notify(s);
		}
		return lifo != NULL;
	}
	/* Still counted in `queued`: they only move back to the queue. */
	for (unsigned i = next; i < end; i++)
		mpsc_enqueue(&s->queue, s->batch[i]);
	atomic_store_explicit(&s->batch_end, next, memory_order_relaxed);
	atomic_signal_fence(memory_order_seq_cst);
	owner_add(&s->pstats.released, end - next);
	sched_notify(s);
	return true;
}

bool sched_poll_describe(const struct scheduler *s, uint64_t seq,
			 uint64_t *id, const char **name)
{
	struct scheduler *m = (struct scheduler *)s;

	/* acquire (all three): pairs with the release stores of
	 * poll_begin(); a poll that began after `seq` stored its id and
	 * name after its odd poll_seq, so the re-check below sees it. */
	*id = atomic_load_explicit(&m->poll_id, memory_order_acquire);
	*name = atomic_load_explicit(&m->poll_name, memory_order_acquire);
	return atomic_load_explicit(&m->poll_seq, memory_order_acquire) == seq;
}

static void check_queued_task(struct mpsc_node *n, void *arg)
{
	struct task *t = container_of(n, struct task, run_node);
	uint64_t state = task_state_load(t);

	/* Queued: WOKEN; or POLLING if held since a yield (task_run). */
	if (atomic_load_explicit(&t->held, memory_order_relaxed) ?
	    (state & (TASK_POLLING | TASK_COMPLETED)) != TASK_POLLING :
	    (state & (TASK_WOKEN | TASK_POLLING | TASK_COMPLETED)) != TASK_WOKEN)
		panic("sched_check: task %llu queued in state %#llx",
		      (unsigned long long)t->id, (unsigned long long)state);
	if (atomic_load_explicit(&t->sched, memory_order_relaxed) != arg)
		panic("sched_check: task %llu queued on a scheduler it is not bound to",
		      (unsigned long long)t->id);
}

size_t sched_check(struct scheduler *s)
{
	size_t n, queued = sched_queued(s);

	/* A cycle would overrun any bound; twice the count is generous. */
	n = mpsc_check(&s->queue, 2 * queued + 2, check_queued_task, s);
	if (n != queued)
		panic("sched_check: %zu tasks queued, counter says %zu", n, queued);
	return n;
}

/* ---- injector ----------------------------------------------------------- */

void injector_init(struct injector *inj)
{
	mpsc_init(&inj->queue, &inj->stub);
	atomic_init(&inj->untaken, 0);
	atomic_init(&inj->injected, 0);
	atomic_init(&inj->next_seq, 0);
	inj->notify = NULL;
	inj->notify_arg = NULL;
}

void injector_set_notify(struct injector *inj, void (*fn)(void *arg),
			 void *arg)
{
	inj->notify = fn;
	inj->notify_arg = arg;
}

static void injector_push(const struct task_site *site, struct injector *inj,
			  struct task *t, const struct task_vtable *vt,
			  uint64_t heap, struct join_handle *jh)
{
	/* `injected` is the id sequence and the count of tasks in: the one
	 * RMW of a push, before it enqueues (injector_queued).  seq_cst: the
	 * notify's load of idle_count relies on it (rt.c's header). */
	uint64_t seq = atomic_fetch_add_explicit(&inj->injected, 1,
						 memory_order_seq_cst);

	/* Unbound (sched NULL) until a thief moves it: it stays WOKEN while
	 * queued, so no wake needs a scheduler before then. */
	uint64_t born = arch_cycles();

	task_prepare(t, vt, seq + 1, NULL, heap, jh, site, born);
	if (trace_enabled())
		trace_record_at(TRACE_SPAWN, 0, born, seq + 1, (uintptr_t)task_name(t));
	mpsc_enqueue(&inj->queue, &t->run_node);
	if (inj->notify)
		inj->notify(inj->notify_arg);
}

int injector_spawn_at(const struct task_site *site, struct injector *inj,
		      const struct task_vtable *vt, const void *init,
		      size_t size, struct join_handle *jh)
{
	uint64_t heap;
	struct task *t = task_alloc(NULL, init, size, &heap);

	if (t == NULL)
		return -ENOMEM;
	injector_push(site, inj, t, vt, heap, jh);
	return 0;
}

void injector_spawn_allocated_at(const struct task_site *site,
				 struct injector *inj, struct task *t,
				 const struct task_vtable *vt,
				 struct join_handle *jh)
{
	injector_push(site, inj, t, vt, 0, jh);
}

/* ---- stealing ----------------------------------------------------------- */

static enum steal_result steal_begin(struct stealer *st, struct mpsc_queue *q,
				     size_t count, _Atomic size_t *queued,
				     _Atomic uint64_t *stolen_out, int victim)
{
	if (count == 0)
		return STEAL_EMPTY;
	if (!mpsc_consumer_trylock(q))
		return STEAL_BUSY;
	st->queue = q;
	st->queued = queued;
	st->stolen_out = stolen_out;
	st->initial_task_count = count;
	st->moved = 0;
	st->released = 0;
	st->victim = victim;
	st->trace_t0 = trace_enabled() ? trace_now() : 0;
	st->take_pinned = false;
	return STEAL_OK;
}

enum steal_result sched_try_steal(struct scheduler *victim, struct stealer *st)
{
	return steal_begin(st, &victim->queue, sched_queued(victim),
			   &victim->queued, &victim->stolen_out,
			   (int)victim->index);
}

enum steal_result injector_try_steal(struct injector *inj, struct stealer *st)
{
	return steal_begin(st, &inj->queue, injector_queued(inj), &inj->untaken,
			   NULL, -1);
}

/* Dequeue one task under the held lock; NULL if none (soon). */
static struct task *steal_dequeue(struct stealer *st)
{
	unsigned retries = 0;
	struct mpsc_node *n;

	for (;;) {
		enum mpsc_result r = mpsc_dequeue_locked(st->queue, &n);

		if (r == MPSC_ITEM)
			break;
		if (r != MPSC_INCONSISTENT || ++retries > SCHED_INCONSISTENT_RETRIES)
			return NULL;
		arch_cpu_relax();
	}
	return container_of(n, struct task, run_node);
}

/*
 * Take one task off the victim's queue for the thief, without touching
 * either `queued` count (the callers account for it); NULL when none is
 * left to take, or the next is pinned (it goes back to the victim).  The
 * caller links it into its chain.
 */
static struct task *steal_take_one(struct stealer *st, struct scheduler *thief)
{
	struct task *t;

	for (;;) {
		t = steal_dequeue(st);
		if (t == NULL)
			return NULL;
		if (!task_retire_if_cancelled(t))
			break;
		st->released++;
	}
	if ((task_state_load(t) & TASK_PINNED) && !st->take_pinned) {
		/* Not ours to move: back to the victim's tail (it stays
		 * counted there), and this steal ends, so a queue of pinned
		 * tasks is not cycled through forever. */
		mpsc_enqueue(st->queue, &t->run_node);
		return NULL;
	}
	/* release: the new binding is visible to wakers that acquire-load
	 * t->sched (bound_sched() in task.c) once the task runs on thief. */
	atomic_store_explicit(&t->sched, thief, memory_order_release);
	return t;
}

bool stealer_spawn_one(struct stealer *st, struct scheduler *thief)
{
	return stealer_spawn_n(st, thief, 1) == 1;
}

size_t stealer_spawn_n(struct stealer *st, struct scheduler *thief, size_t max)
{
	size_t moved = 0, released0 = st->released, left;
	struct mpsc_node *first = NULL, *last = NULL;

	if (st->queue == &thief->queue)
		panic("stealer_spawn_n: scheduler %u stealing from itself",
		      thief->index);
	if (max == 0)
		return 0;
	/* One RMW per batch on each count: the thief's is raised first (never
	 * below its queue's length), the victim's lowered after (an
	 * over-count meanwhile, which its contract allows). */
	/* The caller owns thief: its own word, a load and a store. */
	atomic_store_explicit(&thief->queued_own,
			      atomic_load_explicit(&thief->queued_own,
						   memory_order_relaxed) + max,
			      memory_order_relaxed);
	/*
	 * The tasks taken are linked into a chain of the thief's own and
	 * appended in one exchange, and the counters move once: per task, a
	 * locked instruction would wait for the stores into the task's lines
	 * before it, which missed in the cache (the tasks were the victim's),
	 * so each steal paid every miss in turn.  Check the bound before
	 * taking a task, so max + 1 never moves.
	 */
	while (moved < max) {
		struct task *t = steal_take_one(st, thief);

		if (t == NULL)
			break;
		/* relaxed: mpsc_enqueue_chain() publishes the chain. */
		if (last)
			atomic_store_explicit(&last->next, &t->run_node,
					      memory_order_relaxed);
		else
			first = &t->run_node;
		last = &t->run_node;
		moved++;
	}
	if (first) {
		/* Counted on thief above (queued_own) and here. */
		mpsc_enqueue_chain(&thief->queue, first, last);
		owner_add(&thief->stolen_in, moved);
		if (st->stolen_out)
			shared_add(st->stolen_out, moved);
		st->moved += moved;
	}
	if (moved < max)
		sched_queued_own_add(thief, moved - max);
	left = moved + st->released - released0;
	if (left)
		atomic_fetch_sub_explicit(st->queued, left, memory_order_relaxed);
	return moved;
}

void stealer_release(struct stealer *st)
{
	if (trace_enabled() && st->moved)
		trace_record(st->victim < 0 ? TRACE_INJECT : TRACE_STEAL,
			     st->victim < 0 ? 0 : (uint32_t)st->victim,
			     st->moved, st->trace_t0);
	mpsc_consumer_unlock(st->queue);
	st->queue = NULL;
}
