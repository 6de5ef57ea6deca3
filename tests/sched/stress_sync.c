/*
 * stress_sync.c - wait queue, wait cell and oneshot under threads.
 *
 * Sender tasks wait ROUNDS times on one wait queue, then send their id
 * through a oneshot to a receiver task.  A "interrupt" thread wakes the
 * queue (wake_one / wake_all at random) and a wait cell that a ticker task
 * loops on.  Two core threads tick two schedulers and steal from each
 * other (stress_cores.h); the main thread spawns the pairs and cancels some senders and
 * receivers while they run (drop_state then unlinks wait entries and
 * closes the oneshot side).  Checks: every task completes and is freed,
 * the queue ends with no waiters, a receiver whose sender was not
 * cancelled gets exactly its sender's id, TSan reports nothing.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "errno.h"
#include "sched/scheduler.h"
#include "sched/sync.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"

#define SC_CORES	2
#include "stress_cores.h"

#define BASE_PAIRS	50000
#define ROUNDS		3
#define CANCEL_EVERY	5

static struct wait_queue wq = WAIT_QUEUE_INIT;
static struct wait_cell cell = WAIT_CELL_INIT;
static struct oneshot *chans;
static int *chan_bufs, *recv_result, *recv_value;
static atomic_long live, completed, ticks;
static unsigned long n_pairs;

struct sender {
	struct task task;
	unsigned pt;
	int round;
	int id;
	struct wait_entry e;
};

struct receiver {
	struct task task;
	unsigned pt;
	int id;
	int got, result;
};

struct ticker {
	struct task task;
	unsigned pt;
};

static void count_done(void)
{
	atomic_fetch_add(&completed, 1);
}

static void dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static enum poll sender_poll(struct task *t, struct context *cx)
{
	struct sender *s = container_of(t, struct sender, task);
	int r;

	TASK_BEGIN(s->pt);
	for (s->round = 0; s->round < ROUNDS; s->round++)
		TASK_AWAIT(wait_queue_poll(&wq, &s->e, cx));
	r = oneshot_send(&chans[s->id], &s->id, sizeof(s->id));
	STRESS_CHECK(r == 0 || r == -ECANCELED, "send %d: %d", s->id, r);
	TASK_END;
}

static void sender_drop_state(struct task *t)
{
	struct sender *s = container_of(t, struct sender, task);

	wait_entry_drop(&wq, &s->e);
	oneshot_close_tx(&chans[s->id]);	/* no-op once sent */
	count_done();
}

static enum poll receiver_poll(struct task *t, struct context *cx)
{
	struct receiver *r = container_of(t, struct receiver, task);

	TASK_BEGIN(r->pt);
	TASK_AWAIT(oneshot_recv(&chans[r->id], cx, &r->got, &r->result));
	recv_result[r->id] = r->result;
	recv_value[r->id] = r->got;
	TASK_END;
}

static void receiver_drop_state(struct task *t)
{
	struct receiver *r = container_of(t, struct receiver, task);

	if (r->pt != TASK_PT_DONE)
		oneshot_close_rx(&chans[r->id]);
	count_done();
}

static enum poll ticker_poll(struct task *t, struct context *cx)
{
	struct ticker *k = container_of(t, struct ticker, task);

	TASK_BEGIN(k->pt);
	for (;;) {
		TASK_AWAIT(wait_cell_poll(&cell, cx));
		if (wait_cell_is_closed(&cell))
			break;
		atomic_fetch_add(&ticks, 1);
	}
	TASK_END;
}

static void ticker_drop_state(struct task *t)
{
	(void)t;
	count_done();
}

static const struct task_vtable sender_vt = {
	.poll = sender_poll, .deallocate = dealloc, .drop_state = sender_drop_state,
};
static const struct task_vtable receiver_vt = {
	.poll = receiver_poll, .deallocate = dealloc, .drop_state = receiver_drop_state,
};
static const struct task_vtable ticker_vt = {
	.poll = ticker_poll, .deallocate = dealloc, .drop_state = ticker_drop_state,
};

static struct xoroshiro128pp irq_rng;	/* the irq thread's */

/* The "interrupt handler": wakes from outside any scheduler. */
static void *irq(void *arg)
{
	(void)arg;
	while (!atomic_load(&sc_stop)) {
		switch (xoro_below(&irq_rng, 4)) {
		case 0:
			wait_queue_wake_all(&wq);
			break;
		default:
			wait_queue_wake_one(&wq);
			break;
		}
		wait_cell_wake(&cell);
		if (xoro_below(&irq_rng, 8) == 0)
			sched_yield();
	}
	return NULL;
}

int main(void)
{
	pthread_t irq_th;
	struct join_handle *sh, *rh, th;
	unsigned long total;
	struct xoroshiro128pp rng;
	bool *s_cancel, *r_cancel;

	n_pairs = stress_scale(BASE_PAIRS);
	test_rng_init(&rng, 4242);
	test_rng_split(&rng, &irq_rng);
	total = 2 * n_pairs + 1;
	chans = calloc(n_pairs, sizeof(*chans));
	chan_bufs = calloc(n_pairs, sizeof(int));
	recv_result = calloc(n_pairs, sizeof(int));
	recv_value = calloc(n_pairs, sizeof(int));
	sh = calloc(n_pairs, sizeof(*sh));
	rh = calloc(n_pairs, sizeof(*rh));
	s_cancel = calloc(n_pairs, sizeof(bool));
	r_cancel = calloc(n_pairs, sizeof(bool));
	STRESS_CHECK(chans && chan_bufs && recv_result && recv_value && sh && rh &&
		     s_cancel && r_cancel, "out of memory");
	for (unsigned long i = 0; i < n_pairs; i++) {
		oneshot_init(&chans[i], &chan_bufs[i], sizeof(int));
		recv_result[i] = 1;	/* never received */
	}
	sc_start();
	atomic_store(&live, 1);
	sc_spawn(0, &ticker_vt, NULL, sizeof(struct ticker), &th);
	pthread_create(&irq_th, NULL, irq, NULL);

	for (unsigned long i = 0; i < n_pairs; i++) {
		struct sender s = { .id = (int)i };
		struct receiver r = { .id = (int)i };

		wait_entry_init(&s.e);
		atomic_fetch_add(&live, 2);
		sc_spawn(i, &receiver_vt, &r, sizeof(r), &rh[i]);
		sc_spawn(i, &sender_vt, &s, sizeof(s), &sh[i]);
		/* Cancel an earlier pair member while it runs. */
		if (i > 0 && xoro_below(&rng, CANCEL_EVERY) == 0) {
			unsigned long j = xoro_below(&rng, i);

			if (xoro_next(&rng) & 1)
				s_cancel[j] |= join_cancel(&sh[j]);
			else
				r_cancel[j] |= join_cancel(&rh[j]);
		}
	}
	while (atomic_load(&completed) < (long)total - 1)
		sched_yield();
	wait_cell_close(&cell);
	while (atomic_load(&completed) < (long)total)
		sched_yield();
	sc_stop_all();
	pthread_join(irq_th, NULL);

	for (unsigned long i = 0; i < n_pairs; i++) {
		struct context none = { NULL };

		STRESS_CHECK(join_poll(&sh[i], &none, NULL, 0) == POLL_READY &&
			     join_poll(&rh[i], &none, NULL, 0) == POLL_READY,
			     "pair %lu not finished", i);
		STRESS_CHECK((sh[i].result == JOIN_CANCELLED) <= s_cancel[i] &&
			     (rh[i].result == JOIN_CANCELLED) <= r_cancel[i],
			     "pair %lu cancelled without cancel", i);
		if (rh[i].result == JOIN_OK && sh[i].result == JOIN_OK)
			STRESS_CHECK(recv_result[i] == 0 && recv_value[i] == (int)i,
				     "pair %lu received %d/%d", i, recv_result[i],
				     recv_value[i]);
		if (rh[i].result == JOIN_OK && recv_result[i] != 0)
			STRESS_CHECK(recv_result[i] == -ECANCELED && s_cancel[i],
				     "pair %lu receive result %d", i, recv_result[i]);
	}
	STRESS_CHECK(join_poll(&th, &(struct context){ NULL }, NULL, 0) == POLL_READY,
		     "ticker");
	STRESS_CHECK(atomic_load(&live) == 0, "%ld tasks leaked", atomic_load(&live));
	STRESS_CHECK(wq.waiters == 0 && wq.head == NULL, "wait queue not empty");
	printf("stress_sync: %lu pairs, %ld cell ticks\n", n_pairs, atomic_load(&ticks));
	free(chans);
	free(chan_bufs);
	free(recv_result);
	free(recv_value);
	free(sh);
	free(rh);
	free(s_cancel);
	free(r_cancel);
	printf("1 passed, 0 failed\n");
	return 0;
}
