/*
 * stress_mpsc.c - many producers, a consumer and a thief on one MPSC queue.
 *
 * PRODUCERS threads each enqueue their own numbered items (the odd ones
 * as chains of 1-8 with mpsc_enqueue_chain, linked with relaxed stores
 * as sched_tick links its yielders); the owner
 * consumes under mpsc_consumer_trylock() and a thief takes the consumer lock and
 * drains small batches with mpsc_dequeue_batch_locked(), as sched_tick
 * does.
 * Checks: every item is dequeued exactly once and each producer's items
 * come out in the order it enqueued them.  The per-producer "last seen"
 * array is plain memory guarded only by the queue's consumer lock, so TSan
 * also checks that the lock orders the two consumers.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/mpsc.h"
#include "tests/support/stress_util.h"

#define PRODUCERS	4
#define BASE_ITEMS	200000
#define THIEF_BATCH	8

struct item {
	struct mpsc_node node;
	unsigned producer;
	unsigned long seq;
};

static struct mpsc_node stub;
static struct mpsc_queue queue = MPSC_QUEUE_INIT(queue, &stub);
static struct item *items[PRODUCERS];
static unsigned long n_items;
static long last_seq[PRODUCERS];	/* guarded by the consumer lock */
static atomic_ulong consumed;
static atomic_ulong inconsistent_seen, busy_seen;

static void *producer(void *arg)
{
	unsigned p = (unsigned)(uintptr_t)arg;

	for (unsigned long i = 0; i < n_items; i++) {
		items[p][i].producer = p;
		items[p][i].seq = i;
		if (p & 1) {
			/* A chain of up to 8: items i..j. */
			unsigned long j = i + (i * 7 + p) % 8;

			if (j >= n_items)
				j = n_items - 1;
			for (unsigned long k = i + 1; k <= j; k++) {
				items[p][k].producer = p;
				items[p][k].seq = k;
				atomic_store_explicit(&items[p][k - 1].node.next,
						      &items[p][k].node,
						      memory_order_relaxed);
			}
			mpsc_enqueue_chain(&queue, &items[p][i].node,
					   &items[p][j].node);
			i = j;
		} else {
			mpsc_enqueue(&queue, &items[p][i].node);
		}
		if ((i & 1023) == 0)
			sched_yield();
	}
	return NULL;
}

/* Caller holds the consumer lock. */
static void check_item(struct mpsc_node *n)
{
	struct item *it = container_of(n, struct item, node);

	STRESS_CHECK(it->producer < PRODUCERS, "bad producer %u", it->producer);
	STRESS_CHECK((long)it->seq == last_seq[it->producer] + 1,
		     "producer %u: got %lu after %ld", it->producer, it->seq,
		     last_seq[it->producer]);
	last_seq[it->producer] = (long)it->seq;
	atomic_fetch_add_explicit(&consumed, 1, memory_order_relaxed);
}

static unsigned long total(void)
{
	return atomic_load_explicit(&consumed, memory_order_relaxed);
}

static void *thief(void *arg)
{
	(void)arg;
	while (total() < PRODUCERS * n_items) {
		if (!mpsc_consumer_trylock(&queue)) {
			sched_yield();
			continue;
		}
		{
			/* Batches as sched_tick takes them. */
			struct mpsc_node *batch[THIEF_BATCH];
			bool inconsistent;
			size_t got = mpsc_dequeue_batch_locked(&queue, batch,
							       THIEF_BATCH,
							       &inconsistent);

			for (size_t k = 0; k < got; k++)
				check_item(batch[k]);
		}
		mpsc_consumer_unlock(&queue);
		sched_yield();
	}
	return NULL;
}

int main(void)
{
	pthread_t prod[PRODUCERS], th;
	struct mpsc_node *n;

	n_items = stress_scale(BASE_ITEMS);
	for (unsigned p = 0; p < PRODUCERS; p++) {
		items[p] = calloc(n_items, sizeof(struct item));
		STRESS_CHECK(items[p] != NULL, "out of memory");
		last_seq[p] = -1;
	}
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_create(&prod[p], NULL, producer, (void *)(uintptr_t)p);
	pthread_create(&th, NULL, thief, NULL);

	while (total() < PRODUCERS * n_items) {
		enum mpsc_result r;

		/* Check under the same lock hold that dequeued the item, so
		 * the order seen is the queue's order. */
		if (!mpsc_consumer_trylock(&queue)) {
			r = MPSC_BUSY;
		} else {
			r = mpsc_dequeue_locked(&queue, &n);
			if (r == MPSC_ITEM)
				check_item(n);
			mpsc_consumer_unlock(&queue);
		}
		switch (r) {
		case MPSC_ITEM:
			break;
		case MPSC_INCONSISTENT:
			atomic_fetch_add_explicit(&inconsistent_seen, 1, memory_order_relaxed);
			sched_yield();
			break;
		case MPSC_BUSY:
			atomic_fetch_add_explicit(&busy_seen, 1, memory_order_relaxed);
			sched_yield();
			break;
		case MPSC_EMPTY:
			sched_yield();
			break;
		}
	}
	for (unsigned p = 0; p < PRODUCERS; p++)
		pthread_join(prod[p], NULL);
	pthread_join(th, NULL);

	STRESS_CHECK(mpsc_try_dequeue(&queue, &n) == MPSC_EMPTY, "queue not empty");
	for (unsigned p = 0; p < PRODUCERS; p++) {
		STRESS_CHECK(last_seq[p] == (long)n_items - 1,
			     "producer %u ended at %ld", p, last_seq[p]);
		free(items[p]);
	}
	printf("stress_mpsc: %lu items, %lu inconsistent, %lu busy\n",
	       PRODUCERS * n_items, atomic_load(&inconsistent_seen),
	       atomic_load(&busy_seen));
	printf("1 passed, 0 failed\n");
	return 0;
}
