/*
 * stress_channel.c - the bounded MPSC channel under threads (three
 * stealing cores, stress_cores.h).
 *
 * Producer tasks send (producer, sequence, check) items through a channel
 * of 8 slots, so they wait for room most of the time; an "interrupt"
 * thread sends its own sequence with try_send (retrying an item the full
 * channel refused); one receiver task checks each item.  Producers are
 * cancelled at random moments.  Round one: the last producer closes the
 * channel.  Round two: the receiver closes it part-way and drains.
 * Checks: every item arrives intact and exactly once, in order per
 * producer (no gap, no duplicate), and what arrives from each producer is
 * exactly what its sends reported sent (0) - nothing lost after a
 * successful send, nothing delivered after a refused one.
 */
#include "errno.h"
#include "sched/channel.h"
#include "stress_cores.h"

#define CAP		8
#define BASE_MSGS	3000
#define PRODUCERS	12
#define IRQ_ID		PRODUCERS	/* the try_send thread's id */
#define CANCEL_EVERY	2
#define CHECK_MUL	0x9e3779b97f4a7c15ull

struct item {
	uint32_t producer, seq;
	uint64_t check;
};

static struct channel ch;
static uint64_t ch_buf[CHANNEL_BUF_SIZE(sizeof(struct item), CAP) / sizeof(uint64_t)];
static unsigned long n_msgs;
static atomic_long producers_done, rx_done, sent_ok[PRODUCERS + 1], bad, received;
static uint32_t expected[PRODUCERS + 1];	/* the receiver's */
static atomic_int irq_stop;
static bool rx_closes;				/* round two */

static uint64_t check_of(uint32_t p, uint32_t seq)
{
	return ((uint64_t)p << 32 | seq) * CHECK_MUL;
}

struct producer {
	struct task task;
	unsigned pt;
	uint32_t id, seq, sent;
	int res;
	struct item it;
	struct channel_sender w;
};

static enum poll producer_poll(struct task *t, struct context *cx)
{
	struct producer *p = container_of(t, struct producer, task);

	TASK_BEGIN(p->pt);
	for (p->seq = 0; p->seq < n_msgs; p->seq++) {
		p->it = (struct item){ p->id, p->seq, check_of(p->id, p->seq) };
		TASK_AWAIT(channel_send(&ch, &p->w, &p->it, cx, &p->res));
		if (p->res == -EPIPE)
			break;
		STRESS_CHECK(p->res == 0, "send: %d", p->res);
		p->sent++;
		if (p->seq % 16 == 0)
			TASK_YIELD();
	}
	TASK_END;
}

/* `sent` counts the sends that returned 0 (a cancelled task's pending
 * send never returned). */
static void producer_drop_state(struct task *t)
{
	struct producer *p = container_of(t, struct producer, task);

	channel_sender_drop(&ch, &p->w);
	atomic_store(&sent_ok[p->id], (long)p->sent);
	if (atomic_fetch_add(&producers_done, 1) + 1 == PRODUCERS && !rx_closes)
		channel_close(&ch);
}

static const struct task_vtable producer_vt = {
	.poll = producer_poll, .drop_state = producer_drop_state,
};

struct receiver {
	struct task task;
	unsigned pt;
	int res;
	struct item it;
};

static enum poll receiver_poll(struct task *t, struct context *cx)
{
	struct receiver *r = container_of(t, struct receiver, task);
	long n;

	TASK_BEGIN(r->pt);
	for (;;) {
		TASK_AWAIT(channel_recv(&ch, cx, &r->it, &r->res));
		if (r->res == -EPIPE)
			break;
		if (r->it.producer > PRODUCERS ||
		    r->it.check != check_of(r->it.producer, r->it.seq) ||
		    r->it.seq != expected[r->it.producer]) {
			atomic_fetch_add(&bad, 1);
			continue;
		}
		expected[r->it.producer]++;
		n = atomic_fetch_add(&received, 1) + 1;
		if (rx_closes && n == (long)(PRODUCERS * n_msgs / 2))
			channel_close(&ch);
	}
	TASK_END;
}

static void receiver_drop_state(struct task *t)
{
	(void)t;
	channel_recv_drop(&ch);
	atomic_fetch_add(&rx_done, 1);
}

static const struct task_vtable receiver_vt = {
	.poll = receiver_poll, .drop_state = receiver_drop_state,
};

/* try_send from outside any task; a refused item is sent again. */
static void *irq(void *arg)
{
	uint32_t seq = 0;
	unsigned long tries = 0;

	(void)arg;
	while (!atomic_load(&irq_stop) && seq < n_msgs) {
		struct item it = { IRQ_ID, seq, check_of(IRQ_ID, seq) };
		int r = channel_try_send(&ch, &it);

		if (r == 0)
			seq++;
		else if (r == -EPIPE)
			break;
		else
			STRESS_CHECK(r == -EAGAIN, "try_send: %d", r);
		if (++tries % 64 == 0)
			sched_yield();
	}
	atomic_store(&sent_ok[IRQ_ID], (long)seq);
	return NULL;
}

static void round_run(bool receiver_closes)
{
	struct join_handle jh[PRODUCERS], rh;
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 2654435761u * (receiver_closes ? 5 : 3));
	struct receiver rinit = { .pt = 0 };
	pthread_t irq_th;
	long total = 0, cancelled = 0;

	STRESS_CHECK(channel_init(&ch, ch_buf, sizeof(ch_buf), sizeof(struct item),
				  CAP) == 0, "init");
	rx_closes = receiver_closes;
	memset(expected, 0, sizeof(expected));
	atomic_store(&producers_done, 0);
	atomic_store(&rx_done, 0);
	atomic_store(&received, 0);
	atomic_store(&irq_stop, 0);
	sc_start();
	sc_spawn(0, &receiver_vt, &rinit, sizeof(rinit), &rh);
	pthread_create(&irq_th, NULL, irq, NULL);
	for (unsigned i = 0; i < PRODUCERS; i++) {
		struct producer init = { .id = i };

		channel_sender_init(&init.w);
		sc_spawn(i, &producer_vt, &init, sizeof(init), &jh[i]);
	}
	/* Cancel producers while the items flow: one in CANCEL_EVERY, each
	 * at a different point of the stream. */
	for (unsigned i = 0; i < PRODUCERS; i++) {
		long at = (long)((i + 1) * n_msgs / 4);
		time_t end = time(NULL) + sc_limit();

		while (atomic_load(&received) < at &&
		       atomic_load(&producers_done) < PRODUCERS) {
			STRESS_CHECK(time(NULL) < end, "stuck at %ld items "
				     "(a lost wakeup?)", atomic_load(&received));
			sched_yield();
		}
		if (xoro_below(&rng, CANCEL_EVERY) == 0)
			cancelled += join_cancel(&jh[xoro_below(&rng, PRODUCERS)]);
	}
	sc_wait(&producers_done, PRODUCERS, "producers");
	/* The interrupt thread stops too; a close from the producers does
	 * not wait for it (it sees -EPIPE). */
	atomic_store(&irq_stop, 1);
	pthread_join(irq_th, NULL);
	sc_wait(&rx_done, 1, "receiver");
	sc_stop_all();
	for (unsigned i = 0; i < PRODUCERS; i++)
		join_drop(&jh[i]);
	join_drop(&rh);
	channel_check(&ch);
	STRESS_CHECK(atomic_load(&bad) == 0, "%ld items out of order, torn or "
		     "duplicated", atomic_load(&bad));
	for (unsigned p = 0; p <= PRODUCERS; p++) {
		STRESS_CHECK(expected[p] == (uint32_t)atomic_load(&sent_ok[p]),
			     "producer %u: %u received, %ld sent", p, expected[p],
			     atomic_load(&sent_ok[p]));
		total += atomic_load(&sent_ok[p]);
	}
	STRESS_CHECK(atomic_load(&received) == total, "received %ld of %ld",
		     atomic_load(&received), total);
	printf("stress_channel: %s: %ld items, %ld by try_send, %ld producers "
	       "cancelled\n", receiver_closes ? "receiver closes" : "senders close",
	       total, atomic_load(&sent_ok[IRQ_ID]), cancelled);
}

int main(void)
{
	n_msgs = stress_scale(BASE_MSGS);
	round_run(false);
	round_run(true);
	printf("1 passed, 0 failed\n");
	return 0;
}
