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
 * `heap`: 0 for caller storage, else TASK_HEAP and its HEAP_CLASS bits. */
void task_prepare(struct task *t, const struct task_vtable *vt, uint64_t id,
		  struct scheduler *s, uint64_t heap, struct join_handle *jh);

/* Give back a heap task's storage (TASK_HEAP set in `state`): to the
 * calling core's task cache if it owns t's scheduler, else the depot or
 * kfree.  The caller holds the last reference. */
void sched_free_task(struct task *t, uint64_t state);

/* Poll a task just dequeued (caller holds its run-queue reference). */
enum task_run_result task_run(struct task *t);

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

#endif /* HYPHAE_SCHED_INTERNAL_H */
