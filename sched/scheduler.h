/*
 * scheduler.h - per-core schedulers, the global injector, work stealing.
 *
 * One struct scheduler per core: an MPSC run queue of woken tasks that
 * anyone may push to (spawns, wakes from any core or interrupt handler) and
 * only its owner, or a thief holding the consumer lock, pops from.
 * sched_tick() polls up to SCHED_TICK_BUDGET tasks.  The injector is one
 * more MPSC queue, with a static stub, for tasks not yet bound to a core;
 * idle cores steal from it and from each other (struct stealer).
 *
 * sched/ never asks "which core am I": callers pass the scheduler (the
 * one exception: arch_cpu_sched() names the scheduler ticking on this
 * core, for task_current() and the registry).  The runtime learns about
 * new work through hooks: notify() after a task was made runnable on a
 * scheduler (or injector), on_owner() to tell wakes from the owning core
 * apart from wakes from elsewhere, batch() when a tick takes a batch.
 * Each scheduler also keeps a registry of its live tasks (registry.c),
 * its poll times (poll.h), and shows its poll in progress to other cores,
 * whose kick can take back the rest of its batch and its LIFO slot
 * (sched_release_batch).  Reference for the LIFO slot: tokio's
 * runtime/scheduler/multi_thread/worker.rs (lifo_slot).
 * Reference: Mycelium maitake scheduler.rs and scheduler/steal.rs.
 */
#ifndef HYPHAE_SCHED_SCHEDULER_H
#define HYPHAE_SCHED_SCHEDULER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/mpsc.h"
#include "sched/task.h"
#include "sched/task_cache.h"
#include "spinlock.h"

struct trace_ring;

/*
 * Polls per tick: a tick takes no task off its queue once it has polled
 * this many.  Chains from the LIFO slot count, and are not cut by it: they
 * may take a tick past it by at most SCHED_TICK_BATCH * SCHED_LIFO_MAX
 * polls (sched_tick).  Between ticks the runtime turns the
 * timer and looks at the injector, so with tasks that run long per poll
 * this bounds how long injected work waits (tokio's budget is 61 polls):
 * smaller ticks let a busy core start injected tasks sooner
 * (spawn_many_remote_busy1 in docs/PERFORMANCE.md).
 */
#define SCHED_TICK_BUDGET		64
/* Tasks a tick takes off its queue per hold of the consumer lock (one
 * atomic exchange per batch, not per task); a thief meanwhile finds the
 * queue BUSY, or sees the batch still counted in `queued`. */
#define SCHED_TICK_BATCH		16
/* INCONSISTENT dequeues retried in a row before a tick gives up (the
 * preempted producer will finish; has_remaining stays true). */
#define SCHED_INCONSISTENT_RETRIES	1024
/* Task ids: (scheduler index + 1) << SCHED_ID_SHIFT | sequence; the
 * injector's tasks have 0 in the high part. */
#define SCHED_ID_SHIFT			40
/* In the sequence part: a spawn by a thread other than the owner (they
 * count on their own sequence, the owner's needs no atomic RMW). */
#define SCHED_ID_REMOTE			(1ull << (SCHED_ID_SHIFT - 1))
/* Tasks the registry unlinks per hold of its lock, from a tick's own
 * frees and completions (registry.c). */
#define SCHED_REG_BATCH			32
/* Tasks run in a row from the LIFO slot (a task the poll before just
 * spawned or woke, polled next; sched_tick): tokio's
 * MAX_LIFO_POLLS_PER_TICK. */
#define SCHED_LIFO_MAX			3
/*
 * Joiners outside the runtime (a waker that is not a task's: a thread's
 * parker, a test's counter) whose wakes one batch of a tick holds back
 * until it ends (sched_tick), the same joiner held once; a batch that
 * completes tasks of more wakes the ones held so far at once and holds
 * on.  Few: a thread joins one task at a time, and every one of the 512
 * slots holds room for them (the kernel has no such joiner).
 */
#define SCHED_JOIN_WAKES		4
/* Poll-time histogram: bucket i counts polls that took [2^i, 2^(i+1))
 * cycles (bucket 0: under 2), the last one everything longer. */
#define SCHED_POLL_BUCKETS		40

/*
 * Hooks, fixed at sched_init() (NULL members: not used).
 *   notify(arg)    after a task was made runnable on this scheduler by a
 *                  wake, cancel or spawn, from any core or interrupt
 *                  handler.  Must be cheap and IRQ-safe; the runtime checks
 *                  whether the owning core sleeps and sends it arch_wake().
 *   on_owner(arg)  true if the caller runs on the core that ticks this
 *                  scheduler; it sorts wakes into woken_internal and
 *                  woken_external.  Without it every wake counts external,
 *                  except a TASK_YIELD: sched_tick() counts those as
 *                  internal (the ticking thread is the owner).  With it,
 *                  the scheduler does not ask inside its own tick: the
 *                  ticking thread is the owner there (sched_tick is owner
 *                  only), so the hook must agree.
 */
struct sched_hooks {
	void (*notify)(void *arg);
	bool (*on_owner)(void *arg);
	/* batch(arg): the owner took a batch of two or more tasks, which
	 * wait behind each poll until it returns or a kick hands them back
	 * (sched_release_batch); the runtime makes sure an idle core
	 * watches.  Owner only, task context; must be cheap. */
	void *arg;
	void (*batch)(void *arg);
	/* pull(arg, from): may the caller, this scheduler's owner inside one
	 * of its polls, take a task bound to the scheduler whose arg is
	 * `from`, that it just woke (sched_enqueue_woken)?  Only between
	 * schedulers with the same hook.  NULL: never.  Must be cheap. */
	bool (*pull)(void *arg, void *from);
};

/* What one sched_tick() did. */
struct sched_tick {
	unsigned polled;		/* poll calls made */
	unsigned completed;		/* tasks that completed (READY or cancelled) */
	unsigned spawned;		/* tasks spawned onto this scheduler meanwhile */
	unsigned woken_external;	/* wakes from other cores/IRQs meanwhile */
	unsigned woken_internal;	/* wakes from the owning core meanwhile */
	bool has_remaining;		/* tasks are still queued */
};

/*
 * Poll times, kept by the owner for each poll while poll timing is on
 * (sched_poll_timing_set; poll.h): relaxed counters, read by anyone.
 * Cycles of arch_cycles().
 */
struct sched_poll_stats {
	_Atomic uint64_t hist[SCHED_POLL_BUCKETS];
	_Atomic uint64_t longest;		/* cycles */
	_Atomic uint64_t longest_id;
	_Atomic(const char *) longest_name;
	_Atomic uint64_t released;		/* batch tasks kicked back */
	_Atomic uint64_t faulted;		/* polls a CPU exception ended */
};

/*
 * Counters: relaxed atomics, read by anyone (the `rt` dump) at any time.
 * The queued count (sched_queued) is approximate: it is raised before a
 * task is enqueued and lowered after it is dequeued (by sched_tick() after
 * each poll; a task that goes back to the queue, woken or yielded, stays
 * counted, also while a tick holds it), so a reader can see tasks counted
 * that are not yet (or no longer) in the queue, never fewer than are in
 * it; it is exact between ticks when nothing is moving.  It is two words:
 * `queued`, changed by RMWs of other threads (their pushes, thieves'
 * takes), and `queued_own`, changed by the owner in task context with a
 * load and a store (its spawns, wakes and polls: no locked instruction on
 * its hot path); the count is their sum.  The spawn counts are split the
 * same way, and so are the ids they number (SCHED_ID_REMOTE).
 * "woken" for the dump is woken_internal + woken_external: wakes that made
 * a task runnable on this scheduler (or found it polling here), sorted by
 * the on_owner hook.  The owner's counters are a load and a store, not an
 * RMW: a wake from an interrupt handler on the owning core that lands
 * between the two loses one count (statistics only).
 */
struct scheduler {
	struct mpsc_queue queue;
	struct mpsc_node stub;

	/* Written by any thread: spawners, wakers, thieves (RMWs). */
	_Atomic size_t queued __cacheline_aligned;
	_Atomic uint64_t spawned;	/* also their ids' sequence */
	_Atomic uint64_t woken_external;
	_Atomic uint64_t stolen_out;

	/* Written only by the owner (the thread ticking it, or stealing into
	 * it); read by anyone. */
	_Atomic uint64_t polled __cacheline_aligned;
	_Atomic size_t queued_own;	/* wraps below 0: see sched_queued */
	_Atomic uint64_t spawned_own;	/* also their ids' sequence */
	_Atomic uint64_t completed;
	_Atomic uint64_t woken_internal;
	_Atomic uint64_t stolen_in;
	_Atomic uint64_t pulled_in;	/* woken here by a poll, from a peer */
	/* Heap task storage for spawns on (and frees by) the owner. */
	struct task_cache cache;
	struct sched_poll_stats pstats;

	/*
	 * The poll in progress, for other cores (the watchdog, kicks):
	 * written by the owner with release stores in poll.h, read with
	 * acquire.  poll_seq is odd while a poll runs; id and name belong to
	 * it if poll_seq reads the same before and after them.
	 */
	_Atomic uint64_t poll_seq __cacheline_aligned;
	/* Odd while sched_tick() runs: a poll's whole run, its ending and
	 * trace event included (which poll_seq does not cover), lies within
	 * one odd value.  Owner-written, the tick's end with release; read
	 * with acquire (sched_tick_seq). */
	_Atomic uint64_t tick_seq;
	/* arch_cycles(); with SCHED_POLL_START_BATCH, the start of the
	 * poll's batch (poll timing off: the poll's own is not read). */
	_Atomic uint64_t poll_start;
	_Atomic uint64_t poll_id;
	_Atomic(const char *) poll_name;
	/* The batch sched_tick() polls from: the owner, and its own kick
	 * handler (same core, ordered by signal fences). */
	_Atomic unsigned batch_next, batch_end;
	struct mpsc_node *batch[SCHED_TICK_BATCH];

	/* The LIFO slot: a task the poll in progress woke or spawned on its
	 * own scheduler, polled when that poll returns (sched_tick).
	 * The owner, and its kick handler (which puts it back on the queue;
	 * same core, ordered by signal fences). */
	_Atomic(struct task *) lifo;
	/* The poll_seq of the poll whose slot a kick emptied: the rest of
	 * that poll's wakes and spawns go to the queue, since the watchers
	 * kick a poll once (written by the kick handler, read by the owner). */
	_Atomic uint64_t lifo_closed;

	/* Owner only. */
	struct task *current;			/* task_current() */
	/* The end of the last timed poll, or the batch's start; stale once
	 * an untimed poll ran since (poll.h). */
	uint64_t poll_clock;
	bool poll_clock_stale;
	/* This core's trace ring while its tick traces: set as the tick
	 * begins if tracing is on, else by its first trace event
	 * (tick_trace_ring); NULL outside a tick and until then.  The
	 * switch of the tick's poll events. */
	struct trace_ring *trace;
	/* Outside joiners' wakes the batch holds back (wake_joiner() in
	 * task.c, sched_wake_joiners()); owner only. */
	unsigned njoin_wakes;
	struct waker join_wakes[SCHED_JOIN_WAKES];
	unsigned reg_ndead, reg_ndone;
	struct task *reg_dead[SCHED_REG_BATCH];	/* freed by this tick */
	struct task *reg_done[SCHED_REG_BATCH];	/* completed, still held */

	/* The registry: the live tasks whose home this is, in a circular
	 * list at reg_head, under reg_lock (taken with interrupts off). */
	struct spinlock reg_lock __cacheline_aligned;
	struct task_reg reg_head;
	_Atomic size_t reg_count;		/* linked tasks; any reader */

	/* Constant after sched_init(). */
	struct sched_hooks hooks;
	unsigned index;
};

/*
 * Initialise `s` (static or zeroed storage is fine) as the scheduler of
 * runtime slot `index`; `hooks` may be NULL.  Before anyone else sees `s`.
 * With an on_owner hook, heap tasks spawned and freed on the owner use
 * s->cache: the owner calls sched_cache_drain() before `s` goes away.
 */
void sched_init(struct scheduler *s, unsigned index,
		const struct sched_hooks *hooks);

/*
 * Spawn a heap task: allocate `size` bytes (>= sizeof(struct task)), copy
 * `init` into it (NULL: zeroes; its header part is ignored), queue it on
 * `s`.  If `jh` is not NULL it becomes the task's join handle.  0, or
 * -ENOMEM (nothing spawned).  Any core; not from interrupt handlers.
 * `site` (TASK_SITE) names it and records where; `flags` is 0 or
 * TASK_PINNED.  The sched_spawn() macro passes this line's site.
 * A spawn by a poll onto its own scheduler takes the LIFO slot if it is
 * free (polled when that poll returns; a kick hands it to the queue if
 * the poll runs long); any other spawn is queued at once.  The registry
 * lists a task once a poll of it returns PENDING (one that completes in
 * its first poll is never listed).
 */
int __must_check sched_spawn_at(const struct task_site *site, uint64_t flags,
				struct scheduler *s,
				const struct task_vtable *vt, const void *init,
				size_t size, struct join_handle *jh);
#define sched_spawn(...)	sched_spawn_at(TASK_SITE(NULL), 0, __VA_ARGS__)

/*
 * The same, for a caller that is s's owner in task context and knows it
 * (the runtime's rt_spawn on its own core): skips the owner check (the
 * on_owner hook, an indirect call into the runtime).  Called elsewhere -
 * another core, an interrupt handler - it corrupts s's owner-only
 * counters and task cache.
 */
int __must_check sched_spawn_own_at(const struct task_site *site,
				    uint64_t flags, struct scheduler *s,
				    const struct task_vtable *vt,
				    const void *init, size_t size,
				    struct join_handle *jh);

/*
 * Spawn a task in caller storage `t` (the header of the caller's struct;
 * the rest already filled in).  Its deallocate hook runs when the last
 * reference goes (see struct task_vtable).  Any context, IRQ-safe, no
 * allocation.  The registry lists it once a poll of it returns PENDING.
 */
void sched_spawn_allocated_at(const struct task_site *site, uint64_t flags,
			      struct scheduler *s, struct task *t,
			      const struct task_vtable *vt,
			      struct join_handle *jh);
#define sched_spawn_allocated(...) \
	sched_spawn_allocated_at(TASK_SITE(NULL), 0, __VA_ARGS__)

/*
 * Poll up to SCHED_TICK_BUDGET woken tasks, in queue order, but for the
 * LIFO slot: a task a poll wakes on s, or else the last one it spawns
 * onto s, is polled when that poll returns (at most SCHED_LIFO_MAX in a
 * row; then it goes to the queue's tail).  A task woken while it was
 * polled goes to the tail and may run again in the same tick; a task
 * that yields (TASK_YIELD) is queued again only when the tick ends, so
 * after a yield it does not run again in that tick.  Ends early when the
 * queue is empty or a thief holds it.  Owner only.
 */
struct sched_tick sched_tick(struct scheduler *s);

/*
 * A kick arrived on the owner's core (an interrupt of whatever it runs):
 * if it is inside a poll, the tasks its tick's batch still holds, and a
 * task that poll woke into the LIFO slot, go back to the queue's tail,
 * where thieves can take them.  True if any did.
 * From the owner core's kick handler only.
 */
bool sched_release_batch(struct scheduler *s);

/*
 * Tasks a kick could take back from s now (a hint: any core): the rest of
 * its batch and its LIFO slot, which a long poll would otherwise hold
 * (neither is counted where thieves look).
 */
static inline unsigned sched_batch_left(const struct scheduler *s)
{
	struct scheduler *m = (struct scheduler *)s;
	unsigned next = atomic_load_explicit(&m->batch_next, memory_order_relaxed);
	unsigned end = atomic_load_explicit(&m->batch_end, memory_order_relaxed);
	unsigned lifo = atomic_load_explicit(&m->lifo, memory_order_relaxed) != NULL;

	return (end > next ? end - next : 0) + lifo;
}

/* poll_start's flag: the value is the batch's start, not the poll's. */
#define SCHED_POLL_START_BATCH	(1ull << 63)

/*
 * The poll s is in: true with its sequence number and start if any;
 * *exact is false if poll timing was off for it, and *start is then the
 * start of its batch (an earlier time: the batch's other polls ran first).
 */
static inline bool sched_poll_in_progress(const struct scheduler *s,
					  uint64_t *seq, uint64_t *start,
					  bool *exact)
{
	struct scheduler *m = (struct scheduler *)s;
	uint64_t v;

	/* acquire: pairs with the release stores in poll_begin(). */
	*seq = atomic_load_explicit(&m->poll_seq, memory_order_acquire);
	v = atomic_load_explicit(&m->poll_start, memory_order_acquire);
	*exact = !(v & SCHED_POLL_START_BATCH);
	*start = v & ~SCHED_POLL_START_BATCH;
	return (*seq & 1) != 0;
}

/*
 * s's tick sequence: odd while its owner is inside sched_tick().  A value
 * read odd and then read again unchanged means the same tick still runs.
 * Any core.
 */
static inline uint64_t sched_tick_seq(const struct scheduler *s)
{
	/* acquire: pairs with the release stores in sched_tick(), so what
	 * the tick wrote (its trace events) is seen once it is seen over. */
	return atomic_load_explicit(&((struct scheduler *)s)->tick_seq,
				    memory_order_acquire);
}

/*
 * Poll timing, for every scheduler of the process: on, each poll reads
 * the cycle counter when it ends and is counted in its core's histogram
 * and longest poll and in its task's busy time; off (the default), a poll
 * reads no clock: those stay as they were, and the watchdog measures a
 * poll from when it first saw it (rt/watch.c).  Polls are counted either
 * way.  The kernel turns it on at boot; `timing on|off` in the shell.
 * Tracing reads the clock for its events whatever this says.
 */
void sched_poll_timing_set(bool on);
bool sched_poll_timing(void);

/*
 * The id and name of poll `seq` of s, if it is still the one running
 * (false: it ended meanwhile).  Any core.
 */
bool sched_poll_describe(const struct scheduler *s, uint64_t seq,
			 uint64_t *id, const char **name);

/* ---- the registry of live tasks ------------------------------------------ */

enum task_info_state {
	TASK_INFO_QUEUED,	/* runnable, in a run queue */
	TASK_INFO_RUNNING,	/* being polled */
	TASK_INFO_WAITING,	/* pending on something */
	TASK_INFO_SLEEPING,	/* pending on a sleep of the timer */
};

/* A snapshot of one live task, for `tasks`. */
struct task_info {
	uint64_t id;
	const char *name;
	const struct task_site *site;	/* NULL: not known */
	enum task_info_state state;
	int core;			/* its scheduler's index; -1: none */
	uint32_t polls;
	uint64_t busy;			/* cycles polled */
	uint64_t born;			/* arch_cycles() at spawn */
};

/* Where a walk of a registry stands (sched_registry_walk). */
struct sched_reg_cursor {
	struct task_reg link;		/* in the list between steps */
	bool started;
};

#define SCHED_REG_CURSOR_INIT	{ .started = false }

/*
 * Walk s's registry, oldest first, at most `max` tasks per call: each
 * live (not completed) task is passed to visit(info, t, arg) under s's
 * lock with interrupts off, so visit must be short and take no lock; `t`
 * is valid during the call only (task_ref() keeps it).  The cursor stays
 * in the list between calls.  Returns false when the walk has ended (the
 * cursor is out of the list); sched_registry_walk_end() ends it early.
 * Any core, task context.
 */
bool sched_registry_walk(struct scheduler *s, struct sched_reg_cursor *cur,
			 size_t max,
			 void (*visit)(const struct task_info *ti,
				       struct task *t, void *arg),
			 void *arg);
void sched_registry_walk_end(struct scheduler *s, struct sched_reg_cursor *cur);

/* Tasks in s's registry (completed ones not yet freed included). */
static inline size_t sched_registry_count(const struct scheduler *s)
{
	return atomic_load_explicit(&((struct scheduler *)s)->reg_count,
				    memory_order_relaxed);
}

/* A task's snapshot as the walk reports it; false if it has completed. */
bool task_info_of(struct task *t, struct task_info *ti);

/*
 * Checker for tests: s's list is a consistent ring whose tasks (cursors
 * skipped) all have home s, and reg_count counts them.  Panics otherwise;
 * returns the count.
 */
size_t sched_registry_check(struct scheduler *s);

/*
 * Drain the owner's task cache into the shared depot and stop using it
 * (spawns and frees then take the depot or kmalloc).  Owner only; for a
 * core that stops.
 */
void sched_cache_drain(struct scheduler *s);

/*
 * Checker for tests: every queued task is WOKEN, not POLLING or COMPLETED,
 * and bound to `s`; the count equals `queued`.  Panics otherwise; returns
 * the count.  Only between ticks with nothing else touching `s`.
 */
size_t sched_check(struct scheduler *s);

/* Approximate number of queued tasks (see struct scheduler). */
static inline size_t sched_queued(const struct scheduler *s)
{
	struct scheduler *m = (struct scheduler *)s;
	/* relaxed: a hint for anyone but the owner, which sees its own
	 * word exactly; the idle protocol orders the others' RMWs. */
	size_t n = atomic_load_explicit(&m->queued_own, memory_order_relaxed) +
		   atomic_load_explicit(&m->queued, memory_order_relaxed);

	/* A thief's take (in `queued`) may be seen before the owner's
	 * count of the same task (in `queued_own`): never below zero. */
	return (ptrdiff_t)n < 0 ? 0 : n;
}

/* Tasks ever spawned onto s. */
static inline uint64_t sched_spawned(const struct scheduler *s)
{
	struct scheduler *m = (struct scheduler *)s;

	return atomic_load_explicit(&m->spawned_own, memory_order_relaxed) +
	       atomic_load_explicit(&m->spawned, memory_order_relaxed);
}

/* ---- injector ----------------------------------------------------------- */

struct injector {
	struct mpsc_queue queue;
	struct mpsc_node stub;

	/*
	 * Counters.  The queued count (injector_queued) is injected +
	 * untaken, approximate as for the scheduler: a push raises
	 * `injected` before it enqueues (its one RMW, which also numbers the
	 * task; seq_cst, as is injector_queued()'s load of it, for the
	 * runtime's idle protocol in rt.c), a taker lowers `untaken`
	 * (relaxed, wrapping below 0) after it dequeues.  Two lines, so the
	 * pushes and the takes do not take each other's line.
	 */
	_Atomic uint64_t injected __cacheline_aligned;	/* tasks ever pushed */
	_Atomic uint64_t next_seq;
	_Atomic size_t untaken __cacheline_aligned;

	/* Constant after initialisation (injector_set_notify). */
	void (*notify)(void *arg);
	void *notify_arg;
};

/* `static struct injector inj = INJECTOR_INIT(inj);` */
#define INJECTOR_INIT(name) {						\
	.queue = MPSC_QUEUE_INIT((name).queue, &(name).stub),		\
}

void injector_init(struct injector *inj);
/* Set the notify hook (called after every push); before publication. */
void injector_set_notify(struct injector *inj, void (*fn)(void *arg),
			 void *arg);

/*
 * As sched_spawn / sched_spawn_allocated, into the injector (unbound).
 * The registry lists such a task once a poll of it returns PENDING.
 */
int __must_check injector_spawn_at(const struct task_site *site,
				   struct injector *inj,
				   const struct task_vtable *vt,
				   const void *init, size_t size,
				   struct join_handle *jh);
void injector_spawn_allocated_at(const struct task_site *site,
				 struct injector *inj, struct task *t,
				 const struct task_vtable *vt,
				 struct join_handle *jh);
#define injector_spawn(...)	injector_spawn_at(TASK_SITE(NULL), __VA_ARGS__)
#define injector_spawn_allocated(...) \
	injector_spawn_allocated_at(TASK_SITE(NULL), __VA_ARGS__)

static inline size_t injector_queued(const struct injector *inj)
{
	struct injector *m = (struct injector *)inj;
	/* untaken first: a take read late could undercount, never a push
	 * (each task is counted in before it is queued). */
	size_t untaken = atomic_load_explicit(&m->untaken, memory_order_relaxed);

	return (size_t)atomic_load_explicit(&m->injected, memory_order_seq_cst) +
	       untaken;
}

/* ---- stealing ----------------------------------------------------------- */

enum steal_result {
	STEAL_OK = 0,		/* lock taken: use the stealer, then release */
	STEAL_EMPTY,		/* nothing to take (lock not taken) */
	STEAL_BUSY,		/* another consumer holds the queue */
};

/*
 * A thief's hold on a victim's consumer lock.  initial_task_count is the
 * victim's queued count seen when the lock was taken.  moved/released
 * count tasks moved to the thief and cancelled tasks completed instead.
 */
struct stealer {
	struct mpsc_queue *queue;
	_Atomic size_t *queued;
	_Atomic uint64_t *stolen_out;	/* NULL for the injector */
	size_t initial_task_count;
	size_t moved;
	size_t released;
	int victim;		/* the victim's index; -1: the injector */
	uint64_t trace_t0;	/* when the steal began, if traced (else 0) */
	/* Move pinned tasks too (a stopped core's, which nobody else runs);
	 * false by default: a pinned task met goes back and the steal ends. */
	bool take_pinned;
};

/* Take `victim`'s consumer lock (try-lock, never spins).  Any core. */
enum steal_result __must_check sched_try_steal(struct scheduler *victim,
					       struct stealer *st);
enum steal_result __must_check injector_try_steal(struct injector *inj,
						  struct stealer *st);

/*
 * Move one task to `thief` (owner of thief only), rebinding it so its later
 * wakes go there.  Cancelled tasks met on the way are completed and
 * released, not moved; a pinned task met goes back to the victim's tail
 * and ends the steal.  False if nothing could be moved.
 */
bool stealer_spawn_one(struct stealer *st, struct scheduler *thief);
/* Move at most `max` tasks (never more); returns how many moved. */
size_t stealer_spawn_n(struct stealer *st, struct scheduler *thief, size_t max);
/* Give the consumer lock back. */
void stealer_release(struct stealer *st);

#endif /* HYPHAE_SCHED_SCHEDULER_H */
