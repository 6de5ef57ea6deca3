/*
 * batch.h - a batch of small tasks for `spawn` and `bench`: spawned one by
 * one by a command's job, counted where they finish, awaited as a whole.
 *
 * Each child yields K times, then sleeps D (if asked), records the core it
 * finished on and counts down `remaining`; the last one wakes the batch's
 * wait cell.  The batch is shared by the job and every child, so it is
 * reference counted (one per child plus the job's) and freed by the last
 * holder.  Cancelling (Ctrl-C) sets a flag children check at each poll:
 * they stop yielding and finish at once, except one already asleep, which
 * finishes at its deadline.  Children are detached: nobody joins them.
 * A child cancelled on its own (`kill ID`) counts as finished, on no core.
 */
#ifndef HYPHAE_SHELL_BATCH_H
#define HYPHAE_SHELL_BATCH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "rt/rt.h"
#include "sched/sync.h"

struct shell_batch {
	/* Constant after shell_batch_new(). */
	struct runtime *rt;
	uint64_t yields;
	uint64_t sleep_ns;

	/* Any holder (relaxed counters except where noted in batch.c). */
	atomic_uint refs;
	atomic_bool cancel;
	atomic_uint_least64_t remaining;	/* children not finished */
	atomic_uint_least64_t spawned;
	struct wait_cell done;			/* woken by the last child */
	atomic_uint per_core[MAX_CORES];	/* children finished per slot */
};

/* A batch that expects `n` children; the caller holds one reference.
 * NULL if out of memory.  Task context. */
struct shell_batch *shell_batch_new(struct runtime *rt, uint64_t n,
				    uint64_t yields, uint64_t sleep_ns);

/* Spawn one child (on the calling core's scheduler).  0 or -ENOMEM.  The
 * job's task only. */
int __must_check shell_batch_spawn(struct shell_batch *b);

/* `n` expected children will never be spawned (out of memory): stop
 * waiting for them.  The job's task only. */
void shell_batch_forget(struct shell_batch *b, uint64_t n);

/* True once every expected child has finished. */
bool shell_batch_finished(struct shell_batch *b);

/* READY once finished, else registers cx with the batch's cell.  One
 * waiter (the job); shaped as a timer_poll_fn for struct timeout. */
enum poll shell_batch_poll(void *batch, struct context *cx);

/* Children finished so far. */
uint64_t shell_batch_done_count(struct shell_batch *b);

/* Ask the children to stop early.  Any context. */
void shell_batch_cancel(struct shell_batch *b);

/* Drop a reference (a child's). */
void shell_batch_unref(struct shell_batch *b);

/* The job is done with the batch (finished or cancelled): cancel what
 * still runs, drop its registration and its reference.  The job only. */
void shell_batch_release(struct shell_batch *b);

#endif /* HYPHAE_SHELL_BATCH_H */
