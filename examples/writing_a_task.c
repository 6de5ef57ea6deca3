/*
 * writing_a_task.c - the example docs/WRITING-TASKS.md and the README's
 * "Writing a task" quote: a task that yields and sleeps, and a parent that
 * spawns two of them, joins one for its result and cancels the other.
 *
 * `make test` builds this file against the host runtime (libhyphae.a, two
 * cores on threads: tests/support/rt_harness.h), runs it and checks what
 * it prints and returns; tools/check-docs checks that every document
 * quotes the regions between the example:begin and example:end markers
 * byte for byte.  To change the documented code, change it here, then
 * paste the region into the document (the check names what differs).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "clock.h"
#include "lib/fmt.h"
#include "rt/rt.h"
#include "sched/task.h"
#include "tests/support/capture.h"
#include "tests/support/rt_harness.h"
#include "timer/sleep.h"

/* example:begin worker */
/*
 * A worker adds up 1..n, yielding after every 1000 numbers so the other
 * tasks on its core get their turn, then sleeps until its deadline and
 * returns the sum.
 */
struct worker {
	struct task task;	/* first: the scheduler's header */
	unsigned pt;		/* protothread state, 0 before the first poll */
	uint64_t n, i;		/* what must survive a yield lives here */
	struct sleep nap;	/* set up by worker_spawn() */
	uint64_t sum;		/* the output: join_poll() copies it out */
};

static enum poll worker_poll(struct task *t, struct context *cx)
{
	struct worker *w = container_of(t, struct worker, task);

	TASK_BEGIN(w->pt);
	for (w->i = 1; w->i <= w->n; w->i++) {
		w->sum += w->i;
		if (w->i % 1000 == 0)
			TASK_YIELD();
	}
	TASK_AWAIT(sleep_poll(&w->nap, cx));
	TASK_END;
}

/*
 * Called once: when the task completes, when it is cancelled (its poll is
 * not called again), or when its last reference goes while it is pending.
 * It releases what the poll state holds: a worker cancelled in its sleep
 * is still in the timer wheel.
 */
static void worker_drop_state(struct task *t)
{
	sleep_drop(&container_of(t, struct worker, task)->nap);
}

static const struct task_vtable worker_vt = {
	.poll = worker_poll,
	.drop_state = worker_drop_state,
	TASK_OUTPUT(struct worker, sum),
	.name = "worker",
};
/* example:end */

/* example:begin spawn */
/*
 * Spawn a worker on `rt` that sums 1..n and wakes `ms` milliseconds after
 * this call (a sleep's deadline is fixed when it is made).  From a task,
 * rt_spawn() queues it on the calling core; from anywhere else, in the
 * injector.  0, -ERANGE (too long for the clock) or -ENOMEM.
 */
static int worker_spawn(struct runtime *rt, uint64_t n, uint64_t ms,
			struct join_handle *jh)
{
	struct worker init = { .n = n };
	int err = sleep_init_duration(&init.nap, &rt->timer, ms * NS_PER_MS);

	if (err)
		return err;
	/* Copies `init` into the task's own storage. */
	return rt_spawn(rt, &worker_vt, &init, sizeof(init), jh);
}
/* example:end */

/* example:begin parent */
/*
 * The parent spawns a quick worker and a slow one, waits for the quick
 * one's sum, cancels the slow one and waits for that too.  Its output is
 * 0 or the error that stopped it.
 */
struct parent {
	struct task task;
	unsigned pt;
	struct runtime *rt;
	struct join_handle quick, slow;
	uint64_t quick_sum;
	int result;
};

static enum poll parent_poll(struct task *t, struct context *cx)
{
	struct parent *p = container_of(t, struct parent, task);

	TASK_BEGIN(p->pt);
	p->result = worker_spawn(p->rt, 10000, 10, &p->quick);
	if (p->result == 0)
		p->result = worker_spawn(p->rt, 100, 60 * MS_PER_SEC, &p->slow);
	if (p->result != 0)
		return POLL_READY;	/* drop_state cancels what did start */

	TASK_AWAIT(join_poll(&p->quick, cx, &p->quick_sum, sizeof(p->quick_sum)));
	kprintf("quick worker: %s, sum %llu\n",
		p->quick.result == JOIN_OK ? "done" : "cancelled",
		(unsigned long long)p->quick_sum);

	(void)join_cancel(&p->slow);
	TASK_AWAIT(join_poll(&p->slow, cx, NULL, 0));
	kprintf("slow worker: %s\n",
		p->slow.result == JOIN_CANCELLED ? "cancelled" : "done");
	TASK_END;
}

/*
 * A parent that ends early, or is itself cancelled, takes its children
 * with it.  Handles already joined are empty, and both calls do nothing
 * on an empty handle.
 */
static void parent_drop_state(struct task *t)
{
	struct parent *p = container_of(t, struct parent, task);

	(void)join_cancel(&p->quick);
	join_drop(&p->quick);
	(void)join_cancel(&p->slow);
	join_drop(&p->slow);
}

static const struct task_vtable parent_vt = {
	.poll = parent_poll,
	.drop_state = parent_drop_state,
	TASK_OUTPUT(struct parent, result),
	.name = "parent",
};
/* example:end */

/* ---- running it on the host: not quoted ---------------------------------- */

/* Longest the parent may take: its quick worker sleeps 10 ms. */
#define RUN_TIMEOUT_MS	10000

static struct harness h;
static struct join_handle parent_jh;
static int spawn_err, parent_out = -1;
static enum poll parent_joined = POLL_PENDING;
static uint64_t elapsed_ms;

/* Spawn the parent from the main thread (into the injector), wait for it
 * and join it.  Runs with stdout captured; the test asserts afterwards. */
static void run_parent(void)
{
	struct parent init = { .rt = h.rt };
	struct context check = { NULL, NULL };	/* a waker-less join only checks */
	uint64_t start = h_now_ms();

	spawn_err = rt_spawn(h.rt, &parent_vt, &init, sizeof(init), &parent_jh);
	if (spawn_err)
		return;
	while (!join_is_finished(&parent_jh) &&
	       h_now_ms() - start < RUN_TIMEOUT_MS)
		sched_yield();
	parent_joined = join_poll(&parent_jh, &check, &parent_out,
				  sizeof(parent_out));
	elapsed_ms = h_now_ms() - start;
}

static void test_parent_joins_one_worker_and_cancels_the_other(void **state)
{
	char printed[256];

	(void)state;
	h_start(&h, 2);
	capture_stdout(run_parent, printed, sizeof(printed));
	h_stop(&h);

	assert_int_equal(spawn_err, 0);
	assert_int_equal(parent_joined, POLL_READY);
	assert_int_equal(parent_jh.result, JOIN_OK);
	assert_int_equal(parent_out, 0);
	assert_string_equal(printed, "quick worker: done, sum 50005000\n"
				     "slow worker: cancelled\n");
	/* The quick worker slept its 10 ms; the slow one's 60 s did not
	 * hold anyone up. */
	assert_true(elapsed_ms >= 10);
	assert_true(elapsed_ms < RUN_TIMEOUT_MS);
	/* 10 yields of the quick worker, counted as wakes by their core. */
	assert_true(H_SUM(&h, sched.woken_internal) >= 10);
	/* The cancelled worker's drop_state took its sleep out of the wheel:
	 * what is left is at most the stuck-poll watchdog's entry. */
	assert_int_equal(timer_wheel_pending(&h.rt->timer.wheel),
			 atomic_load(&h.rt->wd_timer_on) ? 1 : 0);
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_joins_one_worker_and_cancels_the_other),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
