/*
 * scenario_chan.c - the bounded MPSC channel (sched/channel.c): two
 * producers and the receiver, and close from either side.
 *
 *   chan        capacity 2; `sender` sends a0 a1 a2 with channel_send
 *               (waiting while the channel is full); `irq` sends b0 with
 *               channel_try_send, interrupts off as in a handler, retrying
 *               at its next "interrupt" while the channel is full; the
 *               receiver receives the four items with channel_recv
 *               (waiting while the channel is empty).  A sender woken for
 *               room may lose the slot to the irq and queue again, first.
 *   chan_close  capacity 2; `sender` sends a0..a3, stopping at its first
 *               -EPIPE; `closer` closes the channel from the sending side
 *               (the last sender handle going away); the receiver
 *               receives one item, closes the channel itself and drains it
 *               until -EPIPE.  Either close may meet the receiver parked
 *               on an empty channel and the sender waiting for room.
 *
 * Along the way: every item arrives at most once and in the order its
 * producer sent it (no gap, no duplicate), and only once its send began;
 * the item's bytes are ordered after their writer (the race checker: the
 * slot's release/acquire sequence); after every step head <= tail <= head
 * + capacity, and while nobody holds tx_lock the waiting senders' count
 * matches their list; no side waits forever (the sender waiting for room,
 * the receiver for an item: waiter_wait fails when the wake cannot come);
 * no access to the sender's entry after its owner freed it.  In
 * chan_close: -EPIPE comes only after a close began, every send begun
 * after a close returned gets it, and the receiver's -EPIPE comes after
 * every item whose send had returned 0.  At the end: every item whose
 * send returned 0 was received exactly once and no other (chan: all
 * four), channel_check finds the ring and the lists consistent, no
 * sender is queued, no receiver waker kept, and every reference to each
 * waker came back once.
 *
 * Sizes are what the budget allows: chan takes 480000 schedules at bound
 * 2 (with two items from each producer 750000, with one fewer from the
 * sender 120000, but then no woken sender ever loses its slot), so the
 * second producer of chan_close is the closer, and two senders waiting
 * for room at once are left to the stress test
 * (tests/sched/stress_channel.c).
 */
#include "arch.h"
#include "errno.h"
#include "sched/channel.h"
#include "tests/model/model.h"
#include "tests/model/waiter.h"

#define CAP		2
#define NPROD		2		/* 0: sender, 1: irq */
#define SENDER		0
#define IRQ		1
#define CHAN_ITEMS	3		/* chan: the sender's (irq sends 1) */
#define CLOSE_ITEMS	4		/* chan_close: the sender's */
#define ITEM(p, seq)	((uint64_t)(p) << 8 | (uint64_t)(seq))

static struct {
	struct channel ch;
	uint64_t buf[CHANNEL_BUF_SIZE(sizeof(uint64_t), CAP) / sizeof(uint64_t)];
	struct channel_sender w;	/* the sender's */
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	struct waiter rx, tx;
	long began[NPROD];	/* sends begun, per producer */
	long sent[NPROD];	/* sends that returned 0 */
	long epipe;		/* the sender's sends that returned -EPIPE */
	long next[NPROD];	/* the receiver's: next sequence expected */
	long received, rx_closed;
	long close_began, close_done;
} G;

static const char *const prod_name[NPROD] = { "sender", "irq" };

/* The receiver got `item`. */
static void got(uint64_t item)
{
	unsigned p = (unsigned)(item >> 8);
	long seq = (long)(item & 0xff);

	model_check(p < NPROD, "received garbage %#llx",
		    (unsigned long long)item);
	model_check(seq == G.next[p], "from %s: item %ld, expected %ld (%s)",
		    prod_name[p], seq, G.next[p],
		    seq < G.next[p] ? "a duplicate" : "out of order, or lost");
	model_check(seq < G.began[p], "from %s: item %ld before its send "
		    "began", prod_name[p], seq);
	model_ghost_add(&G.next[p], 1);
	model_ghost_add(&G.received, 1);
}

/*
 * Receive one item, waiting while the channel is empty: its result (0:
 * the item went through got(); -EPIPE: closed and drained).
 */
static int receive(void)
{
	struct waker wk;
	struct context cx = waiter_context(&G.rx, &wk);
	bool yielded = false;
	uint64_t item;
	int r = 1;

	/* A yield (a slot claimed, not yet published) lets the others run
	 * first, as the scheduler does with a task that yields. */
	cx.yielded = &yielded;
	while (channel_recv(&S.ch, &cx, &item, &r) == POLL_PENDING) {
		if (yielded) {
			yielded = false;
			model_yield();
			continue;
		}
		model_check(waiter_wait(&G.rx), "receiver: PENDING, and the "
			    "wake never came (%ld received)", G.received);
		waiter_rearm(&G.rx);
	}
	if (r == 0)
		got(item);
	else
		model_check(r == -EPIPE, "receive returned %d", r);
	return r;
}

/* The sender sends item `seq` with channel_send until READY: the result. */
static int send(long seq)
{
	struct waker wk;
	struct context cx = waiter_context(&G.tx, &wk);
	bool began_closed = G.close_done;
	uint64_t item = ITEM(SENDER, seq);
	int r = 1;

	model_ghost_add(&G.began[SENDER], 1);
	while (channel_send(&S.ch, &S.w, &item, &cx, &r) == POLL_PENDING) {
		model_check(waiter_wait(&G.tx), "sender: PENDING for room, "
			    "and the wake never came");
		waiter_rearm(&G.tx);
	}
	if (r == 0) {
		model_check(!began_closed, "sender: item %ld sent, but its "
			    "send began after a close returned", seq);
		model_ghost_add(&G.sent[SENDER], 1);
	} else {
		model_check(r == -EPIPE, "sender: send returned %d", r);
		model_check(G.close_began, "sender: -EPIPE before any close");
		model_ghost_add(&G.epipe, 1);
	}
	return r;
}

static void close_channel(void)
{
	model_ghost_add(&G.close_began, 1);
	channel_close(&S.ch);
	model_ghost_add(&G.close_done, 1);
}

static void common_setup(void)
{
	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	if (channel_init(&S.ch, S.buf, sizeof(S.buf), sizeof(uint64_t), CAP))
		model_fail("setup: channel_init failed");
	channel_sender_init(&S.w);
	waiter_init(&G.rx, "receiver.woken");
	waiter_init(&G.tx, "sender.woken");
	model_track(&S.ch, sizeof(S.ch), "chan");
	model_name(&S.ch.tail, sizeof(S.ch.tail), "chan.tail");
	model_name(&S.ch.head, sizeof(S.ch.head), "chan.head");
	model_name(&S.ch.rx_waiting, sizeof(S.ch.rx_waiting), "chan.rx_waiting");
	model_name(&S.ch.tx_waiting, sizeof(S.ch.tx_waiting), "chan.tx_waiting");
	model_name(&S.ch.rx_lock, sizeof(S.ch.rx_lock), "chan.rx_lock");
	model_name(&S.ch.tx_lock, sizeof(S.ch.tx_lock), "chan.tx_lock");
	model_track(S.buf, sizeof(S.buf), "slots");
	model_name(&S.buf[0], 8, "slot0.seq");
	model_name(&S.buf[1], 8, "slot0.item");
	model_name(&S.buf[2], 8, "slot1.seq");
	model_name(&S.buf[3], 8, "slot1.item");
	model_track(&S.w, sizeof(S.w), "sender.w");
	model_name(&S.w.state, sizeof(S.w.state), "sender.w.state");
}

static void invariant(void)
{
	uint64_t t = atomic_load_explicit(&S.ch.tail, memory_order_relaxed) >> 1;
	size_t n = 0;

	model_check(S.ch.head <= t && t - S.ch.head <= CAP, "head %llu, "
		    "tail %llu, capacity %d", (unsigned long long)S.ch.head,
		    (unsigned long long)t, CAP);
	/* The list and its count agree whenever nobody holds tx_lock (a
	 * holder may be paused between the two). */
	if (atomic_load_explicit(&S.ch.tx_lock.locked, memory_order_relaxed))
		return;
	for (struct channel_sender *w = S.ch.tx_head; w && n <= 1; w = w->next)
		n++;
	model_check(n == atomic_load_explicit(&S.ch.tx_waiting,
					      memory_order_relaxed),
		    "%zu senders queued, tx_waiting %zu", n,
		    atomic_load_explicit(&S.ch.tx_waiting, memory_order_relaxed));
}

/* Ring and lists consistent, nobody queued, references back. */
static void common_check(void)
{
	channel_check(&S.ch);
	model_check(S.ch.tx_head == NULL && !waker_is_some(&S.ch.rx_waker),
		    "a sender still queued, or the receiver's waker kept");
	for (unsigned p = 0; p < NPROD; p++)
		model_check(G.sent[p] == G.next[p], "%s: %ld sends returned "
			    "0, %ld of its items received", prod_name[p],
			    G.sent[p], G.next[p]);
	waiter_check_refs(&G.rx);
	waiter_check_refs(&G.tx);
}

/* ---- chan: a task sender and an interrupt handler ------------------------- */

static void sender(void *arg)
{
	(void)arg;
	for (long seq = 0; seq < CHAN_ITEMS; seq++)
		model_check(send(seq) == 0, "sender: a send failed");
	model_free(&S.w);
}

static void irq(void *arg)
{
	uint64_t item = ITEM(IRQ, 0);
	int r;

	(void)arg;
	model_ghost_add(&G.began[IRQ], 1);
	for (;;) {
		unsigned long flags = arch_irq_save();

		r = channel_try_send(&S.ch, &item);
		arch_irq_restore(flags);
		if (r != -EAGAIN)
			break;
		waiter_retry();		/* full: try at the next interrupt */
	}
	model_check(r == 0, "irq: try_send returned %d", r);
	model_ghost_add(&G.sent[IRQ], 1);
}

static void receiver(void *arg)
{
	(void)arg;
	while (G.received < CHAN_ITEMS + 1)
		model_check(receive() == 0, "receiver: -EPIPE, never closed");
	channel_recv_drop(&S.ch);
}

static void chan_setup(void)
{
	common_setup();
	model_spawn("sender", sender, NULL);
	model_spawn("irq", irq, NULL);
	model_spawn("receiver", receiver, NULL);
}

static void chan_check(void)
{
	model_check(G.received == CHAN_ITEMS + 1, "%ld items received",
		    G.received);
	common_check();
}

/* ---- chan_close: close from the sending and the receiving side ------------- */

static void close_sender(void *arg)
{
	(void)arg;
	for (long seq = 0; seq < CLOSE_ITEMS; seq++)
		if (send(seq) != 0)
			break;
	model_free(&S.w);
}

static void closer(void *arg)
{
	(void)arg;
	close_channel();
}

static void close_receiver(void *arg)
{
	(void)arg;
	if (receive() == 0) {
		close_channel();
		while (receive() == 0)
			;
	}
	/* -EPIPE: closed, and no item whose send returned 0 is left
	 * behind (a send may return after its item was received). */
	model_check(G.received >= G.sent[SENDER], "receiver: -EPIPE after "
		    "%ld items, %ld sends had returned 0", G.received,
		    G.sent[SENDER]);
	model_ghost_add(&G.rx_closed, 1);
	channel_recv_drop(&S.ch);
}

static void close_setup(void)
{
	common_setup();
	model_spawn("sender", close_sender, NULL);
	model_spawn("closer", closer, NULL);
	model_spawn("receiver", close_receiver, NULL);
}

static void close_check(void)
{
	model_check(channel_is_closed(&S.ch) && G.rx_closed, "not closed, or "
		    "the receiver never saw it");
	/* One receive and two slots: the fourth item never fits. */
	model_check(G.epipe == 1, "the sender's sends: %ld refused",
		    G.epipe);
	common_check();
}

/* ---- scenarios and their mutations ------------------------------------------- */

static const struct model_mutation chan_mutations[] = {
	{
		.name = "publish_relaxed",
		.what = "a sender publishes its slot with a relaxed store (the "
			"receiver may copy the item before it is written)",
		.kind = MUT_WEAKEN, .file = "sched/channel.c",
		.text = "atomic_store_explicit(&s->seq, pos + 1, memory_order_release);",
		.order = memory_order_relaxed,
	},
	{
		.name = "claim_split",
		.what = "a sender's claim of tail (CAS) becomes a load and a "
			"store (two senders claim one slot)",
		.kind = MUT_SPLIT, .file = "sched/channel.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&ch->tail, &t, t + 2,",
	},
	{
		.name = "parked_unseen",
		.what = "a sender never sees the receiver parked (rx_waiting "
			"reads false), so it never wakes it",
		.kind = MUT_FORCE, .file = "sched/channel.c",
		.text = "*notify = atomic_load_explicit(&ch->rx_waiting, memory_order_seq_cst);",
		.value = 0,
	},
	{
		.name = "free_fence_weak",
		.what = "the receive's seq_cst fence between freeing the slot "
			"and reading tx_waiting is only acq_rel (TSO: the free "
			"sits in the buffer while a sender announces itself and "
			"looks, and the receive misses the announce)",
		.kind = MUT_WEAKEN, .file = "sched/channel.c",
		.text = "atomic_thread_fence(memory_order_seq_cst);",
		.order = memory_order_acq_rel,
		.modes = MODEL_TSO,
	},
};

static const struct model_mutation close_mutations[] = {
	{
		.name = "close_unlocked",
		.what = "close unlinks the waiting senders without tx_lock",
		.kind = MUT_NOLOCK, .file = "sched/channel.c",
		.text = "unsigned long flags = spin_lock_irqsave(&ch->tx_lock);",
		.func = "channel_close",
	},
	{
		.name = "close_unmarked",
		.what = "close wakes everyone but never sets CLOSED in tail (a "
			"later send succeeds, the receiver never sees -EPIPE)",
		.kind = MUT_SKIP, .file = "sched/channel.c",
		.text = "atomic_fetch_or_explicit(&ch->tail, TAIL_CLOSED, memory_order_acq_rel);",
	},
};

const struct model_scenario scenario_chan = {
	.name = "chan",
	.what = "a sender and an interrupt's try_send against the receiver",
	.setup = chan_setup, .check = chan_check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	/* Bound 3 passes 5 million schedules per model unfinished. */
	.max_dfs = 1000000,
	.mutations = chan_mutations, .n_mutations = ARRAY_SIZE(chan_mutations),
};

const struct model_scenario scenario_chan_close = {
	.name = "chan_close",
	.what = "a sender and a closer against a receiver that closes and "
		"drains",
	.setup = close_setup, .check = close_check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = close_mutations,
	.n_mutations = ARRAY_SIZE(close_mutations),
};
