/*
 * scenario_timer.c - a sleep's timer entry against the turn of the wheel
 * (timer/timer.c, timer/wheel.c, timer/sleep.c) on a mock clock.
 *
 *   timer_cancel  the owner registers a sleep (sleep_poll), then drops it
 *                 and ends the sleep's life (as a task freeing its state);
 *                 the turner moves the clock to the deadline and turns.
 *                 The entry is either cancelled (its waker dropped) or
 *                 fired (its waker woken), never both, never neither; no
 *                 access to it after its owner freed it, and the free is
 *                 ordered after the turner's last touch (the FIRED store
 *                 is the release that allows it).
 *   timer_poll    the owner polls the sleep until it is READY, turning the
 *                 timer itself while it waits (as its core's loop would);
 *                 the turner moves the clock and turns too.  The sleep
 *                 must end: whether the owner's insert comes before the
 *                 turn, after it (-ETIMEDOUT), or finds the deadline
 *                 passed (cancel), no wake is lost.
 *
 * At the end: every reference to the owner's waker came back exactly once,
 * the wheel passes timer_wheel_check() and holds nothing.
 */
#include "tests/model/model.h"
#include "tests/model/waiter.h"
#include "timer/sleep.h"

#define DEADLINE	10

enum variant { CANCEL, POLL };

static struct {
	struct mock_clock mc;
	struct timer t;
	struct sleep s;
	bool cancelled;		/* owner's */
	bool ready;
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	enum variant v;
	struct waiter owner;
} G;

static void owner(void *arg)
{
	struct waker wk;
	struct context cx = waiter_context(&G.owner, &wk);

	(void)arg;
	if (G.v == CANCEL) {
		S.ready = sleep_poll(&S.s, &cx) == POLL_READY;
		S.cancelled = sleep_cancel(&S.s);
		sleep_drop(&S.s);
		/* The owner's memory is its own again: a task would free it. */
		model_free(&S.s);
		return;
	}
	while (sleep_poll(&S.s, &cx) == POLL_PENDING) {
		/* Its core's loop turns the timer while the task waits. */
		while (atomic_load_explicit(&G.owner.woken, memory_order_acquire) == 0) {
			model_check(!model_others_done() ||
				    timer_next_hint(&S.t) != TIMER_NO_DEADLINE ||
				    atomic_load_explicit(&G.owner.woken,
							 memory_order_acquire),
				    "the sleep is pending, its deadline passed, "
				    "and nothing will fire it");
			(void)timer_turn(&S.t);
			model_yield();
		}
		waiter_rearm(&G.owner);
	}
	S.ready = true;
}

static void turner(void *arg)
{
	(void)arg;
	mock_clock_set(&S.mc, DEADLINE);
	(void)timer_turn(&S.t);
}

static void setup_variant(enum variant v)
{
	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	G.v = v;
	waiter_init(&G.owner, "owner.woken");
	mock_clock_init(&S.mc, "mock", 1, 0);
	timer_init(&S.t, &S.mc.clock);
	sleep_init_deadline(&S.s, &S.t, DEADLINE);

	model_track(&S.s, sizeof(S.s), "sleep");
	model_name(&S.s.entry.state, 1, "sleep.state");
	model_name(&S.s.entry.action, sizeof(S.s.entry.action), "sleep.waker");
	model_track(&S.t, sizeof(S.t), "timer");
	model_name(&S.t.lock, sizeof(S.t.lock), "timer.lock");
	model_name(&S.t.next_hint, 8, "timer.next_hint");
	model_name(&S.t.wheel, sizeof(S.t.wheel), "timer.wheel");
	model_track(&S.mc, sizeof(S.mc), "clock");
	model_name(&S.mc.now, 8, "clock.now");
	model_track(&S.cancelled, sizeof(S.cancelled), "owner.cancelled");
	model_track(&S.ready, sizeof(S.ready), "owner.ready");

	model_spawn("owner", owner, NULL);
	model_spawn("turner", turner, NULL);
}

static void setup_cancel(void) { setup_variant(CANCEL); }
static void setup_poll(void) { setup_variant(POLL); }

static void check(void)
{
	const struct waiter *w = &G.owner;

	waiter_check_refs(w);
	timer_wheel_check(&S.t.wheel);
	model_check(timer_wheel_pending(&S.t.wheel) == 0,
		    "%zu entries left in the wheel",
		    timer_wheel_pending(&S.t.wheel));
	if (G.v == POLL) {
		model_check(S.ready, "the sleep never ended");
		return;
	}
	if (S.ready) {
		/* The deadline had passed at the poll: nothing registered. */
		model_check(w->clones == 0, "READY at once, yet registered");
		return;
	}
	model_check(w->clones == 1, "registered %ld times", w->clones);
	model_check(S.cancelled == (w->drops == 1) &&
		    S.cancelled == (w->wakes == 0),
		    "cancel said %s, the waker was dropped %ld and woken %ld "
		    "times", S.cancelled ? "cancelled" : "not pending",
		    w->drops, w->wakes);
}

static const struct model_mutation cancel_mutations[] = {
	{
		.name = "fired_relaxed",
		.what = "the FIRED store is relaxed (an owner that sees it frees "
			"the entry before the turner is done with it)",
		.kind = MUT_WEAKEN, .file = "timer/wheel.c",
		.text = "atomic_store_explicit(&e->state, TIMER_ENTRY_FIRED, memory_order_release);",
		.order = memory_order_relaxed,
	},
	{
		.name = "cancel_unlocked",
		.what = "timer_cancel touches the wheel without the timer lock",
		.kind = MUT_NOLOCK, .file = "timer/timer.c",
		.text = "spin_lock(&t->lock);", .func = "timer_cancel",
	},
};

static const struct model_mutation poll_mutations[] = {
	{
		.name = "hint_unpublished",
		.what = "an insert does not publish the wheel's next deadline "
			"(turns skip the entry)",
		.kind = MUT_SKIP, .file = "timer/timer.h",
		.text = "atomic_store_explicit(&t->next_hint, timer_wheel_next_deadline(&t->wheel),",
	},
};

const struct model_scenario scenario_timer_cancel = {
	.name = "timer_cancel",
	.what = "a sleep cancelled and freed against the turn that fires it",
	.setup = setup_cancel, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = cancel_mutations,
	.n_mutations = ARRAY_SIZE(cancel_mutations),
};

const struct model_scenario scenario_timer_poll = {
	.name = "timer_poll",
	.what = "a sleep polled until READY against a turn at its deadline",
	.setup = setup_poll, .check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = poll_mutations, .n_mutations = ARRAY_SIZE(poll_mutations),
};
