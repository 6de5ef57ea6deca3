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
 * sched/ never asks "which core am I": callers pass the scheduler.  The
 * runtime learns about new work through hooks: notify() after a task was
 * made runnable on a scheduler (or injector), on_owner() to tell wakes from
 * the owning core apart from wakes from elsewhere.
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

/*
 * Tasks polled per tick at most.  Between ticks the runtime turns the
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
 *                  internal (the ticking thread is the owner).
 */
struct sched_hooks {
	void (*notify)(void *arg);
	bool (*on_owner)(void *arg);
	void *arg;
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
 * Counters: relaxed atomics, read by anyone (the `rt` dump) at any time.
 * `queued` is approximate: it is raised before a task is enqueued and
 * lowered after it is dequeued (by sched_tick() after each poll; a task
 * that goes back to the queue, woken or yielded, stays counted, also while
 * a tick holds it), so a reader can see tasks counted that are not yet (or
 * no longer) in the queue, never fewer than are in it; it is exact between
 * ticks when nothing is moving.
 * "woken" for the dump is woken_internal + woken_external: wakes that made
 * a task runnable on this scheduler (or found it polling here), sorted by
 * the on_owner hook.  The owner's counters are a load and a store, not an
 * RMW: a wake from an interrupt handler on the owning core that lands
 * between the two loses one count (statistics only).
 */
struct scheduler {
	struct mpsc_queue queue;
	struct mpsc_node stub;

	/* Written by any thread: spawners, wakers, thieves. */
	_Atomic size_t queued __cacheline_aligned;
	_Atomic uint64_t spawned;	/* also the task id sequence */
	_Atomic uint64_t woken_external;
	_Atomic uint64_t stolen_out;

	/* Written only by the owner (the thread ticking it, or stealing into
	 * it); read by anyone. */
	_Atomic uint64_t polled __cacheline_aligned;
	_Atomic uint64_t completed;
	_Atomic uint64_t woken_internal;
	_Atomic uint64_t stolen_in;
	_Atomic uint64_t current_task;	/* id being polled, 0 = none */
	/* Heap task storage for spawns on (and frees by) the owner. */
	struct task_cache cache;

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
 */
int __must_check sched_spawn(struct scheduler *s, const struct task_vtable *vt,
			     const void *init, size_t size,
			     struct join_handle *jh);

/*
 * Spawn a task in caller storage `t` (the header of the caller's struct;
 * the rest already filled in).  Its deallocate hook runs when the last
 * reference goes.  Any context, IRQ-safe, no allocation.
 */
void sched_spawn_allocated(struct scheduler *s, struct task *t,
			   const struct task_vtable *vt, struct join_handle *jh);

/*
 * Poll up to SCHED_TICK_BUDGET woken tasks, in queue order.  A task woken
 * while it was polled goes to the tail and may run again in the same tick;
 * a task that yields (TASK_YIELD) is queued again only when the tick ends,
 * so after a yield it does not run again in that tick.  Ends early when
 * the queue is empty or a thief holds it.  Owner only.
 */
struct sched_tick sched_tick(struct scheduler *s);

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
	return atomic_load_explicit(&((struct scheduler *)s)->queued,
				    memory_order_relaxed);
}

/* ---- injector ----------------------------------------------------------- */

struct injector {
	struct mpsc_queue queue;
	struct mpsc_node stub;

	/* Written by any thread; relaxed counters, `queued` approximate as
	 * for the scheduler. */
	_Atomic size_t queued __cacheline_aligned;
	_Atomic uint64_t injected;	/* tasks ever pushed */
	_Atomic uint64_t next_seq;

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

/* As sched_spawn / sched_spawn_allocated, into the injector (unbound). */
int __must_check injector_spawn(struct injector *inj,
				const struct task_vtable *vt, const void *init,
				size_t size, struct join_handle *jh);
void injector_spawn_allocated(struct injector *inj, struct task *t,
			      const struct task_vtable *vt,
			      struct join_handle *jh);

static inline size_t injector_queued(const struct injector *inj)
{
	return atomic_load_explicit(&((struct injector *)inj)->queued,
				    memory_order_relaxed);
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
};

/* Take `victim`'s consumer lock (try-lock, never spins).  Any core. */
enum steal_result __must_check sched_try_steal(struct scheduler *victim,
					       struct stealer *st);
enum steal_result __must_check injector_try_steal(struct injector *inj,
						  struct stealer *st);

/*
 * Move one task to `thief` (owner of thief only), rebinding it so its later
 * wakes go there.  Cancelled tasks met on the way are completed and
 * released, not moved.  False if nothing could be moved.
 */
bool stealer_spawn_one(struct stealer *st, struct scheduler *thief);
/* Move at most `max` tasks (never more); returns how many moved. */
size_t stealer_spawn_n(struct stealer *st, struct scheduler *thief, size_t max);
/* Give the consumer lock back. */
void stealer_release(struct stealer *st);

#endif /* HYPHAE_SCHED_SCHEDULER_H */
