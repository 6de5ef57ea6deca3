/*
 * bench_sync.h - the `bench` rows of the async sync primitives: a mutex
 * handed between tasks, a semaphore shared by more tasks than permits,
 * and a channel from one task to another.
 *
 * A row's helper tasks share one block (the primitive, counters, the wait
 * cell the job awaits) that is reference counted - one reference per
 * helper plus the job's - and freed by the last holder, so a job
 * cancelled with Ctrl-C can let go while helpers still run: it sets the
 * cancel flag and closes what can be closed, and each helper stops at its
 * next round.
 */
#ifndef HYPHAE_SHELL_BENCH_SYNC_H
#define HYPHAE_SHELL_BENCH_SYNC_H

#include <stdint.h>

#include "rt/rt.h"
#include "sched/waker.h"

enum shell_sync_kind {
	SHELL_SYNC_MUTEX = 0,	/* tasks take turns with a mutex, yield holding */
	SHELL_SYNC_SEMAPHORE,	/* more tasks than permits */
	SHELL_SYNC_CHANNEL,	/* one sender task, one receiver task */
	SHELL_SYNC_KINDS,
};

struct shell_sync_bench;

/* Spawn the row's helpers on `rt`; NULL if out of memory.  The job's
 * task. */
struct shell_sync_bench *shell_sync_bench_start(struct runtime *rt,
						enum shell_sync_kind kind);

/* READY once every helper finished (cx's waker is registered until then).
 * One waiter: the job. */
enum poll shell_sync_bench_poll(struct shell_sync_bench *b, struct context *cx);

/* Operations the row measured (handoffs, acquires, items); its name and
 * unit for the table. */
uint64_t shell_sync_bench_ops(const struct shell_sync_bench *b);
const char *shell_sync_bench_name(enum shell_sync_kind kind);
const char *shell_sync_bench_unit(enum shell_sync_kind kind);

/* The job lets go of the block; `cancel` first stops the helpers.  The
 * job's task (or its drop_state). */
void shell_sync_bench_release(struct shell_sync_bench *b, bool cancel);

#endif /* HYPHAE_SHELL_BENCH_SYNC_H */
