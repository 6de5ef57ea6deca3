/*
 * sched_internal.h - private glue between task.c and scheduler.c.
 *
 * Not part of the sched/ API: only files in sched/ include it.  task.c owns
 * the state word; scheduler.c owns the queues and counters; these are the
 * calls each makes into the other.
 */
#ifndef HYPHAE_SCHED_INTERNAL_H
#define HYPHAE_SCHED_INTERNAL_H

#include <stdint.h>

#include "arch.h"
#include "sched/scheduler.h"
#include "sched/task.h"

/* What task_run() did with the run-queue reference it was given. */
enum task_run_result {
	TASK_RUN_PENDING,	/* polled, not woken: reference dropped */
	TASK_RUN_REQUEUE,	/* polled and woken meanwhile: caller enqueues */
	TASK_RUN_YIELDED,	/* yielded: caller enqueues it behind this
				 * tick's other work and counts the wake (an
				 * owner's) */
	TASK_RUN_YIELDED_WOKEN,	/* yielded and woken meanwhile (that waker
				 * counted it): enqueued as YIELDED */
	TASK_RUN_DONE,		/* polled, now COMPLETED: reference dropped */
	TASK_RUN_RETIRED,	/* was CANCELED: completed unpolled, dropped */
};

/* Change s's queued count by n (two's complement): the owner's word, a
 * load and a store.  s's owner in task context only. */
static inline void sched_queued_own_add(struct scheduler *s, size_t n)
{
	atomic_store_explicit(&s->queued_own,
			      atomic_load_explicit(&s->queued_own,
						   memory_order_relaxed) + n,
			      memory_order_relaxed);
}

/* Header setup before first enqueue: WOKEN, refs = run queue (+ handle).
 * `flags`: TASK_PINNED, and for heap storage TASK_HEAP with its
 * HEAP_CLASS bits.  Names it from `site` (may be NULL) or the vtable;
 * `born` is the arch_cycles() time to count its age from. */
void task_prepare(struct task *t, const struct task_vtable *vt, uint64_t id,
		  struct scheduler *s, uint64_t flags, struct join_handle *jh,
		  const struct task_site *site, uint64_t born);

/* Give back a heap task's storage (TASK_HEAP set in `state`): to the
 * calling core's task cache if it owns t's scheduler, else the depot or
 * kfree.  The caller holds the last reference. */
void sched_free_task(struct task *t, uint64_t state);

/* Poll a task just dequeued by s's owner (caller holds its run-queue
 * reference). */
enum task_run_result task_run(struct scheduler *s, struct task *t);

/* A task just dequeued by a thief: if CANCELED, complete it unpolled and
 * drop the run-queue reference (true); else leave it (false). */
bool task_retire_if_cancelled(struct task *t);

/* Make `t` (WOKEN, not queued) runnable on `s`, passing its run-queue
 * reference; counts the wake and calls the notify hook.  Any context. */
void sched_enqueue_woken(struct scheduler *s, struct task *t);

/* Count (and trace) a wake of `t` on `s`: sched_enqueue_woken() calls
 * it, and a wake that found `t` POLLING on `s` (it re-runs after the
 * poll).  Any context. */
void sched_count_wake(struct scheduler *s, struct task *t);

/* ---- the registry (registry.c) ----------------------------------------- */

void registry_init(struct scheduler *s);

/*
 * Unlink what the tick freed (reg_dead) and what completed while others
 * still hold it (reg_done), one lock hold; free the dead.  Owner only.
 */
void registry_flush(struct scheduler *s);

/* Make the outside joiners' wakes s's batch held back (wake_joiner() in
 * task.c).  s's owner, in its tick. */
void sched_wake_joiners(struct scheduler *s);

/* Link t, which no registry holds yet, into s's: its first poll (by s's
 * owner, which holds its run-queue reference) returned PENDING.  One
 * lock hold.  Owner only. */
void registry_link(struct scheduler *s, struct task *t);


/*
 * t (linked) just completed in a poll of s's owner, and others still hold
 * it: the next registry_flush unlinks it (home becomes NULL: its last
 * owner frees it with no list to touch) and drops the reference the
 * caller passes in.  Owner only.
 */
void registry_completed(struct scheduler *s, struct task *t);

/*
 * The last reference to t is gone (`state` its final state word): unlink
 * it (at once, under its home's lock), run its deallocate hook and free
 * its storage.  Any context; registry_free() below is the caller.
 */
void registry_release(struct task *t, uint64_t state);

/*
 * The same, but a task freed during a tick on this core (not in an
 * interrupt handler) waits in reg_dead for the next registry_flush (after
 * a poll that spawned, a full buffer, the tick's end): one lock hold for
 * many.
 */
static inline void registry_free(struct task *t, uint64_t state)
{
	struct scheduler *cur;

	if (t->home && (cur = arch_cpu_sched()) != NULL && !arch_in_interrupt()) {
		cur->reg_dead[cur->reg_ndead++] = t;
		if (cur->reg_ndead == SCHED_REG_BATCH)
			registry_flush(cur);
		return;
	}
	registry_release(t, state);
}

#endif /* HYPHAE_SCHED_INTERNAL_H */
