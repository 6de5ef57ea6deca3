/*
 * scenario_task.c - the task state word (sched/task.c) against the poll.
 *
 * One task in caller storage on one scheduler; the "core" thread ticks it
 * (sched_tick) until it is freed, or until nothing is left to do.  The
 * task's poll returns READY once it sees `go`, else PENDING.  Around it:
 *
 *   task_wake    waker1 sets go and wakes by value, waker2 wakes by
 *                reference and drops its waker; the task's first poll
 *                yields (TASK_YIELD: the tick queues it again when it
 *                ends, still POLLING: task_run's hold), so a wake may
 *                also meet a yielded task
 *   task_cancel  waker1 as above, a canceller cancels through the join
 *                handle and then waits for the result (join_poll with no
 *                waker)
 *   task_join    go is set from the start; the joiner registers its waker
 *                with join_poll, polls again with another waker (the
 *                first is replaced), waits to be woken, polls again
 *   task_detach  as task_join, but the joiner drops the handle after its
 *                first PENDING poll
 *   task_kill    no join handle; the first poll returns PENDING, which
 *                lists the task (registry_link); waker1 as above, and a
 *                killer walks the registry as `kill` does: takes a
 *                reference under the lock, cancels, drops it.  The poll's
 *                transitions must stay CASes for a listed task even with
 *                one reference (transition_alone), or the killer's
 *                reference is lost and the task freed under it.
 *
 * Along the way: two polls never overlap; no access to the task after its
 * deallocation (use after free); the deallocation is ordered after every
 * access to it (the race checker).  At the end: the task was freed exactly
 * once, completed exactly once unless cancelled, a wake after `go` was
 * never lost (the task completed), each wake made it runnable at most
 * once (notify calls), sched_check() finds the queue empty and the counts
 * right, the join result matches what happened, and every clone of the
 * joiner's waker was dropped or woken exactly once.
 */
#include "sched/scheduler.h"
#include "tests/model/model.h"
#include "tests/model/waiter.h"

struct mtask {
	struct task task;
	int polls;		/* plain: each poll is ordered after the last */
	int out;
	atomic_int go;
};

enum variant { WAKE, CANCEL, JOIN, DETACH, KILL };

static struct {
	struct scheduler s;
	struct mtask t;
	struct join_handle jh;
	struct waker w1, w2;
	int join_out;
	bool cancel_ok;
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	enum variant v;
	int core_tid;
	long in_poll, ready, deallocs, notified;
	struct waiter joiner, joiner2;
} G;

/* ---- the task and its scheduler ----------------------------------------- */

static enum poll t_poll(struct task *task, struct context *cx)
{
	struct mtask *m = container_of(task, struct mtask, task);
	enum poll p = POLL_PENDING;

	model_check(G.in_poll == 0, "two polls of one task at once");
	model_ghost_add(&G.in_poll, 1);
	if (m->polls++ == 0 && G.v == KILL) {
		model_ghost_add(&G.in_poll, -1);
		return POLL_PENDING;
	}
	if (m->polls == 1 && (G.v == WAKE || G.v == CANCEL)) {
		context_yield(cx);
		model_ghost_add(&G.in_poll, -1);
		return POLL_PENDING;
	}
	/* acquire: pairs with waker1's release; the wake itself must make
	 * sure this poll comes after the store (no lost wake). */
	if (atomic_load_explicit(&m->go, memory_order_acquire)) {
		m->out = 42;
		model_ghost_add(&G.ready, 1);
		p = POLL_READY;
	}
	model_ghost_add(&G.in_poll, -1);
	return p;
}

static void t_dealloc(struct task *task)
{
	model_ghost_add(&G.deallocs, 1);
	model_free(task);
}

static const struct task_vtable t_vt = {
	.poll = t_poll,
	.deallocate = t_dealloc,
	TASK_OUTPUT(struct mtask, out),
	.name = "mtask",
};

static void on_notify(void *arg)
{
	(void)arg;
	model_ghost_add(&G.notified, 1);
}

static bool on_owner(void *arg)
{
	(void)arg;
	return model_self() == G.core_tid;
}

static void core(void *arg)
{
	(void)arg;
	while (G.deallocs == 0) {
		struct sched_tick tk = sched_tick(&S.s);

		if (tk.polled || tk.completed)
			continue;
		if (!tk.has_remaining && model_others_done())
			break;
		model_yield();
	}
}

/* ---- the others ------------------------------------------------------------- */

static void waker1(void *arg)
{
	(void)arg;
	atomic_store_explicit(&S.t.go, 1, memory_order_release);
	waker_wake(&S.w1);
}

static void waker2(void *arg)
{
	(void)arg;
	waker_wake_by_ref(&S.w2);
	waker_drop(&S.w2);
}

static void canceller(void *arg)
{
	struct context check = { NULL, NULL };

	(void)arg;
	S.cancel_ok = join_cancel(&S.jh);
	while (join_poll(&S.jh, &check, &S.join_out, sizeof(int)) == POLL_PENDING) {
		model_check(!model_others_done(),
			    "the cancelled task never finished");
		model_yield();
	}
}

/* `kill`'s visit: a reference to the task taken under the list's lock. */
static void kill_visit(const struct task_info *ti, struct task *t, void *arg)
{
	(void)ti;
	if (task_ref_unless_zero(t))
		*(struct task **)arg = t;
}

static void killer(void *arg)
{
	struct sched_reg_cursor cur = SCHED_REG_CURSOR_INIT;
	struct task *found = NULL;

	(void)arg;
	while (sched_registry_walk(&S.s, &cur, 4, kill_visit, &found))
		;
	if (found) {
		(void)task_cancel(found);
		task_unref(found);
	}
}

static void joiner(void *arg)
{
	struct waker wk;
	struct context cx = waiter_context(&G.joiner, &wk);

	(void)arg;
	if (join_poll(&S.jh, &cx, &S.join_out, sizeof(int)) == POLL_READY)
		return;
	if (G.v == DETACH) {
		join_drop(&S.jh);
		return;
	}
	/* Polled again by a task with another waker: it replaces the first. */
	cx = waiter_context(&G.joiner2, &wk);
	if (join_poll(&S.jh, &cx, &S.join_out, sizeof(int)) == POLL_READY)
		return;
	model_check(waiter_wait(&G.joiner2),
		    "the task completed but the joiner was never woken");
	model_check(join_poll(&S.jh, &cx, &S.join_out, sizeof(int)) == POLL_READY,
		    "join_poll: PENDING after the join waker was woken");
}

/* ---- setup and check -------------------------------------------------------- */

static void setup_variant(enum variant v)
{
	static const struct sched_hooks hooks = {
		.notify = on_notify, .on_owner = on_owner,
	};

	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	G.v = v;
	waiter_init(&G.joiner, "joiner.woken");
	waiter_init(&G.joiner2, "joiner2.woken");
	sched_init(&S.s, 0, &hooks);
	atomic_init(&S.t.go, v == JOIN || v == DETACH);
	sched_spawn_allocated(&S.s, &S.t.task, &t_vt,
			      v == WAKE || v == KILL ? NULL : &S.jh);
	if (v == WAKE || v == CANCEL || v == KILL)
		S.w1 = task_waker(&S.t.task);
	if (v == WAKE)
		S.w2 = task_waker(&S.t.task);
	G.notified = 0;		/* the spawn's */

	model_track(&S.t, sizeof(S.t), "task");
	model_name(&S.t.task.state, sizeof(S.t.task.state), "task.state");
	model_name(&S.t.task.run_node, sizeof(S.t.task.run_node),
		   "task.run_node");
	model_name(&S.t.task.join_waker, sizeof(S.t.task.join_waker),
		   "task.join_waker");
	model_name(&S.t.go, sizeof(S.t.go), "task.go");
	model_track(&S.s, sizeof(S.s), "sched");
	model_name(&S.s.queue.head, sizeof(void *), "sched.q.head");
	model_name(&S.s.queue.tail, sizeof(void *), "sched.q.tail");
	model_name(&S.s.queue.consumer_locked, 1, "sched.q.locked");
	model_name(&S.s.stub, sizeof(S.s.stub), "sched.stub");
	model_name(&S.s.queued, sizeof(S.s.queued), "sched.queued");
	model_track(&S.jh, sizeof(S.jh), "jh");
	model_track(&S.join_out, sizeof(S.join_out), "join_out");

	G.core_tid = model_spawn("core", core, NULL);
	switch (v) {
	case WAKE:
		model_spawn("waker1", waker1, NULL);
		model_spawn("waker2", waker2, NULL);
		break;
	case CANCEL:
		model_spawn("waker1", waker1, NULL);
		model_spawn("cancel", canceller, NULL);
		break;
	case KILL:
		model_spawn("waker1", waker1, NULL);
		model_spawn("killer", killer, NULL);
		break;
	case JOIN:
	case DETACH:
		model_spawn("joiner", joiner, NULL);
		break;
	}
}

static void setup_wake(void) { setup_variant(WAKE); }
static void setup_cancel(void) { setup_variant(CANCEL); }
static void setup_join(void) { setup_variant(JOIN); }
static void setup_detach(void) { setup_variant(DETACH); }
static void setup_kill(void) { setup_variant(KILL); }

static void check(void)
{
	model_check(G.deallocs == 1, "task freed %ld times", G.deallocs);
	model_check(sched_check(&S.s) == 0, "tasks left in the queue");
	switch (G.v) {
	case WAKE:
		model_check(G.ready == 1, "woken after go, completed %ld times "
			    "(a lost wake)", G.ready);
		model_check(G.notified <= 2, "%ld enqueues for two wakes",
			    G.notified);
		break;
	case CANCEL:
		if (S.jh.result == JOIN_CANCELLED) {
			model_check(S.cancel_ok, "JOIN_CANCELLED, but join_cancel "
				    "said it did not cancel");
			model_check(G.ready == 0, "JOIN_CANCELLED after a READY poll");
		} else {
			model_check(G.ready == 1 && S.join_out == 42,
				    "JOIN_OK: %ld READY polls, output %d",
				    G.ready, S.join_out);
		}
		model_check(G.notified <= 2, "%ld enqueues for a wake and a "
			    "cancel", G.notified);
		break;
	case KILL:
		model_check(G.ready <= 1, "completed %ld times", G.ready);
		break;
	case JOIN:
		model_check(S.jh.task == NULL && S.jh.result == JOIN_OK &&
			    S.join_out == 42, "join: result %d, output %d",
			    S.jh.result, S.join_out);
		/* fall through */
	case DETACH:
		model_check(G.ready == 1, "completed %ld times", G.ready);
		waiter_check_refs(&G.joiner);
		waiter_check_refs(&G.joiner2);
		break;
	}
}

/* ---- scenarios and their mutations ------------------------------------------- */

static const struct model_mutation wake_mutations[] = {
	{
		.name = "held_forgotten",
		.what = "a task held since its yield is taken for a queued one "
			"(its next poll expects WOKEN, finds POLLING)",
		.kind = MUT_FORCE, .file = "sched/task.c",
		.text = "return atomic_load_explicit(&t->held, memory_order_relaxed);",
		.value = 0,
	},
	{
		.name = "transition_split",
		.what = "a state transition is a load and a separate store",
		.kind = MUT_SPLIT, .file = "sched/task.c",
		.text = "return atomic_compare_exchange_weak_explicit(&t->state, old, new,",
	},
	{
		.name = "unref_no_acquire",
		.what = "the last reference frees without acquiring the others' "
			"releases",
		.kind = MUT_WEAKEN, .file = "sched/task.c",
		.text = "(void)atomic_load_explicit(&t->state, memory_order_acquire);",
		.order = memory_order_relaxed,
	},
};

static const struct model_mutation cancel_mutations[] = {
	{
		.name = "transition_relaxed",
		.what = "state transitions are relaxed (the output is not "
			"published to the joiner)",
		.kind = MUT_WEAKEN, .file = "sched/task.c",
		.text = "return atomic_compare_exchange_weak_explicit(&t->state, old, new,",
		.order = memory_order_relaxed,
	},
};

static const struct model_mutation join_mutations[] = {
	{
		.name = "state_load_relaxed",
		.what = "the state word is read relaxed (a joiner that sees "
			"COMPLETED copies an output it does not see)",
		.kind = MUT_WEAKEN, .file = "sched/task.c",
		.text = "return atomic_load_explicit(&t->state, memory_order_acquire);",
		.order = memory_order_relaxed,
	},
};

static const struct model_mutation detach_mutations[] = {
	{
		.name = "unref_relaxed",
		.what = "dropping a reference is relaxed (the holder's last "
			"accesses are not ordered before the free)",
		.kind = MUT_WEAKEN, .file = "sched/task.c",
		.text = "uint64_t old = atomic_fetch_sub_explicit(&t->state, TASK_REF_ONE,",
		.order = memory_order_relaxed,
	},
};

static const struct model_mutation kill_mutations[] = {
	{
		.name = "ref_split",
		.what = "the killer's reference (task_ref_unless_zero) is a "
			"load and a separate store: a poll's transition in "
			"between is lost, or the killer's count is",
		.kind = MUT_SPLIT, .file = "sched/task.c",
		.text = "} while (!atomic_compare_exchange_weak_explicit(&t->state, &old,",
	},
	{
		.name = "link_unlocked",
		.what = "the poll lists the task without the registry's lock "
			"(the killer's walk reads the list meanwhile)",
		.kind = MUT_NOLOCK, .file = "sched/registry.c",
		.text = "unsigned long flags = spin_lock_irqsave(&s->reg_lock);",
		.func = "registry_link",
	},
};

const struct model_scenario scenario_task_wake = {
	.name = "task_wake",
	.what = "a poll against a wake by value and a wake by reference",
	.setup = setup_wake, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = wake_mutations, .n_mutations = ARRAY_SIZE(wake_mutations),
};

const struct model_scenario scenario_task_cancel = {
	.name = "task_cancel",
	.what = "a poll against a wake and a cancel through the join handle",
	.setup = setup_cancel, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = cancel_mutations,
	.n_mutations = ARRAY_SIZE(cancel_mutations),
};

const struct model_scenario scenario_task_join = {
	.name = "task_join",
	.what = "completion against a joiner registering its waker",
	.setup = setup_join, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = join_mutations, .n_mutations = ARRAY_SIZE(join_mutations),
};

const struct model_scenario scenario_task_detach = {
	.name = "task_detach",
	.what = "completion against a joiner dropping its handle",
	.setup = setup_detach, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = detach_mutations,
	.n_mutations = ARRAY_SIZE(detach_mutations),
};

const struct model_scenario scenario_task_kill = {
	.name = "task_kill",
	.what = "a listed task's polls against a wake and a kill through "
		"the registry",
	.setup = setup_kill, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = kill_mutations, .n_mutations = ARRAY_SIZE(kill_mutations),
};
