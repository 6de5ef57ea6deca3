/*
 * test_watch.c - cores watching each other (rt/watch.c) on host cores:
 *
 *   - no stranded batch: WORKERS=2, a task spinning 200 ms on core 1 with
 *     15 short tasks behind it in the same batch; they finish on core 0
 *     within 1 ms of core 0 becoming free (the first of up to twenty
 *     tries that does: on a loaded machine the host's scheduler takes
 *     milliseconds from these threads now and then; every try must
 *     finish them on core 0 within 100 ms, long before the spin ends);
 *   - no stranded LIFO slot: a task woken into core 1's LIFO slot by a
 *     poll that then spins 400 ms runs on core 0 instead, within 200 ms;
 *     and the same for a task that poll spawns onto core 1, and for a
 *     second one it spawns after a kick took the first (it goes to the
 *     queue, where a watcher takes it);
 *   - the watchdog reports a stuck poll once, naming core, task and id,
 *     and reports nothing while cores are idle, tasks sleep on the timer,
 *     or a task makes many short polls;
 *   - a thief leaves a peer's queue of one tick's batch or less, unless
 *     the poll in front of it has run RT_STRAND_NS;
 *   - a task woken by a poll on core 0 runs there at once (pulled) while
 *     its own core 1 is busy or asleep, and, pinned, always waits for
 *     core 1; one woken by core 1 is never pulled down to it from core 0
 *     (pulls go to the lower index), yet runs before core 0's poll ends,
 *     and goes home to core 0 asleep; one pulled from a sleeping core
 *     into a poll that then runs long is handed back by a kick;
 *   - its rules without threads (rt_watch_at on a runtime whose second
 *     slot is faked): a poll past the threshold is reported only when it
 *     is still the same poll RT_WATCHDOG_CONFIRM_NS later (a core the host
 *     descheduled mid-poll, whose poll then ends, is not), and once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "config.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "sched/task.h"
#include "tests/support/capture.h"
#include "tests/support/rt_harness.h"
#include "tests/support/sleeper.h"
#include "timer/sleep.h"

#define WORKERS		2
#define SHORTS		15
#define STRAND_TRIES	20
#define MS		1000000ull

static uint64_t now_ns(void)
{
	return clock_now(arch_clock());
}

/* Spin until *flag is false (a gate) or `ns` passed, politely. */
static void spin(atomic_bool *flag, uint64_t ns)
{
	uint64_t end = now_ns() + ns;

	while ((flag ? atomic_load(flag) : true) && now_ns() < end)
		arch_cpu_relax();
}

/* ---- tasks ---------------------------------------------------------------- */

static atomic_bool gate_closed[WORKERS];
static atomic_bool gate_running[WORKERS];
static atomic_bool spinner_started;
static atomic_uint shorts_done;
static uint64_t short_end[SHORTS];
static int short_core[SHORTS];
static uint64_t spin_ns;

struct gate_task {
	struct task task;
	unsigned core;
};

static enum poll gate_poll(struct task *t, struct context *cx)
{
	struct gate_task *g = container_of(t, struct gate_task, task);

	(void)cx;
	atomic_store(&gate_running[g->core], true);
	spin(&gate_closed[g->core], 10000 * MS);
	return POLL_READY;
}

static const struct task_vtable gate_vt = { .poll = gate_poll, .name = "gate" };

static enum poll spinner_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	atomic_store(&spinner_started, true);
	spin(NULL, spin_ns);
	return POLL_READY;
}

static const struct task_vtable spinner_vt = { .poll = spinner_poll,
					       .name = "spinner" };

struct short_task {
	struct task task;
	unsigned i;
};

static enum poll short_poll(struct task *t, struct context *cx)
{
	struct short_task *s = container_of(t, struct short_task, task);
	struct rt_core *cur = rt_current_core();

	(void)cx;
	short_end[s->i] = now_ns();
	short_core[s->i] = cur ? (int)cur->slot->index : -1;
	atomic_fetch_add(&shorts_done, 1);
	return POLL_READY;
}

static const struct task_vtable short_vt = { .poll = short_poll, .name = "short" };

/* The test thread waits asleep: the cores need this machine's CPUs. */
static void nap(void)
{
	struct timespec ts = { 0, 50000 };

	nanosleep(&ts, NULL);
}

static bool wait_until(atomic_bool *flag, uint64_t ms)
{
	uint64_t end = h_now_ms() + ms;

	while (!atomic_load(flag)) {
		if (h_now_ms() > end)
			return false;
		nap();
	}
	return true;
}

/* ---- no stranded batch ----------------------------------------------------- */

/* One try: the worst finish after core 0 was let go, in ns. */
static uint64_t strand_once(struct harness *h)
{
	struct gate_task g0 = { .core = 0 }, g1 = { .core = 1 };
	struct scheduler *s1 = &h->rt->slots[1].sched;
	uint64_t t0, worst = 0;

	atomic_store(&spinner_started, false);
	atomic_store(&shorts_done, 0);
	for (unsigned c = 0; c < WORKERS; c++) {
		atomic_store(&gate_closed[c], true);
		atomic_store(&gate_running[c], false);
	}
	/* Both cores held in a poll, so nothing moves yet. */
	assert_int_equal(rt_spawn_on(h->rt, 0, &gate_vt, &g0, sizeof(g0), NULL), 0);
	assert_int_equal(rt_spawn_on(h->rt, 1, &gate_vt, &g1, sizeof(g1), NULL), 0);
	assert_true(wait_until(&gate_running[0], 5000));
	assert_true(wait_until(&gate_running[1], 5000));
	/* The spinner, then the short tasks, all queued on core 1. */
	spin_ns = 200 * MS;
	assert_int_equal(sched_spawn(s1, &spinner_vt, NULL, sizeof(struct task),
				     NULL), 0);
	for (unsigned i = 0; i < SHORTS; i++) {
		struct short_task st = { .i = i };

		short_core[i] = -2;
		assert_int_equal(sched_spawn(s1, &short_vt, &st, sizeof(st), NULL), 0);
	}
	/* Core 1 takes them as one batch and starts the spinner. */
	atomic_store(&gate_closed[1], false);
	assert_true(wait_until(&spinner_started, 5000));
	t0 = now_ns();
	atomic_store(&gate_closed[0], false);
	while (atomic_load(&shorts_done) < SHORTS && now_ns() - t0 < 150 * MS)
		nap();
	assert_int_equal(atomic_load(&shorts_done), SHORTS);
	for (unsigned i = 0; i < SHORTS; i++) {
		assert_int_equal(short_core[i], 0);
		worst = MAX(worst, short_end[i] > t0 ? short_end[i] - t0 : 0);
	}
	/* Not stranded: well before the spin ends. */
	assert_true(worst < 100 * MS);
	/* The spin ends; then nothing is left behind. */
	while (sched_queued(s1) > 0 || (atomic_load(&s1->poll_seq) & 1))
		nap();
	return worst;
}

static void test_no_stranded_batch(void **st)
{
	struct harness h;
	uint64_t best = UINT64_MAX;

	(void)st;
	h_start(&h, WORKERS);
	for (unsigned k = 0; k < STRAND_TRIES && best > MS; k++) {
		uint64_t w = strand_once(&h);

		print_message("strand try %u: the %u tasks finished on core 0 "
			      "within %llu us\n", k, SHORTS,
			      (unsigned long long)(w / 1000));
		best = MIN(best, w);
	}
	/* The batch was taken back by a kick, not just stolen. */
	assert_true(atomic_load(&h.rt->slots[1].kicks) >= 1);
	assert_true(atomic_load(&h.rt->slots[1].sched.pstats.released) >= 1);
	assert_true(best <= MS);
	h_stop(&h);
	h_free(&h);
}

/*
 * Hold core 0 in a gate, queue `vt` (a long poll that sets
 * spinner_started) alone on core 1, wait for its poll to start, then let
 * core 0 go: returns when it did (ns).
 */
static uint64_t long_poll_on_core1(struct harness *h, struct gate_task *g0,
				   const struct task_vtable *vt)
{
	atomic_store(&spinner_started, false);
	atomic_store(&gate_closed[0], true);
	atomic_store(&gate_running[0], false);
	g0->core = 0;
	assert_int_equal(rt_spawn_on(h->rt, 0, &gate_vt, g0, sizeof(*g0), NULL), 0);
	assert_true(wait_until(&gate_running[0], 5000));
	assert_int_equal(sched_spawn(&h->rt->slots[1].sched, vt, NULL,
				     sizeof(struct task), NULL), 0);
	assert_true(wait_until(&spinner_started, 5000));
	atomic_store(&gate_closed[0], false);
	return now_ns();
}

/* ---- no stranded LIFO slot -------------------------------------------------- */

/*
 * The LIFO slot holds a task the poll woke on its own core; a long poll
 * must not hold it either.  X parks on core 1; A, queued alone on core 1
 * (nothing left in its batch), wakes X, which goes into the slot, and
 * spins LONG_SPIN.  X must run on core 0, long before the spin ends
 * (within half of it: a kick comes after 100 us; the margin is for a
 * host that deschedules these threads now and then).
 */
#define LONG_SPIN	(400 * MS)
static struct waker x_waker;
static atomic_bool x_parked;
static atomic_int x_core;
static uint64_t x_end;

struct parked_task {
	struct task task;
	unsigned pt;
};

/* The spinner says go (the wake alone could be spurious). */
static enum poll x_released(void)
{
	return atomic_load(&x_core) == -2 ? POLL_READY : POLL_PENDING;
}

static enum poll parked_poll(struct task *t, struct context *cx)
{
	struct parked_task *x = container_of(t, struct parked_task, task);
	struct rt_core *cur;

	TASK_BEGIN(x->pt);
	x_waker = waker_clone(cx->waker);
	atomic_store(&x_parked, true);
	TASK_AWAIT(x_released());
	cur = rt_current_core();
	x_end = now_ns();
	atomic_store(&x_core, cur ? (int)cur->slot->index : -1);
	TASK_END;
}

static const struct task_vtable parked_vt = { .poll = parked_poll,
					      .name = "parked" };

/* Set by test_no_stranded_pull: wake X only once core 1 sleeps. */
static atomic_bool spin_after_idle;
static uint64_t spin_wake_ns;	/* published by spinner_started */

static enum poll waking_spinner_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();
	uint64_t end = now_ns() + 2000 * MS;

	(void)t;
	(void)cx;
	while (atomic_load(&spin_after_idle) &&
	       atomic_load(&cur->rt->slots[1].state) != RT_CORE_IDLE &&
	       now_ns() < end)
		arch_cpu_relax();
	atomic_store(&x_core, -2);
	spin_wake_ns = now_ns();
	waker_wake(&x_waker);
	atomic_store(&spinner_started, true);
	spin(NULL, LONG_SPIN);
	return POLL_READY;
}

static const struct task_vtable waking_spinner_vt = {
	.poll = waking_spinner_poll, .name = "waking-spinner" };

static void test_no_stranded_lifo(void **st)
{
	struct harness h;
	struct gate_task g0 = { .core = 0 };
	struct scheduler *s1;
	uint64_t t0;

	(void)st;
	h_start(&h, WORKERS);
	s1 = &h.rt->slots[1].sched;
	atomic_store(&x_parked, false);
	atomic_store(&x_core, -1);
	atomic_store(&spinner_started, false);
	/* X polled once on core 1, parked with its waker saved. */
	assert_int_equal(sched_spawn(s1, &parked_vt, NULL,
				     sizeof(struct parked_task), NULL), 0);
	assert_true(wait_until(&x_parked, 5000));
	/* Core 0 held, so it cannot take X before the spin starts. */
	t0 = long_poll_on_core1(&h, &g0, &waking_spinner_vt);
	while (atomic_load(&x_core) < 0 && now_ns() - t0 < LONG_SPIN)
		nap();
	print_message("the woken task ran on core %d, %llu us after core 0 "
		      "was free\n", atomic_load(&x_core),
		      (unsigned long long)((x_end > t0 ? x_end - t0 : 0) / 1000));
	assert_int_equal(atomic_load(&x_core), 0);
	assert_true(x_end - t0 < LONG_SPIN / 2);
	/* Handed back by a kick. */
	assert_true(atomic_load(&h.rt->slots[1].kicks) >= 1);
	h_stop(&h);
	h_free(&h);
}

/*
 * The same for a task that a long poll spawns onto its own core: the
 * child must not wait for the poll to return.
 */
static atomic_int child_core;
static uint64_t child_end;

static enum poll child_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();

	(void)t;
	(void)cx;
	child_end = now_ns();
	atomic_store(&child_core, cur ? (int)cur->slot->index : -1);
	return POLL_READY;
}

static const struct task_vtable child_vt = { .poll = child_poll,
					     .name = "child" };

static enum poll spawning_spinner_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();

	(void)t;
	(void)cx;
	if (sched_spawn(&cur->slot->sched, &child_vt, NULL,
			sizeof(struct task), NULL))
		abort();
	atomic_store(&spinner_started, true);
	spin(NULL, LONG_SPIN);
	return POLL_READY;
}

static const struct task_vtable spawning_spinner_vt = {
	.poll = spawning_spinner_poll, .name = "spawning-spinner" };

static void test_no_stranded_spawn(void **st)
{
	struct harness h;
	struct gate_task g0 = { .core = 0 };
	uint64_t t0;

	(void)st;
	h_start(&h, WORKERS);
	atomic_store(&child_core, -1);
	t0 = long_poll_on_core1(&h, &g0, &spawning_spinner_vt);
	while (atomic_load(&child_core) < 0 && now_ns() - t0 < LONG_SPIN)
		nap();
	print_message("the child ran on core %d, %llu us after core 0 was "
		      "free\n", atomic_load(&child_core),
		      (unsigned long long)((child_end > t0 ? child_end - t0 : 0) / 1000));
	assert_int_equal(atomic_load(&child_core), 0);
	assert_true(child_end - t0 < LONG_SPIN / 2);
	h_stop(&h);
	h_free(&h);
}

/*
 * After a kick has emptied the slot, the same poll spawns again: that
 * task goes to the queue (the watchers kick a poll once), and a watcher
 * must still take it from there, a single task that a thief would leave
 * (it takes half).
 */
static atomic_int child2_core;
static uint64_t child2_end;

static enum poll child2_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();

	(void)t;
	(void)cx;
	child2_end = now_ns();
	atomic_store(&child2_core, cur ? (int)cur->slot->index : -1);
	return POLL_READY;
}

static const struct task_vtable child2_vt = { .poll = child2_poll,
					      .name = "child2" };

static enum poll twice_spawning_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();
	uint64_t end = now_ns() + LONG_SPIN;

	(void)t;
	(void)cx;
	if (sched_spawn(&cur->slot->sched, &child_vt, NULL,
			sizeof(struct task), NULL))
		abort();
	atomic_store(&spinner_started, true);
	/* Until the first child ran elsewhere (a kick took it). */
	while (atomic_load(&child_core) < 0 && now_ns() < end)
		arch_cpu_relax();
	if (sched_spawn(&cur->slot->sched, &child2_vt, NULL,
			sizeof(struct task), NULL))
		abort();
	spin(NULL, end > now_ns() ? end - now_ns() : 0);
	return POLL_READY;
}

static const struct task_vtable twice_spawning_vt = {
	.poll = twice_spawning_poll, .name = "twice-spawning" };

/* One try: how long after core 0 was free the second child ran (ns). */
static uint64_t second_spawn_once(struct harness *h)
{
	struct gate_task g0 = { .core = 0 };
	struct scheduler *s1 = &h->rt->slots[1].sched;
	uint64_t t0, d;

	atomic_store(&child_core, -1);
	atomic_store(&child2_core, -1);
	t0 = long_poll_on_core1(h, &g0, &twice_spawning_vt);
	while (atomic_load(&child2_core) < 0 && now_ns() - t0 < 2 * LONG_SPIN)
		nap();
	assert_true(atomic_load(&child2_core) >= 0);
	d = child2_end > t0 ? child2_end - t0 : 0;
	print_message("the first child ran on core %d, the second on core %d, "
		      "%llu us after core 0 was free\n", atomic_load(&child_core),
		      atomic_load(&child2_core), (unsigned long long)(d / 1000));
	/* The spin ends; then nothing is left behind. */
	while (sched_queued(s1) > 0 || (atomic_load(&s1->poll_seq) & 1))
		nap();
	return atomic_load(&child2_core) == 0 ? d : UINT64_MAX;
}

/*
 * Up to five tries of `once` (how long its task waited, in ns, or
 * UINT64_MAX if it ran on the wrong core), as for the stranded batch: a
 * loaded host may stall these threads now and then.  The first within
 * 20 ms passes.
 */
static void five_tries(uint64_t (*once)(struct harness *h))
{
	struct harness h;
	uint64_t best = UINT64_MAX;

	h_start(&h, WORKERS);
	for (unsigned k = 0; k < 5 && best > 20 * MS; k++) {
		uint64_t d = once(&h);

		best = MIN(best, d);
	}
	assert_true(best <= 20 * MS);
	h_stop(&h);
	h_free(&h);
}

/* Without the rule the second child waits for the watchdog's look
 * (100 ms) or the spin's end (400 ms) every time. */
static void test_no_stranded_second_spawn(void **st)
{
	(void)st;
	five_tries(second_spawn_once);
}

/*
 * Every other core asleep (past its halt poll), a poll queues a few
 * tasks on its own core (fewer than a thief takes: no peer is woken to
 * steal them) and then runs long.  The watcher must still take them once
 * the poll has run RT_STRAND_NS: the owner's notify makes sure one will
 * look (rt_slot_notify, rt_slot_batch).  Without that they wait for the
 * watchdog timer's look (100 ms) or the end of the spin (400 ms).
 */
#define QUEUED_SHORTS	4

struct queueing_spinner {
	struct task task;
	unsigned pt;
};

static enum poll queueing_spinner_poll(struct task *t, struct context *cx)
{
	struct queueing_spinner *q = container_of(t, struct queueing_spinner, task);
	struct rt_core *cur = rt_current_core();
	uint64_t end = now_ns() + 2000 * MS, idle_since = 0;

	TASK_BEGIN(q->pt);
	/* Core 1 asleep first (it wakes once as a burst of work begins),
	 * and for 5 ms: past any halt poll (HOST_POLL_MAX_NS), in its
	 * futex wait, where only a wakeup or its timer ends the sleep. */
	while (now_ns() < end) {
		if (atomic_load(&cur->rt->slots[1].state) != RT_CORE_IDLE)
			idle_since = 0;
		else if (idle_since == 0)
			idle_since = now_ns();
		else if (now_ns() - idle_since > 5 * MS)
			break;
		arch_cpu_relax();
	}
	/* A new poll for the spawns: that one has run long and may have
	 * been kicked already (its own count shows a task behind it). */
	TASK_YIELD();
	spin_wake_ns = now_ns();
	/* The first goes to the LIFO slot, the rest to the queue. */
	for (unsigned i = 0; i < QUEUED_SHORTS; i++) {
		struct short_task init = { .i = i };

		if (sched_spawn(&cur->slot->sched, &short_vt, &init,
				sizeof(init), NULL))
			abort();
	}
	atomic_store(&spinner_started, true);
	spin(NULL, LONG_SPIN);
	TASK_END;
}

static const struct task_vtable queueing_spinner_vt = {
	.poll = queueing_spinner_poll, .name = "queueing-spinner" };

/* One try: when the last short task ran after the spawns (ns). */
static uint64_t queued_once(struct harness *h)
{
	struct scheduler *s0 = &h->rt->slots[0].sched;
	uint64_t worst = 0;

	atomic_store(&spinner_started, false);
	atomic_store(&shorts_done, 0);
	for (unsigned i = 0; i < QUEUED_SHORTS; i++)
		short_core[i] = -2;
	assert_int_equal(sched_spawn(s0, &queueing_spinner_vt, NULL,
				     sizeof(struct queueing_spinner), NULL), 0);
	assert_true(wait_until(&spinner_started, 5000));
	while (atomic_load(&shorts_done) < QUEUED_SHORTS &&
	       now_ns() - spin_wake_ns < 2 * LONG_SPIN)
		nap();
	assert_int_equal(atomic_load(&shorts_done), QUEUED_SHORTS);
	for (unsigned i = 0; i < QUEUED_SHORTS; i++)
		worst = MAX(worst, short_end[i] > spin_wake_ns ?
				   short_end[i] - spin_wake_ns : 0);
	print_message("the %u queued tasks ran on cores %d %d %d %d, the last "
		      "%llu us after the spawns\n", QUEUED_SHORTS, short_core[0],
		      short_core[1], short_core[2], short_core[3],
		      (unsigned long long)(worst / 1000));
	/* The spin ends; then nothing is left behind. */
	while (sched_queued(s0) > 0 || (atomic_load(&s0->poll_seq) & 1))
		nap();
	for (unsigned i = 0; i < QUEUED_SHORTS; i++)
		if (short_core[i] != 1)
			return UINT64_MAX;
	return worst;
}

static void test_no_stranded_queue_while_peers_sleep(void **st)
{
	(void)st;
	five_tries(queued_once);
}

/* ---- the watchdog on cores -------------------------------------------------- */

static struct harness wd_h;

/* The watchdog at 20 ms: one 120 ms poll on core 1. */
static void stuck_poll(void)
{
	struct join_handle jh;

	rt_watchdog_set(wd_h.rt, 20 * MS);
	spin_ns = 120 * MS;
	atomic_store(&spinner_started, false);
	assert_int_equal(rt_spawn_on(wd_h.rt, 1, &spinner_vt, NULL,
				     sizeof(struct task), &jh), 0);
	while (!join_is_finished(&jh))
		nap();
	join_drop(&jh);
	fflush(stdout);
}


struct yielder {
	struct task task;
	unsigned pt;
	uint64_t end;
};

static enum poll yielder_poll(struct task *t, struct context *cx)
{
	struct yielder *y = container_of(t, struct yielder, task);

	TASK_BEGIN(y->pt);
	while (now_ns() < y->end) {
		spin(NULL, 1 * MS);
		TASK_YIELD();
	}
	TASK_END;
}

static const struct task_vtable yielder_vt = { .poll = yielder_poll, .name = "yielder" };

static uint64_t reports(struct harness *h)
{
	return H_SUM(h, reports);
}

static void test_watchdog_reports_once(void **st)
{
	static char out[16384];
	struct join_handle jh;
	struct yielder y;
	struct sleeper_task n = { .pt = 0 };

	(void)st;
	h_start(&wd_h, WORKERS);
	capture_stdout(stuck_poll, out, sizeof(out));
	assert_int_equal(atomic_load(&wd_h.rt->slots[1].reports), 1);
	assert_int_equal(reports(&wd_h), 1);
	assert_non_null(strstr(out, "watchdog: cpu1 has been polling task spinner (id 1."));
	assert_non_null(strstr(out, "(threshold 20 ms)"));
	assert_non_null(strstr(out, "no backtrace of core 1"));

	/* Idle cores, a task asleep on the timer, many short polls: no
	 * report, with a threshold of 5 ms over 150 ms. */
	rt_watchdog_set(wd_h.rt, 5 * MS);
	for (unsigned i = 0; i < 1000; i++)
		nap();
	assert_int_equal(sleep_init_duration(&n.sleep, &wd_h.rt->timer, 100 * MS), 0);
	assert_int_equal(rt_spawn(wd_h.rt, &sleeper_task_vt, &n, sizeof(n), &jh), 0);
	y = (struct yielder){ .end = now_ns() + 100 * MS };
	assert_int_equal(rt_spawn_on(wd_h.rt, 0, &yielder_vt, &y, sizeof(y), NULL), 0);
	while (!join_is_finished(&jh))
		nap();
	join_drop(&jh);
	for (unsigned i = 0; i < 400; i++)
		nap();
	assert_int_equal(reports(&wd_h), 1);
	h_stop(&wd_h);
	h_free(&wd_h);
}

/* ---- the rules, without threads ------------------------------------------- */

/*
 * Two cores of a runtime with no threads; core 1 (*vs) shows a poll of
 * task "stuck" that started at `start` (its poll_start word), the
 * watchdog at 100 ms.  Returns the runtime (kfree it).
 */
static struct runtime *rules_setup(struct rt_core *c0, struct rt_core *c1,
				   struct rt_slot **vs, uint64_t start)
{
	struct runtime *rt = h_runtime_new();
	struct scheduler *s;

	rt_core_new(c0, rt);
	rt_core_new(c1, rt);
	arch_set_cpu_local(NULL);
	*vs = &rt->slots[1];
	s = &(*vs)->sched;
	rt_watchdog_set(rt, 100 * MS);
	atomic_store(&s->poll_id, (2ull << SCHED_ID_SHIFT) | 7);
	atomic_store(&s->poll_name, "stuck");
	atomic_store(&s->poll_start, start);
	return rt;
}

static void test_watchdog_rules(void **st)
{
	struct rt_core c0, c1;
	struct rt_slot *vs;
	uint64_t start = 1000000;
	struct runtime *rt = rules_setup(&c0, &c1, &vs, start);
	struct scheduler *s = &vs->sched;
	uint64_t wd = arch_ns_to_cycles(100 * MS), t;
	uint64_t confirm = arch_ns_to_cycles(RT_WATCHDOG_CONFIRM_NS);
	struct rt_watch_next next;

	(void)st;

	/* Between polls but running: look again a threshold from now. */
	assert_int_equal(rt_watch_at(&c0, start, &next), 0);
	assert_int_equal(next.watchdog, start + wd);
	/* In a poll, not yet past the threshold. */
	atomic_store(&s->poll_seq, 1);
	rt_watch_at(&c0, start + wd - 1, &next);
	assert_int_equal(next.watchdog, start + wd);
	assert_int_equal(next.strand, UINT64_MAX);
	/* Past it: first sighting, confirmed later. */
	t = start + wd;
	rt_watch_at(&c0, t, &next);
	assert_int_equal(next.watchdog, t + confirm);
	assert_int_equal(atomic_load(&vs->reports), 0);
	/* The host had descheduled it: resumed, the poll ended. */
	atomic_store(&s->poll_seq, 2);
	rt_watch_at(&c0, t + confirm, &next);
	assert_int_equal(atomic_load(&vs->reports), 0);
	/* A poll that really sticks: sighted, confirmed, reported once. */
	atomic_store(&s->poll_seq, 3);
	atomic_store(&s->poll_start, t);
	rt_watch_at(&c0, t + wd, &next);
	rt_watch_at(&c0, t + wd + confirm - 1, &next);
	assert_int_equal(atomic_load(&vs->reports), 0);
	rt_watch_at(&c0, t + wd + confirm, &next);
	assert_int_equal(atomic_load(&vs->reports), 1);
	rt_watch_at(&c0, t + 5 * wd, &next);
	assert_int_equal(atomic_load(&vs->reports), 1);
	/* Off: nothing to look at. */
	rt_watchdog_set(rt, 0);
	rt_watch_at(&c0, t + 10 * wd, &next);
	assert_int_equal(next.watchdog, UINT64_MAX);
	/* A batch behind the poll: a deadline, then a kick. */
	atomic_store(&s->batch_end, 5);
	atomic_store(&s->batch_next, 1);
	rt_watch_at(&c0, t, &next);
	assert_int_equal(next.strand, t + arch_ns_to_cycles(RT_STRAND_NS));
	assert_int_equal(atomic_load(&vs->kicks), 0);
	rt_watch_at(&c0, t + arch_ns_to_cycles(RT_STRAND_NS), &next);
	assert_int_equal(atomic_load(&vs->kicks), 1);
	/* Once per poll. */
	rt_watch_at(&c0, t + 2 * arch_ns_to_cycles(RT_STRAND_NS), &next);
	assert_int_equal(atomic_load(&vs->kicks), 1);
	kfree(rt);
}

/*
 * Poll timing off: the published start is the batch's (flagged), so the
 * watchdog times the poll from its first sighting; a batch that began
 * long ago does not make a poll look stuck.
 */
static void test_watchdog_untimed_rules(void **st)
{
	struct rt_core c0, c1;
	struct rt_slot *vs;
	struct runtime *rt = rules_setup(&c0, &c1, &vs,
					 1000 | SCHED_POLL_START_BATCH);
	struct scheduler *s = &vs->sched;
	uint64_t wd = arch_ns_to_cycles(100 * MS), t;
	struct rt_watch_next next;

	(void)st;
	atomic_store(&s->poll_seq, 1);
	/* A batch younger than the threshold: no poll in it can be older;
	 * nothing is written to the watched core's slot. */
	rt_watch_at(&c0, 1000 + wd - 1, &next);
	assert_int_equal(next.watchdog, 1000 + wd);
	assert_int_not_equal(atomic_load(&vs->watch_seq), 1);
	/* Ten thresholds after the batch began: only a first sighting. */
	t = 1000 + 10 * wd;
	rt_watch_at(&c0, t, &next);
	assert_int_equal(atomic_load(&vs->reports), 0);
	assert_int_equal(next.watchdog, t + wd);
	rt_watch_at(&c0, t + wd - 1, &next);
	assert_int_equal(atomic_load(&vs->reports), 0);
	assert_int_equal(next.watchdog, t + wd);
	/* Still the same poll a threshold later: reported, once. */
	rt_watch_at(&c0, t + wd, &next);
	assert_int_equal(atomic_load(&vs->reports), 1);
	rt_watch_at(&c0, t + 3 * wd, &next);
	assert_int_equal(atomic_load(&vs->reports), 1);
	/* The next poll starts over from its own sighting; it ends first. */
	atomic_store(&s->poll_seq, 3);
	rt_watch_at(&c0, t + 4 * wd, &next);
	assert_int_equal(next.watchdog, t + 5 * wd);
	atomic_store(&s->poll_seq, 4);
	rt_watch_at(&c0, t + 5 * wd, &next);
	assert_int_equal(atomic_load(&vs->reports), 1);
	kfree(rt);
}

/* ---- what a thief takes from a peer (rt_core_try_steal) ---------------------- */

static enum poll done_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static const struct task_vtable done_vt = { .poll = done_poll, .name = "done" };

static void queue_on(struct scheduler *s, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(sched_spawn(s, &done_vt, NULL, sizeof(struct task),
					     NULL), 0);
}

/*
 * Without threads: slot 1 holds a queue, and core 0 looks for work.  A
 * queue of one tick's batch or less stays (its owner starts it next
 * tick), unless the poll in front of it has run RT_STRAND_NS; a longer
 * queue gives half.
 */
static void test_steal_leaves_short_queues(void **st)
{
	struct runtime *rt = h_runtime_new();
	struct rt_core c0, c1;
	struct scheduler *s0, *s1;
	uint64_t strand = arch_ns_to_cycles(RT_STRAND_NS);

	(void)st;
	rt_core_new(&c0, rt);
	rt_core_new(&c1, rt);
	arch_set_cpu_local(NULL);
	s0 = &rt->slots[0].sched;
	s1 = &rt->slots[1].sched;

	queue_on(s1, RT_STEAL_MIN - 1);
	assert_int_equal(rt_core_try_steal(&c0), 0);
	assert_int_equal(sched_queued(s1), RT_STEAL_MIN - 1);
	/* One more: more than a batch, half of it moves. */
	queue_on(s1, 1);
	assert_int_equal(rt_core_try_steal(&c0), RT_STEAL_MIN / 2);
	assert_int_equal(sched_queued(s0), RT_STEAL_MIN / 2);
	/* A short queue behind a poll that has run RT_STRAND_NS: half of
	 * it, at least one. */
	atomic_store(&s1->poll_seq, 1);
	atomic_store(&s1->poll_start, arch_cycles() - 2 * strand);
	{
		size_t q = sched_queued(s1);

		assert_true(q > 0 && q < RT_STEAL_MIN);
		assert_int_equal(rt_core_try_steal(&c0), MAX(q / 2, 1));
	}
	/* The same poll just begun: nothing. */
	atomic_store(&s1->poll_start, arch_cycles());
	assert_int_equal(rt_core_try_steal(&c0), 0);
	atomic_store(&s1->poll_seq, 2);
	/* Run what is left, on both, so nothing leaks.  This thread ticks
	 * them, so it is their owner (the tasks freed in the ticks go to
	 * their caches): it drains the caches as a core leaving its loop
	 * does. */
	while (sched_queued(s0) || sched_queued(s1)) {
		(void)sched_tick(s0);
		(void)sched_tick(s1);
	}
	sched_cache_drain(s0);
	sched_cache_drain(s1);
	kfree(rt);
}

/* ---- wakes from a poll on another core (sched_enqueue_woken) ---------------- */

/*
 * X parks on core `home` (pinned or not); W, on core `waker`, wakes it
 * from a poll.  `home_busy` says what X's core does meanwhile: held in a
 * gate poll (busy), or asleep.  Returns the core X ran on (-1: not
 * within 2 s, or 100 ms while it is expected to wait for the gate).
 */
static atomic_bool w_wait_idle;
static atomic_uint x_home;

static enum poll waking_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();
	struct rt_slot *home = &cur->rt->slots[atomic_load(&x_home)];
	uint64_t end = now_ns() + 2000 * MS;

	(void)t;
	(void)cx;
	/* For the idle case: wake X only once its core sleeps. */
	while (atomic_load(&w_wait_idle) &&
	       atomic_load(&home->state) != RT_CORE_IDLE && now_ns() < end)
		arch_cpu_relax();
	atomic_store(&x_core, -2);
	waker_wake(&x_waker);
	return POLL_READY;
}

static const struct task_vtable waking_vt = { .poll = waking_poll,
					      .name = "waking" };

static int wake_between(struct harness *h, unsigned home, unsigned waker,
			bool pinned, bool home_busy, bool waits)
{
	struct gate_task g = { .core = home };
	uint64_t end;

	atomic_store(&x_parked, false);
	atomic_store(&x_core, -1);
	atomic_store(&x_home, home);
	atomic_store(&w_wait_idle, !home_busy);
	if (pinned)
		assert_int_equal(rt_spawn_on(h->rt, home, &parked_vt, NULL,
					     sizeof(struct parked_task), NULL), 0);
	else
		assert_int_equal(sched_spawn(&h->rt->slots[home].sched,
					     &parked_vt, NULL,
					     sizeof(struct parked_task), NULL), 0);
	assert_true(wait_until(&x_parked, 5000));
	if (home_busy) {
		atomic_store(&gate_closed[home], true);
		atomic_store(&gate_running[home], false);
		assert_int_equal(rt_spawn_on(h->rt, home, &gate_vt, &g,
					     sizeof(g), NULL), 0);
		assert_true(wait_until(&gate_running[home], 5000));
	}
	assert_int_equal(rt_spawn_on(h->rt, waker, &waking_vt, NULL,
				     sizeof(struct task), NULL), 0);
	/* One that must wait must not run before the gate opens: 100 ms
	 * tells. */
	end = now_ns() + (waits ? 100 : 2000) * MS;
	while (atomic_load(&x_core) < 0 && now_ns() < end)
		nap();
	if (home_busy) {
		atomic_store(&gate_closed[home], false);
		/* It runs once the gate is gone. */
		end = now_ns() + 5000 * MS;
		while (waits && atomic_load(&x_core) < 0 && now_ns() < end)
			nap();
	}
	return atomic_load(&x_core);
}

/*
 * One run of wake_between() on fresh cores: X must run on `want_core`
 * and the waker's core must
 * count `want_pulled` pulls (X's own core none: nothing is ever pulled
 * onto it).
 */
static void check_wake(unsigned home, unsigned waker, bool pinned,
		       bool home_busy, int want_core, uint64_t want_pulled,
		       const char *what)
{
	struct harness h;
	int ran;

	h_start(&h, WORKERS);
	ran = wake_between(&h, home, waker, pinned, home_busy, pinned);
	print_message("%s: ran on core %d\n", what, ran);
	assert_int_equal(ran, want_core);
	assert_int_equal(atomic_load(&h.rt->slots[waker].sched.pulled_in),
			 want_pulled);
	assert_int_equal(atomic_load(&h.rt->slots[home].sched.pulled_in), 0);
	h_stop(&h);
	h_free(&h);
}

/* A task woken by a poll on core 0 while its own core 1 is busy runs on
 * core 0 at once (from the LIFO slot), rebound there; not after core 1's
 * poll. */
static void test_wake_pulls_from_busy_core(void **st)
{
	(void)st;
	check_wake(1, 0, false, true, 0, 1, "woken with its core busy");
}

/*
 * Pulls go one way, to the lower index (rt_slot_pull): woken by a poll on
 * core 1 while its own core 0 is busy, X stays bound to core 0.  It still
 * runs on core 1 before core 0's poll ends: core 1, out of work, takes it
 * from behind that poll (the stranded-task rule), as a steal, not a pull.
 */
static void test_wake_pulls_one_way(void **st)
{
	(void)st;
	check_wake(0, 1, false, true, 1, 0, "woken by a higher core");
}

/* A pinned task is never pulled: it waits for its own core. */
static void test_wake_never_pulls_pinned(void **st)
{
	(void)st;
	check_wake(1, 0, true, true, 1, 0, "pinned, woken with its core busy");
}

/* A task whose core sleeps is pulled too: no wakeup of its core, and it
 * runs on the waker's core once the waking poll returns. */
static void test_wake_pulls_from_idle_core(void **st)
{
	(void)st;
	check_wake(1, 0, false, false, 0, 1, "woken with its core asleep");
}

/* One way there too: woken by core 1 while its core 0 sleeps, it goes
 * home, and the wakeup starts it there. */
static void test_wake_sends_home_to_lower_idle_core(void **st)
{
	(void)st;
	check_wake(0, 1, false, false, 0, 0,
		   "woken by a higher core, its core asleep");
}

/*
 * Pulled from a sleeping core into a poll that then runs long: X parks on
 * core 1, which then sleeps; a poll on core 0 wakes X (pulled into core
 * 0's LIFO slot) and spins LONG_SPIN.  The slot is under watch as a batch
 * is (rt_slot_pull): X must run on core 1 long before the spin ends,
 * handed back by a kick.
 */
static void test_no_stranded_pull(void **st)
{
	struct harness h;
	uint64_t t0;

	(void)st;
	h_start(&h, WORKERS);
	/* No watchdog timer: its look would hand X back within 100 ms too,
	 * and the test is that the batch rule does, within RT_STRAND_NS. */
	rt_watchdog_set(h.rt, 0);
	atomic_store(&x_parked, false);
	atomic_store(&x_core, -1);
	atomic_store(&spinner_started, false);
	assert_int_equal(sched_spawn(&h.rt->slots[1].sched, &parked_vt, NULL,
				     sizeof(struct parked_task), NULL), 0);
	assert_true(wait_until(&x_parked, 5000));
	atomic_store(&spin_after_idle, true);
	assert_int_equal(rt_spawn_on(h.rt, 0, &waking_spinner_vt, NULL,
				     sizeof(struct task), NULL), 0);
	assert_true(wait_until(&spinner_started, 5000));
	atomic_store(&spin_after_idle, false);
	/* The seq_cst store of spinner_started published it. */
	t0 = spin_wake_ns;
	while (atomic_load(&x_core) < 0 && now_ns() - t0 < LONG_SPIN)
		nap();
	print_message("the pulled task ran on core %d, %llu us after the "
		      "wake\n", atomic_load(&x_core),
		      (unsigned long long)((x_end > t0 ? x_end - t0 : 0) / 1000));
	assert_int_equal(atomic_load(&h.rt->slots[0].sched.pulled_in), 1);
	assert_int_equal(atomic_load(&x_core), 1);
	assert_true(x_end - t0 < LONG_SPIN / 2);
	/* Handed back by a kick. */
	assert_true(atomic_load(&h.rt->slots[0].kicks) >= 1);
	h_stop(&h);
	h_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_stranded_batch),
		cmocka_unit_test(test_no_stranded_lifo),
		cmocka_unit_test(test_no_stranded_spawn),
		cmocka_unit_test(test_no_stranded_second_spawn),
		cmocka_unit_test(test_no_stranded_queue_while_peers_sleep),
		cmocka_unit_test(test_watchdog_reports_once),
		cmocka_unit_test(test_watchdog_rules),
		cmocka_unit_test(test_watchdog_untimed_rules),
		cmocka_unit_test(test_steal_leaves_short_queues),
		cmocka_unit_test(test_wake_pulls_from_busy_core),
		cmocka_unit_test(test_wake_pulls_one_way),
		cmocka_unit_test(test_wake_never_pulls_pinned),
		cmocka_unit_test(test_wake_pulls_from_idle_core),
		cmocka_unit_test(test_wake_sends_home_to_lower_idle_core),
		cmocka_unit_test(test_no_stranded_pull),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
