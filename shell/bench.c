/*
 * bench.c - `bench`: micro-benchmarks of the running runtime, as a job.
 *
 * Four measurements, each printed as a table row when it is done:
 *   spawn+complete  BENCH_SPAWN tasks that finish at once (shell/batch.h),
 *                   from the first spawn to the last completion, per task;
 *   yield           the job yields BENCH_YIELDS times, per yield;
 *   wake-to-run     a task parked on another core's scheduler is woken
 *                   through its wait cell (an IPI when that core sleeps)
 *                   and notes the clock when it runs; median of
 *                   BENCH_WAKES rounds, each after the target went idle;
 *   timer           BENCH_TIMERS entries inserted then cancelled, per op;
 *   sync            a mutex handed between tasks, a semaphore with more
 *                   tasks than permits, a channel between two tasks
 *                   (shell/bench_sync.h), per operation.
 * Ctrl-C cancels: drop_state releases the batch, the parked task, the
 * timer entries and the sync rows' helpers.  Times are on the runtime's
 * clock.
 */
#include "errno.h"
#include "kmalloc.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "sched/sync.h"
#include "shell/batch.h"
#include "shell/bench_sync.h"
#include "shell/rt_commands.h"
#include "timer/sleep.h"

#define BENCH_SPAWN	10000u
#define BENCH_SPAWN_CHUNK	256u
#define BENCH_YIELDS	20000u
#define BENCH_WAKES	64u
#define BENCH_TIMERS	4096u
/* The parked task's core is given this long to fall asleep each round. */
#define BENCH_SETTLE_NS	(1000ull * 1000)
/* Timer entries are armed this far out, so none fires while measured. */
#define BENCH_TIMER_FAR_NS	(60ull * 1000 * 1000 * 1000)

/* The task woken across cores: its cells and what it saw. */
struct parked {
	struct task task;
	unsigned pt;
	struct wait_cell go;		/* the bench wakes it here */
	struct wait_cell back;		/* it wakes the bench here */
	atomic_bool ready;		/* parked on `go` (release/acquire) */
	atomic_bool stop;
	_Atomic uint64_t ran_at;	/* clock when its poll ran after a wake */
	_Atomic unsigned ran_on;	/* slot it ran on */
};

/* Await `go`; once registered there, say so. */
static enum poll parked_wait(struct parked *p, struct context *cx)
{
	if (wait_cell_poll(&p->go, cx) == POLL_READY)
		return POLL_READY;
	/* release: pairs with the bench's acquire load of `ready`, which then
	 * knows our waker is registered in `go`. */
	atomic_store_explicit(&p->ready, true, memory_order_release);
	return POLL_PENDING;
}

static enum poll parked_poll(struct task *t, struct context *cx)
{
	struct parked *p = container_of(t, struct parked, task);
	struct rt_core *core;

	TASK_BEGIN(p->pt);
	for (;;) {
		TASK_AWAIT(parked_wait(p, cx));
		atomic_store_explicit(&p->ran_at, clock_now(shell_runtime()->clock),
				      memory_order_relaxed);
		core = rt_current_core();
		atomic_store_explicit(&p->ran_on, core ? core->slot->index : 0,
				      memory_order_relaxed);
		if (atomic_load_explicit(&p->stop, memory_order_relaxed))
			break;
		/* The wake's lock publishes ran_at to the bench. */
		(void)wait_cell_wake(&p->back);
	}
	TASK_END;
}

static void parked_drop_state(struct task *t)
{
	struct parked *p = container_of(t, struct parked, task);

	wait_cell_unregister(&p->go);
}

static const struct task_vtable parked_vt = {
	.poll = parked_poll,
	.drop_state = parked_drop_state,
	.name = "bench-parked",
};

struct bench_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct runtime *rt;
	unsigned i;
	ticks_t start;
	struct shell_batch *batch;
	struct sleep sleep;
	bool sleep_used;
	struct join_handle parked_jh;
	struct parked *parked;
	unsigned target, cross;
	uint64_t lat[BENCH_WAKES];
	struct timer_entry *entries;
	unsigned kind;
	struct shell_sync_bench *sync;
};

static uint64_t since_ns(struct bench_job *j)
{
	uint64_t ns;

	if (clock_ticks_to_ns(j->rt->clock, clock_now(j->rt->clock) - j->start, &ns))
		return UINT64_MAX;
	return ns;
}

static void row(struct bench_job *j, const char *name, uint64_t ns_per,
		const char *unit, unsigned runs)
{
	char v[24];

	shell_printf(&j->out, "  %-30s %14s%-7s %8u\n", name,
		     fmt_ns(v, sizeof(v), ns_per), unit, runs);
}

static unsigned this_slot(void)
{
	struct rt_core *core = rt_current_core();

	return core ? core->slot->index : 0;
}

static void wake_report(struct bench_job *j, unsigned n)
{
	uint64_t *a = j->lat;
	char med[24], lo[24], hi[24];

	for (unsigned x = 1; x < n; x++)		/* insertion sort, n small */
		for (unsigned y = x; y > 0 && a[y - 1] > a[y]; y--) {
			uint64_t tmp = a[y];

			a[y] = a[y - 1];
			a[y - 1] = tmp;
		}
	shell_printf(&j->out, "  %-30s %14s median  %8u   (min %s, max %s; cpu%u -> cpu%u)\n",
		     "wake-to-run, other core", fmt_ns(med, sizeof(med), a[n / 2]),
		     n, fmt_ns(lo, sizeof(lo), a[0]),
		     fmt_ns(hi, sizeof(hi), a[n - 1]), this_slot(), j->target);
}

static enum poll bench_poll(struct task *t, struct context *cx)
{
	struct bench_job *j = container_of(t, struct bench_job, task);
	struct parked init_parked;
	uint64_t ns;

	TASK_BEGIN(j->pt);
	shell_printf(&j->out, "bench: %u cores, clock %s; Ctrl-C stops\n",
		     rt_active_cores(j->rt), j->rt->clock->name);
	shell_printf(&j->out, "  %-30s %21s %8s\n", "benchmark", "result", "runs");

	/* spawn+complete */
	j->batch = shell_batch_new(j->rt, BENCH_SPAWN, 0, 0);
	if (j->batch == NULL) {
		shell_puts(&j->out, "bench: out of memory\n");
		j->status = -ENOMEM;
		return POLL_READY;
	}
	j->start = clock_now(j->rt->clock);
	for (j->i = 0; j->i < BENCH_SPAWN; j->i++) {
		if (shell_batch_spawn(j->batch) != 0) {
			shell_batch_forget(j->batch, BENCH_SPAWN - j->i);
			break;
		}
		if ((j->i + 1) % BENCH_SPAWN_CHUNK == 0)
			TASK_YIELD();
	}
	TASK_AWAIT(shell_batch_poll(j->batch, cx));
	if (j->i)
		row(j, "spawn+complete", since_ns(j) / j->i, "/task", j->i);
	shell_batch_release(j->batch);
	j->batch = NULL;

	/* yield */
	j->start = clock_now(j->rt->clock);
	for (j->i = 0; j->i < BENCH_YIELDS; j->i++)
		TASK_YIELD();
	row(j, "yield", since_ns(j) / BENCH_YIELDS, "/yield", BENCH_YIELDS);

	/* wake-to-run across cores */
	if (rt_active_cores(j->rt) < 2) {
		shell_printf(&j->out, "  %-30s %21s\n", "wake-to-run, other core",
			     "n/a (1 core)");
	} else {
		j->target = (this_slot() + 1) % rt_active_cores(j->rt);
		memset(&init_parked, 0, sizeof(init_parked));
		wait_cell_init(&init_parked.go);
		wait_cell_init(&init_parked.back);
		/* Pinned: a wake from this poll would otherwise pull it onto
		 * this core (sched_enqueue_woken). */
		if (rt_spawn_on(j->rt, j->target, &parked_vt, &init_parked,
				sizeof(init_parked), &j->parked_jh) != 0) {
			shell_puts(&j->out, "bench: out of memory\n");
		} else {
			j->parked = container_of(j->parked_jh.task, struct parked, task);
			for (j->i = 0, j->cross = 0; j->i < BENCH_WAKES; j->i++) {
				/* Let it park and its core fall asleep. */
				do {
					j->sleep_used = sleep_init_duration(&j->sleep,
						&j->rt->timer, BENCH_SETTLE_NS) == 0;
					TASK_AWAIT(j->sleep_used ?
						   sleep_poll(&j->sleep, cx) : POLL_READY);
				/* acquire: pairs with the release store in
				 * parked_wait(): its waker is in `go`. */
				} while (!atomic_load_explicit(&j->parked->ready,
							       memory_order_acquire));
				atomic_store_explicit(&j->parked->ready, false,
						      memory_order_relaxed);
				j->start = clock_now(j->rt->clock);
				(void)wait_cell_wake(&j->parked->go);
				TASK_AWAIT(wait_cell_poll(&j->parked->back, cx));
				if (atomic_load_explicit(&j->parked->ran_on,
							 memory_order_relaxed) == this_slot())
					continue;	/* stolen onto our core: not across */
				ns = 0;
				(void)!clock_ticks_to_ns(j->rt->clock,
					atomic_load_explicit(&j->parked->ran_at,
							     memory_order_relaxed) - j->start,
					&ns);
				j->lat[j->cross++] = ns;
			}
			if (j->cross)
				wake_report(j, j->cross);
			else
				shell_printf(&j->out, "  %-30s %21s\n",
					     "wake-to-run, other core",
					     "n/a (woken task ran here)");
			/* Our waker leaves `back` before the join frees it. */
			wait_cell_unregister(&j->parked->back);
			atomic_store_explicit(&j->parked->stop, true, memory_order_relaxed);
			(void)wait_cell_wake(&j->parked->go);
			j->parked = NULL;
			TASK_AWAIT(join_poll(&j->parked_jh, cx, NULL, 0));
		}
	}

	/* timer insert / cancel */
	j->entries = kmalloc(BENCH_TIMERS * sizeof(*j->entries));
	if (j->entries) {
		struct timer *tm = &j->rt->timer;
		ticks_t far = 0, base;

		(void)!clock_ns_to_ticks(j->rt->clock, BENCH_TIMER_FAR_NS, &far);
		base = timer_clock_now(tm) + far;
		for (unsigned e = 0; e < BENCH_TIMERS; e++)
			timer_entry_init(&j->entries[e]);
		j->start = clock_now(j->rt->clock);
		for (unsigned e = 0; e < BENCH_TIMERS; e++)
			(void)!timer_insert(tm, &j->entries[e], base + e * 997u);
		row(j, "timer insert", since_ns(j) / BENCH_TIMERS, "/op", BENCH_TIMERS);
		j->start = clock_now(j->rt->clock);
		for (unsigned e = 0; e < BENCH_TIMERS; e++)
			(void)timer_cancel(tm, &j->entries[e]);
		row(j, "timer cancel", since_ns(j) / BENCH_TIMERS, "/op", BENCH_TIMERS);
		kfree(j->entries);
		j->entries = NULL;
	}

	/* mutex handoff, semaphore, channel */
	for (j->kind = 0; j->kind < SHELL_SYNC_KINDS; j->kind++) {
		j->start = clock_now(j->rt->clock);
		j->sync = shell_sync_bench_start(j->rt, j->kind);
		if (j->sync == NULL) {
			shell_puts(&j->out, "bench: out of memory\n");
			break;
		}
		TASK_AWAIT(shell_sync_bench_poll(j->sync, cx));
		row(j, shell_sync_bench_name(j->kind),
		    since_ns(j) / shell_sync_bench_ops(j->sync),
		    shell_sync_bench_unit(j->kind),
		    (unsigned)shell_sync_bench_ops(j->sync));
		shell_sync_bench_release(j->sync, false);
		j->sync = NULL;
	}
	j->status = 0;
	TASK_END;
}

static void bench_drop_state(struct task *t)
{
	struct bench_job *j = container_of(t, struct bench_job, task);

	if (j->batch)
		shell_batch_release(j->batch);
	if (j->sleep_used)
		sleep_drop(&j->sleep);
	if (j->parked) {
		atomic_store_explicit(&j->parked->stop, true, memory_order_relaxed);
		(void)wait_cell_wake(&j->parked->go);
		wait_cell_unregister(&j->parked->back);
	}
	/* The parked task finishes on its own; its storage goes with the
	 * last reference. */
	join_drop(&j->parked_jh);
	kfree(j->entries);
	if (j->sync)
		shell_sync_bench_release(j->sync, true);
}

static const struct task_vtable bench_vt = {
	.poll = bench_poll,
	.drop_state = bench_drop_state,
	TASK_OUTPUT(struct bench_job, status),
	.name = "bench",
};

int shell_bench_start(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out, struct shell_job *job)
{
	struct bench_job init = { .out = *out, .rt = shell_runtime(),
				  .parked_jh = JOIN_HANDLE_NONE };
	int err;

	(void)cmd;
	(void)argc;
	(void)argv;
	err = rt_spawn(init.rt, &bench_vt, &init, sizeof(init), &job->jh);
	if (err) {
		shell_printf(out, "error: bench: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}
