/*
 * scenario_idle.c - the idle/wake protocol of the runtime (rt/rt.c): cores
 * running the real rt_core_run() loop, sleeping through the idle bitmap,
 * against whoever makes work for them.
 *
 *   idle_inject  core0 runs its loop; a thread that is no core pushes a
 *                task into the injector (rt_spawn_allocated), whose notify
 *                hook wakes an idle core (rt_wake_any)
 *   idle_wake    core0 runs a task that saves its waker and returns
 *                PENDING; a waker thread wakes it (task_wake: enqueue on
 *                slot 0, rt_slot_notify -> rt_wake_slot)
 *   idle_stop    core1 was asked to stop before its loop ran, so its
 *                thread runs only the exit path of rt_core_run (STOPPED,
 *                the RMW on its idle word, the look at its queue); a
 *                spawner puts a task on core1's scheduler meanwhile, and
 *                core0, which may be asleep, must get it to run
 *                (rt_wake_slot -> rt_wake_any -> rt_steal_stopped).  A
 *                stop while the core sleeps is rt_core_stop's wake, which
 *                the task exercises when it stops core0.
 *   idle_timer   core1's task registers a sleep on the runtime's timer,
 *                then stops core1, which leaves its loop with the timer
 *                pending (rt_core_run wakes a peer for it); core0, which
 *                may have armed its timer before the insert, must turn
 *                the wheel when time comes, and the woken task, bound to
 *                the stopped core1, must reach core0.  Time moves only
 *                when every thread waits (the model's timer interrupt).
 *
 * The task's poll stops the core that runs it (rt_core_stop), so every
 * loop ends once the task ran.  The property: no core sleeps while work
 * it must run is queued - if every thread is blocked, the stuck hook
 * names the sleeping core and the work it left queued (a lost wakeup).
 * Along the way the real code's kasserts, the race checker and the use
 * after free check run as everywhere; at the end the task ran exactly
 * once and was freed exactly once, and every slot's queue is empty with
 * its count right (sched_check).
 *
 * Each core is bound to its slot during setup (rt_core_new as that
 * thread), so the claim of the slot is not explored: it is not part of
 * the protocol under test.
 */
#include "rt/rt.h"
#include "tests/model/model.h"
#include "timer/sleep.h"

enum variant { INJECT, WAKE, STOP, TIMER };

#define SLEEP_TICKS	5

struct xtask {
	struct task task;
	int runs;
	atomic_int go;
	struct sleep sleep;	/* idle_timer */
};

static struct {
	struct runtime rt;
	struct rt_core core[2];
	struct xtask x;
	struct waker w;		/* the task's, saved by its first poll */
	atomic_int registered;
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	enum variant v;
	int core_tid[2];
	unsigned ncores;
	long polls, ready, deallocs;
} G;

/* ---- the task ----------------------------------------------------------- */

static enum poll x_poll(struct task *t, struct context *cx)
{
	struct xtask *x = container_of(t, struct xtask, task);

	model_ghost_add(&G.polls, 1);
	x->runs++;
	if (G.v == TIMER && sleep_poll(&x->sleep, cx) == POLL_PENDING) {
		/* Registered: this core leaves with the timer pending. */
		rt_core_stop(&S.core[1]);
		return POLL_PENDING;
	}
	/* acquire: pairs with the waker's release store of go. */
	if (G.v == WAKE && !atomic_load_explicit(&x->go, memory_order_acquire)) {
		S.w = waker_clone(cx->waker);
		/* release: publishes S.w to the waker thread. */
		atomic_store_explicit(&S.registered, 1, memory_order_release);
		return POLL_PENDING;
	}
	model_ghost_add(&G.ready, 1);
	/* Done: the core that ran it leaves its loop; so does the other. */
	for (unsigned i = 0; i < G.ncores; i++)
		rt_core_stop(&S.core[i]);
	return POLL_READY;
}

static void x_dealloc(struct task *t)
{
	model_ghost_add(&G.deallocs, 1);
	model_free(t);
}

static const struct task_vtable x_vt = {
	.poll = x_poll, .deallocate = x_dealloc, .name = "xtask",
};

/* ---- threads -------------------------------------------------------------- */

static void core_main(void *arg)
{
	rt_core_run(arg);
}

static void injector(void *arg)
{
	(void)arg;
	rt_spawn_allocated(&S.rt, &S.x.task, &x_vt, NULL);
}

static void waker(void *arg)
{
	(void)arg;
	/* acquire: pairs with the poll's release store. */
	while (!atomic_load_explicit(&S.registered, memory_order_acquire))
		model_yield();
	atomic_store_explicit(&S.x.go, 1, memory_order_release);
	waker_wake(&S.w);
}

static void spawner(void *arg)
{
	(void)arg;
	sched_spawn_allocated(&S.rt.slots[1].sched, &S.x.task, &x_vt, NULL);
}

/* ---- setup, stuck, check ------------------------------------------------------- */

static void setup_variant(enum variant v)
{
	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	G.v = v;
	G.ncores = v == STOP || v == TIMER ? 2 : 1;
	rt_init(&S.rt, arch_clock());
	/* The stuck-poll watchdog keeps a timer entry armed while a core
	 * runs; the model's polls take no time, so it could only ever be
	 * left in the wheel.  These scenarios are about the idle protocol. */
	rt_watchdog_set(&S.rt, 0);
	atomic_init(&S.registered, 0);
	atomic_init(&S.x.go, 0);
	for (unsigned i = 0; i < G.ncores; i++) {
		static const char *const names[] = { "core0", "core1" };

		G.core_tid[i] = model_spawn(names[i], core_main, &S.core[i]);
		model_setup_as(G.core_tid[i]);
		rt_core_new(&S.core[i], &S.rt);
	}
	if (v == STOP)
		rt_core_stop(&S.core[1]);
	if (v == WAKE || v == TIMER) {
		/* Spawned by its core onto its own queue, before it runs. */
		model_setup_as(G.core_tid[v == WAKE ? 0 : 1]);
		rt_spawn_allocated(&S.rt, &S.x.task, &x_vt, NULL);
	}
	if (v == TIMER)
		sleep_init_deadline(&S.x.sleep, &S.rt.timer, SLEEP_TICKS);
	model_setup_as(0);

	model_track(&S.x, sizeof(S.x), "task");
	model_name(&S.x.task.state, 8, "task.state");
	model_name(&S.x.task.run_node, 8, "task.run_node");
	model_name(&S.x.task.sched, 8, "task.sched");
	model_track(&S.w, sizeof(S.w), "saved_waker");
	model_track(&S.core, sizeof(S.core), "rt_core");
	model_name(&S.core[0].running, 1, "core0.running");
	model_name(&S.core[1].running, 1, "core1.running");
	model_track(&S.rt, sizeof(S.rt), "rt");
	model_name(&S.rt.idle[0], 8, "rt.idle[0]");
	model_name(&S.rt.idle_count, 4, "rt.idle_count");
	model_name(&S.rt.searching, 4, "rt.searching");
	model_name(&S.rt.wake_cursor, 4, "rt.wake_cursor");
	model_name(&S.rt.stopped, 4, "rt.stopped");
	model_name(&S.rt.injector, sizeof(S.rt.injector), "injector");
	model_name(&S.rt.injector.queue.head, 8, "injector.q.head");
	model_name(&S.rt.injector.queue.tail, 8, "injector.q.tail");
	model_name(&S.rt.injector.queue.consumer_locked, 1, "injector.q.locked");
	model_name(&S.rt.injector.stub, 8, "injector.stub");
	model_name(&S.rt.injector.injected, 8, "injector.injected");
	model_name(&S.rt.injector.untaken, 8, "injector.untaken");
	model_name(&S.rt.timer, sizeof(S.rt.timer), "timer");
	model_name(&S.rt.timer.lock, sizeof(S.rt.timer.lock), "timer.lock");
	model_name(&S.rt.timer.next_hint, 8, "timer.next_hint");
	model_name(&S.x.sleep.entry.state, 1, "task.sleep.state");
	for (unsigned i = 0; i < G.ncores; i++) {
		static const char *const n[2][8] = {
			{ "slot0", "slot0.state", "slot0.q.head", "slot0.q.tail",
			  "slot0.q.locked", "slot0.stub", "slot0.queued",
			  "slot0.sched" },
			{ "slot1", "slot1.state", "slot1.q.head", "slot1.q.tail",
			  "slot1.q.locked", "slot1.stub", "slot1.queued",
			  "slot1.sched" },
		};
		struct rt_slot *sl = &S.rt.slots[i];

		model_name(sl, sizeof(*sl), n[i][0]);
		model_name(&sl->state, 4, n[i][1]);
		model_name(&sl->sched.queue.head, 8, n[i][2]);
		model_name(&sl->sched.queue.tail, 8, n[i][3]);
		model_name(&sl->sched.queue.consumer_locked, 1, n[i][4]);
		model_name(&sl->sched.stub, 8, n[i][5]);
		model_name(&sl->sched.queued, 8, n[i][6]);
		model_name(&sl->sched, sizeof(sl->sched), n[i][7]);
	}

	switch (v) {
	case INJECT:
		model_spawn("inject", injector, NULL);
		break;
	case WAKE:
		model_spawn("waker", waker, NULL);
		break;
	case STOP:
		model_spawn("spawner", spawner, NULL);
		break;
	case TIMER:
		break;
	}
}

static void setup_inject(void) { setup_variant(INJECT); }
static void setup_wake(void) { setup_variant(WAKE); }
static void setup_stop(void) { setup_variant(STOP); }
static void setup_timer(void) { setup_variant(TIMER); }

/* Every thread is blocked: name a core that sleeps on work it must run. */
static void stuck(void)
{
	size_t inj = injector_queued(&S.rt.injector);

	for (unsigned i = 0; i < G.ncores; i++) {
		size_t mine = sched_queued(&S.rt.slots[i].sched), left = 0;

		if (!model_asleep(G.core_tid[i]))
			continue;
		for (unsigned j = 0; j < G.ncores; j++)
			if (j != i && atomic_load_explicit(&S.rt.slots[j].state,
							   memory_order_relaxed) ==
				      RT_CORE_STOPPED)
				left += sched_queued(&S.rt.slots[j].sched);
		if (mine || inj || left)
			model_fail("lost wakeup: core%u sleeps while %zu task(s) "
				   "wait in its queue, %zu in the injector and "
				   "%zu on a stopped core", i, mine, inj, left);
	}
	/* An armed timer would have fired instead of this: none is. */
	if (timer_wheel_pending(&S.rt.timer.wheel))
		model_fail("lost timer: %zu entries pending in the wheel, and no "
			   "core has its timer armed to turn it",
			   timer_wheel_pending(&S.rt.timer.wheel));
}

static void check(void)
{
	model_check(G.ready == 1, "the task completed %ld times", G.ready);
	model_check(G.deallocs == 1, "the task was freed %ld times",
		    G.deallocs);
	model_check(G.polls == (G.v == WAKE || G.v == TIMER ? 2 : 1),
		    "%ld polls", G.polls);
	model_check(timer_wheel_pending(&S.rt.timer.wheel) == 0,
		    "entries left in the wheel");
	for (unsigned i = 0; i < G.ncores; i++)
		model_check(sched_check(&S.rt.slots[i].sched) == 0,
			    "slot %u: tasks left in its queue", i);
	model_check(injector_queued(&S.rt.injector) == 0,
		    "tasks left in the injector");
}

/* ---- scenarios and their mutations ------------------------------------------ */

static const struct model_mutation inject_mutations[] = {
	{
		.name = "announce_late",
		.what = "the sleeper sets its idle bit after its re-check "
			"(just before it sleeps)",
		.kind = MUT_DEFER, .file = "rt/rt.c",
		.text = "atomic_fetch_or_explicit(&rt->idle[i / 64], idle_bit(i),",
	},
	{
		.name = "count_late",
		.what = "the injector counts a task after queueing it",
		.kind = MUT_DEFER, .file = "sched/scheduler.c",
		.text = "uint64_t seq = atomic_fetch_add_explicit(&inj->injected, 1,",
	},
	{
		.name = "notify_blind",
		.what = "the push's load of idle_count never sees a sleeper",
		.kind = MUT_FORCE, .file = "rt/rt.c",
		.text = "if (atomic_load_explicit(&rt->idle_count, memory_order_seq_cst) == 0)",
		.value = 0,
	},
};

static const struct model_mutation wake_mutations[] = {
	{
		.name = "recheck_split",
		.what = "the sleeper's fetch_or of its idle bit is a load and "
			"a plain store (the re-check passes it in the store "
			"buffer: TSO only)",
		.kind = MUT_SPLIT, .file = "rt/rt.c",
		.text = "atomic_fetch_or_explicit(&rt->idle[i / 64], idle_bit(i),",
		.modes = MODEL_TSO,
	},
	{
		.name = "waker_ignores_bit",
		.what = "the waker's fetch_and on the idle word never sees the "
			"sleeper's bit",
		.kind = MUT_FORCE, .file = "rt/rt.c",
		.text = "uint64_t old = atomic_fetch_and_explicit(&rt->idle[i / 64], ~idle_bit(i),",
		.value = 0,
	},
};

static const struct model_mutation stop_mutations[] = {
	{
		.name = "stopped_unseen",
		.what = "a core that leaves its loop never marks itself STOPPED",
		.kind = MUT_SKIP, .file = "rt/rt.c",
		.text = "atomic_store_explicit(&core->slot->state, RT_CORE_STOPPED,",
	},
	{
		.name = "stop_no_rmw",
		.what = "a stopping core skips the RMW on its idle word after "
			"the STOPPED store (TSO only)",
		.kind = MUT_SKIP, .file = "rt/rt.c",
		.text = "atomic_fetch_or_explicit(&core->rt->idle[core->slot->index / 64], 0,",
		.modes = MODEL_TSO,
	},
};

static const struct model_mutation timer_mutations[] = {
	{
		.name = "hint_stale",
		.what = "every look at the timer's next-deadline hint finds "
			"none (idle cores arm nothing, turns skip)",
		.kind = MUT_FORCE, .file = "timer/timer.h",
		.text = "return atomic_load_explicit(&((struct timer *)t)->next_hint,",
		.value = UINT64_MAX,
	},
};

const struct model_scenario scenario_idle_inject = {
	.name = "idle_inject",
	.what = "a core going to sleep against an injector push",
	.setup = setup_inject, .check = check, .stuck = stuck,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = inject_mutations,
	.n_mutations = ARRAY_SIZE(inject_mutations),
};

const struct model_scenario scenario_idle_wake = {
	.name = "idle_wake",
	.what = "a core going to sleep against a wake of its own task",
	.setup = setup_wake, .check = check, .stuck = stuck,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = wake_mutations, .n_mutations = ARRAY_SIZE(wake_mutations),
};

const struct model_scenario scenario_idle_stop = {
	.name = "idle_stop",
	.what = "a core leaving its loop against a spawn onto it, a peer asleep",
	.setup = setup_stop, .check = check, .stuck = stuck,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = stop_mutations, .n_mutations = ARRAY_SIZE(stop_mutations),
};

const struct model_scenario scenario_idle_timer = {
	.name = "idle_timer",
	.what = "a core leaving with a timer pending, its peer asleep",
	.setup = setup_timer, .check = check, .stuck = stuck,
	.modes = MODEL_SC | MODEL_TSO,
	/* Two full loops: bound 2 takes ~47000 schedules; bound 3 runs past
	 * ten minutes, so it stops here. */
	.max_dfs = 150000,
	.mutations = timer_mutations, .n_mutations = ARRAY_SIZE(timer_mutations),
};
