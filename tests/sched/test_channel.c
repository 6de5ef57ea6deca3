/*
 * test_channel.c - the bounded MPSC channel: init checks, FIFO over many
 * laps and odd item sizes, the receiver parked and woken by a send,
 * senders parked on a full channel and woken in order, close from either
 * side with waiters on both, sends after close refused with nothing
 * enqueued, cancellation of a parked and of a woken sender, and a slot
 * claimed but not yet published (the receiver yields, then gets it).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "errno.h"
#include "sched/channel.h"
#include "task_util.h"
#include "tests/support/waker_counter.h"

#define CAP	4
#define NS	3

struct tw {
	struct counter_cx wk;	/* a yield sets wk.yielded */
	struct channel_sender s;
	int res;
};

static void tw_init(struct tw *t, int n)
{
	for (int i = 0; i < n; i++) {
		counter_cx_init(&t[i].wk, true);
		channel_sender_init(&t[i].s);
		t[i].res = 1;
	}
}

static uint64_t buf[CHANNEL_BUF_SIZE(sizeof(uint64_t), CAP) / sizeof(uint64_t)];

static void chan(struct channel *ch)
{
	assert_int_equal(channel_init(ch, buf, sizeof(buf), sizeof(uint64_t), CAP), 0);
}

static enum poll snd(struct channel *ch, struct tw *t, const uint64_t *v)
{
	return channel_send(ch, &t->s, v, &t->wk.cx, &t->res);
}

static void test_init(void **st)
{
	struct channel ch;
	static uint64_t big[64];

	(void)st;
	assert_int_equal(channel_init(&ch, big, sizeof(big), 8, 3), -EINVAL);
	assert_int_equal(channel_init(&ch, big, sizeof(big), 8, 1), -EINVAL);
	assert_int_equal(channel_init(&ch, big, sizeof(big), 0, 4), -EINVAL);
	assert_int_equal(channel_init(&ch, big, CHANNEL_BUF_SIZE(8, 4) - 1, 8, 4),
			 -EINVAL);
	assert_int_equal(channel_init(&ch, (char *)big + 4, 256, 8, 4), -EINVAL);
	assert_int_equal(channel_init(&ch, big, sizeof(big), 8, 16), 0);
	assert_int_equal(channel_capacity(&ch), 16);
	assert_int_equal(CHANNEL_SLOT_SIZE(3), 16);
	assert_int_equal(CHANNEL_SLOT_SIZE(8), 16);
	assert_int_equal(CHANNEL_SLOT_SIZE(9), 24);
}

static void test_fifo_laps(void **st)
{
	struct channel ch;
	uint64_t v, next = 0, sent = 0;

	(void)st;
	chan(&ch);
	assert_int_equal(channel_try_recv(&ch, &v), -EAGAIN);
	/* Fill, drain part, refill: many laps of the ring. */
	for (int lap = 0; lap < 50; lap++) {
		while (channel_try_send(&ch, &sent) == 0)
			sent++;
		assert_int_equal(sent - next, CAP);
		assert_int_equal(channel_try_send(&ch, &sent), -EAGAIN);
		for (int i = 0; i <= lap % CAP; i++) {
			assert_int_equal(channel_try_recv(&ch, &v), 0);
			assert_int_equal(v, next++);
		}
	}
	while (channel_try_recv(&ch, &v) == 0)
		assert_int_equal(v, next++);
	assert_int_equal(next, sent);
}

/* Items of 3 and of 24 bytes are copied whole, and only them. */
static void test_item_sizes(void **st)
{
	struct channel ch;
	static uint64_t b3[CHANNEL_BUF_SIZE(3, 8) / 8], b24[CHANNEL_BUF_SIZE(24, 2) / 8];
	unsigned char in[3] = { 1, 2, 3 }, out[4] = { 9, 9, 9, 9 };
	struct { uint64_t a, b, c; } x = { 1, 2, 3 }, y = { 0, 0, 0 };

	(void)st;
	assert_int_equal(channel_init(&ch, b3, sizeof(b3), 3, 8), 0);
	for (int i = 0; i < 8; i++) {
		in[0] = (unsigned char)i;
		assert_int_equal(channel_try_send(&ch, in), 0);
	}
	for (int i = 0; i < 8; i++) {
		assert_int_equal(channel_try_recv(&ch, out), 0);
		assert_int_equal(out[0], i);
		assert_int_equal(out[2], 3);
		assert_int_equal(out[3], 9);
	}
	assert_int_equal(channel_init(&ch, b24, sizeof(b24), sizeof(x), 2), 0);
	assert_int_equal(channel_try_send(&ch, &x), 0);
	assert_int_equal(channel_try_recv(&ch, &y), 0);
	assert_memory_equal(&x, &y, sizeof(x));
}

static void test_recv_waits(void **st)
{
	struct channel ch;
	struct tw t[1];
	uint64_t v = 0, one = 11;

	(void)st;
	chan(&ch);
	tw_init(t, 1);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_PENDING);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_PENDING);
	assert_int_equal(t[0].wk.c.refs, 1);
	assert_false(t[0].wk.yielded);
	assert_int_equal(channel_try_send(&ch, &one), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_READY);
	assert_int_equal(t[0].res, 0);
	assert_int_equal(v, 11);
	/* A second send does not wake a receiver that is not parked. */
	assert_int_equal(channel_try_send(&ch, &one), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	/* The receiver gives up: its waker goes. */
	assert_int_equal(channel_try_recv(&ch, &v), 0);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_PENDING);
	channel_recv_drop(&ch);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(channel_try_send(&ch, &one), 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
}

/* Full: senders park in order; each receive wakes the first; a new
 * sender queues behind them; a woken sender that is dropped passes its
 * turn; a parked sender dropped leaves the queue. */
static void test_send_waits_fifo(void **st)
{
	struct channel ch;
	struct tw t[NS + 1];
	uint64_t v, val[NS + 1] = { 100, 101, 102, 103 };

	(void)st;
	chan(&ch);
	tw_init(t, NS + 1);
	for (uint64_t i = 0; i < CAP; i++)
		assert_int_equal(snd(&ch, &t[0], &i), POLL_READY);
	for (int i = 0; i < NS; i++) {
		assert_int_equal(snd(&ch, &t[i], &val[i]), POLL_PENDING);
		assert_int_equal(atomic_load(&t[i].s.state), CHAN_SENDER_WAITING);
	}
	assert_int_equal(atomic_load(&ch.tx_waiting), NS);
	assert_int_equal(channel_try_recv(&ch, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(t[1].wk.c.wakes + t[2].wk.c.wakes, 0);
	/* A newcomer does not take the free slot from the woken sender. */
	assert_int_equal(snd(&ch, &t[NS], &val[NS]), POLL_PENDING);
	assert_int_equal(snd(&ch, &t[0], &val[0]), POLL_READY);
	assert_int_equal(t[0].res, 0);
	assert_int_equal(t[0].wk.c.refs, 0);
	/* Woken, then cancelled: sender 2 gets the turn. */
	assert_int_equal(channel_try_recv(&ch, &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(t[1].wk.c.wakes, 1);
	channel_sender_drop(&ch, &t[1].s);
	assert_int_equal(t[2].wk.c.wakes, 1);
	assert_int_equal(snd(&ch, &t[2], &val[2]), POLL_READY);
	/* Parked, then cancelled: leaves the queue. */
	assert_int_equal(atomic_load(&ch.tx_waiting), 1);
	channel_sender_drop(&ch, &t[NS].s);
	assert_int_equal(atomic_load(&ch.tx_waiting), 0);
	assert_int_equal(t[NS].wk.c.refs, 0);
	/* What arrives: the rest of the fill (0 and 1 were received), then
	 * 100 and 102. */
	for (uint64_t want = 2; want < CAP; want++) {
		assert_int_equal(channel_try_recv(&ch, &v), 0);
		assert_int_equal(v, want);
	}
	assert_int_equal(channel_try_recv(&ch, &v), 0);
	assert_int_equal(v, 100);
	assert_int_equal(channel_try_recv(&ch, &v), 0);
	assert_int_equal(v, 102);
	assert_int_equal(channel_try_recv(&ch, &v), -EAGAIN);
	assert_int_equal(t[NS].wk.c.wakes, 0);
	for (int i = 0; i <= NS; i++)
		assert_int_equal(t[i].wk.c.refs, 0);
}

/* Close with a parked receiver: it is woken and sees closed. */
static void test_close_wakes_receiver(void **st)
{
	struct channel ch;
	struct tw t[1];
	uint64_t v;

	(void)st;
	chan(&ch);
	tw_init(t, 1);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_PENDING);
	channel_close(&ch);
	assert_int_equal(t[0].wk.c.wakes, 1);
	assert_int_equal(t[0].wk.c.refs, 0);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_READY);
	assert_int_equal(t[0].res, -EPIPE);
	assert_int_equal(t[0].wk.c.refs, 0);
}

/* Close with items queued and senders parked: the senders get -EPIPE,
 * their items are not sent; the receiver drains, then -EPIPE. */
static void test_close_drains(void **st)
{
	struct channel ch;
	struct tw t[NS];
	uint64_t v, x = 7;

	(void)st;
	chan(&ch);
	tw_init(t, NS);
	for (uint64_t i = 0; i < CAP; i++)
		assert_int_equal(channel_try_send(&ch, &i), 0);
	for (int i = 0; i < NS; i++)
		assert_int_equal(snd(&ch, &t[i], &x), POLL_PENDING);
	assert_false(channel_is_closed(&ch));
	channel_close(&ch);
	assert_true(channel_is_closed(&ch));
	for (int i = 0; i < NS; i++) {
		assert_int_equal(t[i].wk.c.wakes, 1);
		assert_int_equal(atomic_load(&t[i].s.state), CHAN_SENDER_CLOSED);
		assert_int_equal(snd(&ch, &t[i], &x), POLL_READY);
		assert_int_equal(t[i].res, -EPIPE);
		assert_int_equal(t[i].wk.c.refs, 0);
	}
	/* Sending on a closed channel: refused, nothing enqueued. */
	assert_int_equal(channel_try_send(&ch, &x), -EPIPE);
	assert_int_equal(snd(&ch, &t[0], &x), POLL_READY);
	assert_int_equal(t[0].res, -EPIPE);
	for (uint64_t i = 0; i < CAP; i++) {
		assert_int_equal(channel_try_recv(&ch, &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(channel_try_recv(&ch, &v), -EPIPE);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_READY);
	assert_int_equal(t[0].res, -EPIPE);
	channel_close(&ch);		/* idempotent */
	assert_int_equal(channel_try_recv(&ch, &v), -EPIPE);
	/* A closed sender dropped before its poll: nothing to pass on. */
	chan(&ch);
	tw_init(t, 2);
	for (uint64_t i = 0; i < CAP; i++)
		assert_int_equal(channel_try_send(&ch, &i), 0);
	assert_int_equal(snd(&ch, &t[0], &x), POLL_PENDING);
	channel_close(&ch);
	channel_sender_drop(&ch, &t[0].s);
	assert_int_equal(atomic_load(&t[0].s.state), CHAN_SENDER_IDLE);
}

/* A sender claimed head's slot and has not published it: the receiver
 * cannot sleep (the claimer may have missed its flag): it yields.  Close
 * meanwhile does not end the stream before that item. */
static void test_claimed_not_published(void **st)
{
	struct channel ch;
	struct tw t[1];
	uint64_t v = 0;
	_Atomic uint64_t *seq = (_Atomic uint64_t *)(void *)buf;

	(void)st;
	chan(&ch);
	tw_init(t, 1);
	/* Claim position 0 by hand, as push() does before its publish. */
	atomic_fetch_add(&ch.tail, 2);
	assert_int_equal(channel_try_recv(&ch, &v), -EAGAIN);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_PENDING);
	assert_true(t[0].wk.yielded);
	channel_close(&ch);
	assert_int_equal(channel_try_recv(&ch, &v), -EAGAIN);
	/* The publish. */
	buf[1] = 55;
	atomic_store(seq, 1);
	assert_int_equal(channel_recv(&ch, &t[0].wk.cx, &v, &t[0].res), POLL_READY);
	assert_int_equal(t[0].res, 0);
	assert_int_equal(v, 55);
	assert_int_equal(channel_try_recv(&ch, &v), -EPIPE);
	assert_int_equal(t[0].wk.c.refs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_fifo_laps),
		cmocka_unit_test(test_item_sizes),
		cmocka_unit_test(test_recv_waits),
		cmocka_unit_test(test_send_waits_fifo),
		cmocka_unit_test(test_close_wakes_receiver),
		cmocka_unit_test(test_close_drains),
		cmocka_unit_test(test_claimed_not_published),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
