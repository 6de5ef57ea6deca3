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

/* Header setup before first enqueue: WOKEN, refs = run queue (+ handle).
 * `flags`: TASK_PINNED, and for heap storage TASK_HEAP with its
 * HEAP_CLASS bits.  Names it from `site` (may be NULL) or the vtable. */
void task_prepare(struct task *t, const struct task_vtable *vt, uint64_t id,
		  struct scheduler *s, uint64_t flags, struct join_handle *jh,
		  const struct task_site *site);

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

/* A wake that found the task POLLING on `s` (it re-runs after the poll). */
void sched_count_wake(struct scheduler *s);

/* ---- the registry (registry.c) ----------------------------------------- */

void registry_init(struct scheduler *s);

/*
 * A task just prepared for `target`'s queue (not yet queued), by a spawn
 * of heap (`heap`) or caller storage.  Links it into the registry of the
 * scheduler ticking on this core, else target's; a heap spawn by a poll
 * onto its own scheduler is buffered instead (reg_born) and queued with
 * the buffer: returns true then, and the caller must not queue it.
 */
bool registry_spawned(struct scheduler *target, struct task *t, bool heap);

/* Link and queue what this poll spawned (reg_born).  Owner only. */
void registry_flush_born(struct scheduler *s);

/* Link the tasks of a batch just dequeued that no registry holds yet
 * (spawned into the injector).  Owner only. */
void registry_adopt(struct scheduler *s, struct mpsc_node **batch, unsigned n);

/*
 * The last reference to t is gone (`state` its final state word): unlink
 * it, run its deallocate hook and free its storage; for a heap task freed
 * by a tick, at the tick's end (reg_dead).  Any context.
 */
void registry_release(struct task *t, uint64_t state);

/* Unlink and free what this tick freed (reg_dead).  Owner only. */
void registry_flush_dead(struct scheduler *s);

#endif /* HYPHAE_SCHED_INTERNAL_H */
