/*
 * scenario_sync.c - the wait cell, the wait queue and the oneshot channel
 * (sched/sync.c), each a waiter against the ones that wake it.
 *
 *   wait_cell   the waiter polls until READY (spinning until its waker is
 *               woken in between); one thread wakes the cell, another
 *               closes it; the waiter then unregisters
 *   wait_queue  waiter1 polls once and, if PENDING, gives up (drops its
 *               entry); waiter2 polls until READY; the waker wakes one
 *               and then closes the queue; each waiter frees its entry
 *               when done with it
 *   oneshot     a sender sends 42, a closer closes the sending side, the
 *               receiver receives until READY
 *   oneshot_rx  a sender sends 42; the receiver polls once, polls again
 *               with another waker (replacing the first), and if still
 *               PENDING gives up (closes the receiving side); a READY
 *               receiver frees the channel at once
 *   oneshot_rewake  the receiver polls once, then waits with another
 *               waker until READY: the send must wake the second
 *
 * Along the way: no lost wake (a waiter whose wake never comes while
 * everyone else has ended fails), no access to an entry after its owner
 * freed it, every access ordered (the race checker: the locks, and the
 * entry state's release/acquire).  At the end: every reference to each
 * waiter's waker came back exactly once, the queue holds no entry and
 * counts none, the oneshot's receiver got 42 exactly when the send
 * succeeded and -ECANCELED otherwise; the receiver that gave up either
 * made the send fail or had the value discarded, and both its wakers'
 * references came back exactly once.
 *
 * scenario_mutex.c, scenario_sem.c and scenario_chan.c do the same for
 * the async mutex, the semaphore and the channel.
 */
#include "errno.h"
#include "sched/sync.h"
#include "tests/model/model.h"
#include "tests/model/waiter.h"

static struct {
	struct wait_cell cell;
	struct wait_queue wq;
	struct wait_entry e1, e2;
	struct oneshot os;
	int os_buf, os_out, os_result, send_result;
	bool ready1, ready2;
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	struct waiter w1, w2;
} G;

/* Poll until READY, waiting for a wake between polls. */
#define POLL_UNTIL_READY(w, expr) do {					\
	struct waker wk_;						\
	struct context cx = waiter_context((w), &wk_);			\
									\
	while ((expr) == POLL_PENDING) {				\
		model_check(waiter_wait(w), "%s: PENDING, and the wake "	\
			    "never came", (w)->name);			\
		waiter_rearm(w);					\
	}								\
} while (0)

/* ---- wait cell ------------------------------------------------------------ */

static void cell_waiter(void *arg)
{
	(void)arg;
	POLL_UNTIL_READY(&G.w1, wait_cell_poll(&S.cell, &cx));
	S.ready1 = true;
	wait_cell_unregister(&S.cell);
}

static void cell_waker(void *arg)
{
	(void)arg;
	(void)wait_cell_wake(&S.cell);
}

static void cell_closer(void *arg)
{
	(void)arg;
	wait_cell_close(&S.cell);
}

static void cell_setup(void)
{
	memset(&S, 0, sizeof(S));
	waiter_init(&G.w1, "waiter.woken");
	wait_cell_init(&S.cell);
	model_track(&S.cell, sizeof(S.cell), "cell");
	model_name(&S.cell.lock, sizeof(S.cell.lock), "cell.lock");
	model_track(&S.ready1, sizeof(S.ready1), "ready");
	model_spawn("waiter", cell_waiter, NULL);
	model_spawn("waker", cell_waker, NULL);
	model_spawn("closer", cell_closer, NULL);
}

static void cell_check(void)
{
	model_check(S.ready1, "the waiter never got READY");
	model_check(S.cell.closed && !waker_is_some(&S.cell.waker),
		    "cell: closed %d, a waker left", S.cell.closed);
	waiter_check_refs(&G.w1);
}

/* ---- wait queue ------------------------------------------------------------ */

static void wq_waiter1(void *arg)
{
	struct waker wk;
	struct context cx = waiter_context(&G.w1, &wk);

	(void)arg;
	if (wait_queue_poll(&S.wq, &S.e1, &cx) == POLL_PENDING)
		wait_entry_drop(&S.wq, &S.e1);	/* gives up */
	else
		S.ready1 = true;
	model_free(&S.e1);
}

static void wq_waiter2(void *arg)
{
	(void)arg;
	POLL_UNTIL_READY(&G.w2, wait_queue_poll(&S.wq, &S.e2, &cx));
	S.ready2 = true;
	model_free(&S.e2);
}

static void wq_waker(void *arg)
{
	(void)arg;
	(void)wait_queue_wake_one(&S.wq);
	wait_queue_close(&S.wq);
}

static void wq_setup(void)
{
	memset(&S, 0, sizeof(S));
	waiter_init(&G.w1, "waiter1.woken");
	waiter_init(&G.w2, "waiter2.woken");
	wait_queue_init(&S.wq);
	wait_entry_init(&S.e1);
	wait_entry_init(&S.e2);
	model_track(&S.wq, sizeof(S.wq), "wq");
	model_name(&S.wq.lock, sizeof(S.wq.lock), "wq.lock");
	model_track(&S.e1, sizeof(S.e1), "entry1");
	model_name(&S.e1.state, sizeof(S.e1.state), "entry1.state");
	model_track(&S.e2, sizeof(S.e2), "entry2");
	model_name(&S.e2.state, sizeof(S.e2.state), "entry2.state");
	model_track(&S.ready1, sizeof(S.ready1), "ready1");
	model_track(&S.ready2, sizeof(S.ready2), "ready2");
	model_spawn("waiter1", wq_waiter1, NULL);
	model_spawn("waiter2", wq_waiter2, NULL);
	model_spawn("waker", wq_waker, NULL);
}

static void wq_check(void)
{
	model_check(S.ready2, "waiter2 never got READY");
	model_check(S.wq.head == NULL && S.wq.tail == NULL && S.wq.waiters == 0,
		    "the queue still holds %zu entries", S.wq.waiters);
	model_check(S.wq.closed, "the queue is not closed");
	waiter_check_refs(&G.w1);
	waiter_check_refs(&G.w2);
}

/* ---- oneshot ------------------------------------------------------------ */

static void os_sender(void *arg)
{
	int v = 42;

	(void)arg;
	S.send_result = oneshot_send(&S.os, &v, sizeof(v));
}

static void os_closer(void *arg)
{
	(void)arg;
	oneshot_close_tx(&S.os);
}

static void os_receiver(void *arg)
{
	(void)arg;
	POLL_UNTIL_READY(&G.w1, oneshot_recv(&S.os, &cx, &S.os_out,
					     &S.os_result));
}

/* Both oneshot scenarios: a fresh channel and its results, tracked. */
static void os_init_tracked(void)
{
	memset(&S, 0, sizeof(S));
	oneshot_init(&S.os, &S.os_buf, sizeof(S.os_buf));
	model_track(&S.os, sizeof(S.os), "oneshot");
	model_name(&S.os.state, sizeof(S.os.state), "oneshot.state");
	model_track(&S.os_buf, sizeof(S.os_buf), "oneshot.buf");
	model_track(&S.os_out, sizeof(S.os_out), "received");
	model_track(&S.os_result, sizeof(S.os_result), "receive_result");
	model_track(&S.send_result, sizeof(S.send_result), "send_result");
}

static void os_setup(void)
{
	os_init_tracked();
	waiter_init(&G.w1, "receiver.woken");
	model_spawn("sender", os_sender, NULL);
	model_spawn("closer", os_closer, NULL);
	model_spawn("receiver", os_receiver, NULL);
}

static void os_check(void)
{
	if (S.send_result == 0)
		model_check(S.os_result == 0 && S.os_out == 42,
			    "sent, but received %d (result %d)", S.os_out,
			    S.os_result);
	else
		model_check(S.send_result == -EBUSY &&
			    S.os_result == -ECANCELED,
			    "send %d, receive %d", S.send_result, S.os_result);
	waiter_check_refs(&G.w1);
}

/* ---- oneshot: replacing the waker, giving up -------------------------- */

static void osr_receiver(void *arg)
{
	struct waker wk1, wk2;
	struct context cx1 = waiter_context(&G.w1, &wk1);
	struct context cx2 = waiter_context(&G.w2, &wk2);

	(void)arg;
	S.ready1 = oneshot_recv(&S.os, &cx1, &S.os_out, &S.os_result) ==
		   POLL_READY;
	if (!S.ready1)
		S.ready2 = oneshot_recv(&S.os, &cx2, &S.os_out,
					&S.os_result) == POLL_READY;
	if (!S.ready1 && !S.ready2)
		oneshot_close_rx(&S.os);
	else {
		/* READY: the sender is past its last access to the channel,
		 * so its owner may free it now (a sender touching it after
		 * its final CAS fails here). */
		model_free(&S.os);
		model_free(&S.os_buf);
	}
}

static void osr_setup(void)
{
	os_init_tracked();
	S.os_result = 1;
	waiter_init(&G.w1, "receiver.first");
	waiter_init(&G.w2, "receiver.second");
	model_spawn("sender", os_sender, NULL);
	model_spawn("receiver", osr_receiver, NULL);
}

static void osr_check(void)
{
	if (S.ready1 || S.ready2)
		model_check(S.send_result == 0 && S.os_result == 0 &&
			    S.os_out == 42, "READY: send %d, receive %d, "
			    "value %d", S.send_result, S.os_result, S.os_out);
	else
		model_check(S.os_result == 1 && (S.send_result == 0 ||
						 S.send_result == -ECANCELED),
			    "gave up: send %d, receive %d", S.send_result,
			    S.os_result);
	waiter_check_refs(&G.w1);
	waiter_check_refs(&G.w2);
}

/* ---- oneshot: the replacement waker is the one woken ------------------- */

static void osw_receiver(void *arg)
{
	struct waker wk1;
	struct context cx1 = waiter_context(&G.w1, &wk1);

	(void)arg;
	if (oneshot_recv(&S.os, &cx1, &S.os_out, &S.os_result) == POLL_READY)
		return;
	/* Another waker from now on: the send must wake this one. */
	POLL_UNTIL_READY(&G.w2, oneshot_recv(&S.os, &cx, &S.os_out,
					     &S.os_result));
}

static void osw_setup(void)
{
	os_init_tracked();
	waiter_init(&G.w1, "receiver.first");
	waiter_init(&G.w2, "receiver.second");
	model_spawn("sender", os_sender, NULL);
	model_spawn("receiver", osw_receiver, NULL);
}

static void osw_check(void)
{
	model_check(S.send_result == 0 && S.os_result == 0 && S.os_out == 42,
		    "send %d, receive %d, value %d", S.send_result,
		    S.os_result, S.os_out);
	waiter_check_refs(&G.w1);
	waiter_check_refs(&G.w2);
}

/* ---- scenarios and their mutations ------------------------------------------- */

static const struct model_mutation cell_mutations[] = {
	{
		.name = "wake_unlocked",
		.what = "wait_cell_wake takes the waker without the cell's lock",
		.kind = MUT_NOLOCK, .file = "sched/sync.c",
		.text = "unsigned long flags = spin_lock_irqsave(&c->lock);",
		.func = "wait_cell_wake",
	},
};

static const struct model_mutation wq_mutations[] = {
	{
		.name = "woken_relaxed",
		.what = "a wake marks the entry WOKEN with a relaxed store (its "
			"owner may free it while the waker still writes it)",
		.kind = MUT_WEAKEN, .file = "sched/sync.c",
		.text = "atomic_store_explicit(&e->state, WAIT_ENTRY_WOKEN, memory_order_release);",
		.order = memory_order_relaxed,
	},
};

static const struct model_mutation os_mutations[] = {
	{
		.name = "finish_relaxed",
		.what = "the sender publishes FULL with a relaxed CAS (the "
			"receiver copies a value it may not see written)",
		.kind = MUT_WEAKEN, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, phase,",
		.order = memory_order_relaxed,
	},
	{
		.name = "register_relaxed",
		.what = "the receiver sets ONESHOT_RX_WAKER with a relaxed CAS "
			"(the sender reads a waker it may not see written)",
		.kind = MUT_WEAKEN, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, registered,",
		.order = memory_order_relaxed,
	},
	{
		.name = "claim_unchecked",
		.what = "the sending side goes ahead even when its claim's CAS "
			"failed (a send and a close both finish)",
		.kind = MUT_FORCE, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, claimed,",
		.value = 1,
	},
	{
		.name = "finish_split",
		.what = "the sender's CAS to FULL is a load and a store (a "
			"waker registered between them is never woken)",
		.kind = MUT_SPLIT, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, phase,",
	},
};

static const struct model_mutation osr_mutations[] = {
	{
		.name = "takeback_unchecked",
		.what = "the receiver replaces its waker even when its CAS "
			"failed (a sender that claimed meanwhile reads it)",
		.kind = MUT_FORCE, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, ONESHOT_EMPTY,",
		.value = 1,
	},
	{
		.name = "rx_close_unchecked",
		.what = "giving up drops the waker even when its CAS failed "
			"(a sender that claimed meanwhile takes it too)",
		.kind = MUT_FORCE, .file = "sched/sync.c",
		.text = "if (!atomic_compare_exchange_weak_explicit(&o->state, &s,",
		.value = 1,
	},
};

static const struct model_mutation osw_mutations[] = {
	{
		.name = "register_misread",
		.what = "the receiver's CAS that registers its waker reports "
			"failure when it stored the bit (the receiver takes "
			"back a waker the sender also takes)",
		.kind = MUT_FORCE, .file = "sched/sync.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&o->state, &s, registered,",
		.value = 0,
	},
};

const struct model_scenario scenario_wait_cell = {
	.name = "wait_cell",
	.what = "a waiter polling a cell against a wake and a close",
	.setup = cell_setup, .check = cell_check,
	.modes = MODEL_SC,
	.why_no_tso = "every field is under the cell's lock, and lock and "
		      "unlock drain the store buffer (no buffered store is "
		      "ever seen by another thread)",
	.mutations = cell_mutations, .n_mutations = ARRAY_SIZE(cell_mutations),
};

const struct model_scenario scenario_wait_queue = {
	.name = "wait_queue",
	.what = "two waiters (one gives up) against a wake_one and a close",
	.setup = wq_setup, .check = wq_check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = wq_mutations, .n_mutations = ARRAY_SIZE(wq_mutations),
};

const struct model_scenario scenario_oneshot = {
	.name = "oneshot",
	.what = "a receiver against a send and a close of the sending side",
	.setup = os_setup, .check = os_check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = os_mutations, .n_mutations = ARRAY_SIZE(os_mutations),
};

const struct model_scenario scenario_oneshot_rx = {
	.name = "oneshot_rx",
	.what = "a receiver replacing its waker, then giving up, against a send",
	.setup = osr_setup, .check = osr_check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = osr_mutations, .n_mutations = ARRAY_SIZE(osr_mutations),
};

const struct model_scenario scenario_oneshot_rewake = {
	.name = "oneshot_rewake",
	.what = "a receiver that replaces its waker and waits on the new one, against a send",
	.setup = osw_setup, .check = osw_check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = osw_mutations, .n_mutations = ARRAY_SIZE(osw_mutations),
};
