/*
 * scenario_steal.c - a thief against the owner's tick (sched/scheduler.c,
 * sched/mpsc.c's consumer lock).
 *
 * Three tasks wait on the victim's scheduler V: a and b complete on their
 * first poll, c yields once (TASK_YIELD: the tick queues it again with
 * mpsc_enqueue_chain when it ends) and completes on its second.  The owner
 * ticks V until every task is done.  The thief takes V's consumer lock
 * (sched_try_steal), moves half of what V counted (at least one) to its own
 * scheduler T as the runtime does (stealer_spawn_n, which rebinds each
 * task), releases the lock and ticks T; it tries again while work is left.
 *
 * Along the way: a task is never polled twice at once nor after it
 * completed, and the queued counts never fall below the tasks not yet
 * done (V.queued + T.queued >= live: counts are raised before a task
 * enters a queue and lowered after it left; checked after every step).
 * At the end: each task completed exactly once, both queues are empty with
 * their counts right (sched_check), what T counts stolen in equals what V
 * counts stolen out, and the polls counted equal the polls made.
 *
 * steal_cancelled: the same with b cancelled before anything runs.  Then
 * b is never polled but completed once, by whichever queue's consumer
 * dequeues it; a thief that takes a, b and c links a straight to c, whose
 * link in V's queue went through b (the chain's inner link).
 */
#include "sched/scheduler.h"
#include "tests/model/model.h"

#define NTASKS	3

struct stask {
	struct task task;
	int polls;		/* plain: polls are ordered by the state word */
	bool yielder;
};

static struct {
	struct scheduler v, t;
	struct stask task[NTASKS];
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	int owner_tid, thief_tid;
	long polls[NTASKS], done[NTASKS], in_poll[NTASKS];
	long live, polls_total, moved;
	bool cancelled;		/* steal_cancelled: b cancelled in setup */
} G;

static enum poll s_poll(struct task *t, struct context *cx)
{
	struct stask *st = container_of(t, struct stask, task);
	unsigned i = (unsigned)(st - S.task);

	model_check(G.in_poll[i] == 0, "task %u polled twice at once", i);
	model_check(G.done[i] == 0, "task %u polled after it completed", i);
	model_ghost_add(&G.in_poll[i], 1);
	model_ghost_add(&G.polls[i], 1);
	model_ghost_add(&G.polls_total, 1);
	if (st->yielder && st->polls++ == 0) {
		context_yield(cx);
		model_ghost_add(&G.in_poll[i], -1);
		return POLL_PENDING;
	}
	model_ghost_add(&G.done[i], 1);
	model_ghost_add(&G.live, -1);
	model_ghost_add(&G.in_poll[i], -1);
	return POLL_READY;
}

static const struct task_vtable s_vt = { .poll = s_poll, .name = "stask" };

static bool on_owner(void *arg)
{
	return model_self() == (arg == &S.v ? G.owner_tid : G.thief_tid);
}

/* Tick `s` until a tick finds nothing; true if it polled anything. */
static bool drain(struct scheduler *s)
{
	bool any = false;

	for (;;) {
		struct sched_tick tk = sched_tick(s);

		if (tk.polled == 0 && tk.completed == 0)
			return any;
		any = true;
	}
}

static void owner(void *arg)
{
	(void)arg;
	while (G.live > 0) {
		if (drain(&S.v))
			continue;
		if (model_others_done() && sched_queued(&S.v) == 0)
			break;
		model_yield();
	}
}

static void thief(void *arg)
{
	(void)arg;
	for (unsigned round = 0; round < 2 && G.live > 0; round++) {
		struct stealer st;
		size_t want;

		if (sched_try_steal(&S.v, &st) == STEAL_OK) {
			want = (st.initial_task_count + 1) / 2;
			model_ghost_add(&G.moved,
					(long)stealer_spawn_n(&st, &S.t, want));
			stealer_release(&st);
		}
		(void)drain(&S.t);
	}
	/* Tasks it moved run here: finish them even if the owner is done. */
	while (sched_queued(&S.t) > 0)
		if (!drain(&S.t))
			model_yield();
}

static void setup(void)
{
	static const struct sched_hooks hv = { .on_owner = on_owner, .arg = &S.v };
	static const struct sched_hooks ht = { .on_owner = on_owner, .arg = &S.t };
	static const char *const names[NTASKS] = { "task_a", "task_b", "task_c" };
	static const char *const state_names[NTASKS] = {
		"task_a.state", "task_b.state", "task_c.state"
	};
	static const char *const node_names[NTASKS] = {
		"task_a.run_node", "task_b.run_node", "task_c.run_node"
	};

	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	sched_init(&S.v, 0, &hv);
	sched_init(&S.t, 1, &ht);
	G.owner_tid = model_spawn("owner", owner, NULL);
	G.thief_tid = model_spawn("thief", thief, NULL);
	for (unsigned i = 0; i < NTASKS; i++) {
		S.task[i].yielder = i == NTASKS - 1;
		sched_spawn_allocated(&S.v, &S.task[i].task, &s_vt, NULL);
		model_track(&S.task[i], sizeof(S.task[i]), names[i]);
		model_name(&S.task[i].task.state, 8, state_names[i]);
		model_name(&S.task[i].task.run_node, 8, node_names[i]);
	}
	G.live = NTASKS;
	model_track(&S.v, sizeof(S.v), "V");
	model_name(&S.v.queue.head, 8, "V.q.head");
	model_name(&S.v.queue.tail, 8, "V.q.tail");
	model_name(&S.v.queue.consumer_locked, 1, "V.q.locked");
	model_name(&S.v.stub, 8, "V.stub");
	model_name(&S.v.queued, 8, "V.queued");
	model_name(&S.v.queued_own, 8, "V.queued_own");
	model_track(&S.t, sizeof(S.t), "T");
	model_name(&S.t.queue.head, 8, "T.q.head");
	model_name(&S.t.queue.tail, 8, "T.q.tail");
	model_name(&S.t.queue.consumer_locked, 1, "T.q.locked");
	model_name(&S.t.stub, 8, "T.stub");
	model_name(&S.t.queued, 8, "T.queued");
	model_name(&S.t.queued_own, 8, "T.queued_own");
}

/* steal_cancelled: b is cancelled (the setup thread holds the queue's
 * reference for it here: nothing runs yet) and never polled. */
static void setup_cancelled(void)
{
	setup();
	G.cancelled = true;
	model_check(task_cancel(&S.task[1].task), "task b was not cancelled");
	G.live = NTASKS - 1;
}

static void invariant(void)
{
	size_t counted = sched_queued(&S.v) + sched_queued(&S.t);

	model_check(counted >= (size_t)G.live, "queued counts %zu + %zu, but "
		    "%ld tasks are not done", sched_queued(&S.v),
		    sched_queued(&S.t), G.live);
}

static void check(void)
{
	uint64_t polled, in, out;

	for (unsigned i = 0; i < NTASKS; i++) {
		if (G.cancelled && i == 1) {
			model_check(G.polls[i] == 0, "cancelled task b polled "
				    "%ld times", G.polls[i]);
			model_check(task_state_load(&S.task[i].task) &
				    TASK_COMPLETED, "cancelled task b never "
				    "completed");
			continue;
		}
		model_check(G.done[i] == 1, "task %u completed %ld times", i,
			    G.done[i]);
	}
	model_check(sched_check(&S.v) == 0, "V: tasks left");
	model_check(sched_check(&S.t) == 0, "T: tasks left");
	in = atomic_load_explicit(&S.t.stolen_in, memory_order_relaxed);
	out = atomic_load_explicit(&S.v.stolen_out, memory_order_relaxed);
	model_check(in == out && in == (uint64_t)G.moved,
		    "stolen: %llu in, %llu out, %ld moved",
		    (unsigned long long)in, (unsigned long long)out, G.moved);
	polled = atomic_load_explicit(&S.v.polled, memory_order_relaxed) +
		 atomic_load_explicit(&S.t.polled, memory_order_relaxed);
	model_check(polled == (uint64_t)G.polls_total,
		    "polled counters say %llu, %ld polls made",
		    (unsigned long long)polled, G.polls_total);
}

static const struct model_mutation mutations[] = {
	{
		.name = "trylock_broken",
		.what = "the consumer try-lock's exchange reports the lock free "
			"when it is held (owner and thief dequeue at once)",
		.kind = MUT_FORCE, .file = "sched/mpsc.c",
		.text = "return !atomic_exchange_explicit(&q->consumer_locked, true,",
		.value = 0,
	},
	{
		.name = "unlock_relaxed",
		.what = "the consumer unlock is relaxed (the next holder may "
			"not see the queue's tail)",
		.kind = MUT_WEAKEN, .file = "sched/mpsc.c",
		.text = "atomic_store_explicit(&q->consumer_locked, false, memory_order_release);",
		.order = memory_order_relaxed,
	},
	{
		.name = "thief_counts_late",
		.what = "the thief raises its queued count after moving the "
			"tasks, not before",
		.kind = MUT_DEFER, .file = "sched/scheduler.c",
		.text = "atomic_store_explicit(&thief->queued_own,",
	},
};

static const struct model_mutation cancelled_mutations[] = {
	{
		.name = "chain_unlinked",
		.what = "the thief does not link a task it took to the one "
			"before it (the old link, through a retired task, stays)",
		.kind = MUT_SKIP, .file = "sched/scheduler.c",
		.text = "atomic_store_explicit(&last->next, &t->run_node,",
	},
};

const struct model_scenario scenario_steal_cancelled = {
	.name = "steal_cancelled",
	.what = "the same, with one task cancelled before it runs",
	.setup = setup_cancelled, .check = check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = cancelled_mutations,
	.n_mutations = ARRAY_SIZE(cancelled_mutations),
};

const struct model_scenario scenario_steal = {
	.name = "steal",
	.what = "a thief moving tasks against the owner's ticks",
	.setup = setup, .check = check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = mutations, .n_mutations = ARRAY_SIZE(mutations),
};
