/*
 * test_mpsc.c - unit tests for the intrusive MPSC queue (sched/mpsc.h).
 *
 * Single-threaded: FIFO order, the stub being recycled, a static queue,
 * the consumer lock (BUSY), and the INCONSISTENT window, which is produced
 * by doing a producer's exchange by hand and completing its store later.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "sched/mpsc.h"

struct item {
	struct mpsc_node node;
	int value;
};

#define N_ITEMS 100

static struct mpsc_node static_stub;
static struct mpsc_queue static_q = MPSC_QUEUE_INIT(static_q, &static_stub);

static int pop(struct mpsc_queue *q, enum mpsc_result *res)
{
	struct mpsc_node *n = NULL;

	*res = mpsc_try_dequeue(q, &n);
	if (*res != MPSC_ITEM)
		return -1;
	return container_of(n, struct item, node)->value;
}

static void test_empty(void **state)
{
	struct mpsc_node stub;
	struct mpsc_queue q;
	enum mpsc_result r;

	(void)state;
	mpsc_init(&q, &stub);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);
	assert_int_equal(pop(&static_q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);
}

static void fifo_rounds(struct mpsc_queue *q)
{
	struct item items[N_ITEMS] = { 0 };
	enum mpsc_result r;

	/* Several rounds, varying lengths, so the stub is recycled each time
	 * the queue drains and the single-item path is taken too. */
	for (int round = 1; round <= 5; round++) {
		int len = round == 1 ? 1 : N_ITEMS / round;

		for (int i = 0; i < len; i++) {
			items[i].value = round * 1000 + i;
			mpsc_enqueue(q, &items[i].node);
		}
		assert_int_equal(mpsc_check(q, N_ITEMS + 1, NULL, NULL), len);
		for (int i = 0; i < len; i++) {
			assert_int_equal(pop(q, &r), round * 1000 + i);
			assert_int_equal(mpsc_check(q, N_ITEMS + 1, NULL, NULL),
					 len - i - 1);
		}
		assert_int_equal(pop(q, &r), -1);
		assert_int_equal(r, MPSC_EMPTY);
	}
}

static void test_fifo(void **state)
{
	struct mpsc_node stub;
	struct mpsc_queue q;

	(void)state;
	mpsc_init(&q, &stub);
	fifo_rounds(&q);
	fifo_rounds(&static_q);
}

static void test_interleaved(void **state)
{
	struct item items[N_ITEMS] = { 0 };
	struct mpsc_node stub;
	struct mpsc_queue q;
	enum mpsc_result r;
	int next_in = 0, next_out = 0;

	(void)state;
	mpsc_init(&q, &stub);
	/* Push two, pop one, repeatedly: the queue never fully drains until
	 * the end, then drains. */
	while (next_in < N_ITEMS) {
		for (int k = 0; k < 2 && next_in < N_ITEMS; k++) {
			items[next_in].value = next_in;
			mpsc_enqueue(&q, &items[next_in].node);
			next_in++;
		}
		assert_int_equal(pop(&q, &r), next_out++);
	}
	while (next_out < N_ITEMS)
		assert_int_equal(pop(&q, &r), next_out++);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);
}

static void test_busy(void **state)
{
	struct mpsc_node stub;
	struct mpsc_queue q;
	struct item a = { .value = 7 };
	struct mpsc_node *n;
	enum mpsc_result r;

	(void)state;
	mpsc_init(&q, &stub);
	mpsc_enqueue(&q, &a.node);
	assert_true(mpsc_consumer_trylock(&q));
	assert_false(mpsc_consumer_trylock(&q));
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_BUSY);
	/* The holder still dequeues. */
	assert_int_equal(mpsc_dequeue_locked(&q, &n), MPSC_ITEM);
	assert_ptr_equal(n, &a.node);
	assert_int_equal(mpsc_dequeue_locked(&q, &n), MPSC_EMPTY);
	mpsc_consumer_unlock(&q);
	assert_true(mpsc_consumer_trylock(&q));
	mpsc_consumer_unlock(&q);
}

/* A producer stopped between its exchange and its store. */
static struct mpsc_node *half_enqueue(struct mpsc_queue *q, struct mpsc_node *n)
{
	atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	return atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
}

static void finish_enqueue(struct mpsc_node *prev, struct mpsc_node *n)
{
	atomic_store_explicit(&prev->next, n, memory_order_release);
}

static void test_inconsistent(void **state)
{
	struct mpsc_node stub, *prev;
	struct mpsc_queue q;
	struct item a = { .value = 1 }, b = { .value = 2 };
	enum mpsc_result r;

	(void)state;
	mpsc_init(&q, &stub);

	/* Empty queue, producer mid-enqueue: stub has no next, head moved. */
	prev = half_enqueue(&q, &a.node);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_INCONSISTENT);
	finish_enqueue(prev, &a.node);
	assert_int_equal(pop(&q, &r), 1);

	/* One item visible, the next producer mid-enqueue behind it. */
	mpsc_enqueue(&q, &a.node);
	prev = half_enqueue(&q, &b.node);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_INCONSISTENT);
	finish_enqueue(prev, &b.node);
	assert_int_equal(pop(&q, &r), 1);
	assert_int_equal(pop(&q, &r), 2);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);
}

static void test_check_catches(void **state)
{
	struct mpsc_node stub;
	struct mpsc_queue q;
	struct item a = { 0 }, b = { 0 }, c = { 0 };

	(void)state;
	mpsc_init(&q, &stub);
	mpsc_enqueue(&q, &a.node);
	mpsc_enqueue(&q, &b.node);
	mpsc_enqueue(&q, &c.node);
	assert_int_equal(mpsc_check(&q, 8, NULL, NULL), 3);
	/* A cycle: c -> a.  Head (c) now has a successor / loops. */
	atomic_store(&c.node.next, &a.node);
	expect_assert_failure(mpsc_check(&q, 8, NULL, NULL));
	/* A lost link: a -> NULL, head unreachable. */
	atomic_store(&c.node.next, NULL);
	atomic_store(&a.node.next, NULL);
	expect_assert_failure(mpsc_check(&q, 8, NULL, NULL));
}

/* Batches: up to max, FIFO, and the last visible node is left behind
 * unless it is the only one; a half-linked producer behind a node is
 * reported, at the stub it looks empty. */
static void test_batch(void **state)
{
	struct mpsc_node stub, *out[8], *prev;
	struct mpsc_queue q;
	struct item it[6] = { 0 };
	bool inc;

	(void)state;
	mpsc_init(&q, &stub);
	assert_true(mpsc_consumer_trylock(&q));
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 0);
	assert_false(inc);
	for (int i = 0; i < 6; i++) {
		it[i].value = i;
		mpsc_enqueue(&q, &it[i].node);
	}
	/* max respected, in order. */
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 2, &inc), 2);
	assert_ptr_equal(out[0], &it[0].node);
	assert_ptr_equal(out[1], &it[1].node);
	/* Room for all four left: the last one stays. */
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 3);
	assert_ptr_equal(out[2], &it[4].node);
	assert_false(inc);
	/* Alone, it is taken (the stub goes back behind it). */
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 1);
	assert_ptr_equal(out[0], &it[5].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 0);
	assert_false(inc);
	assert_int_equal(mpsc_check(&q, 16, NULL, NULL), 0);

	/* A producer half-way behind a node: reported as inconsistent. */
	mpsc_enqueue(&q, &it[0].node);
	prev = half_enqueue(&q, &it[1].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 0);
	assert_true(inc);
	finish_enqueue(prev, &it[1].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 1);
	assert_ptr_equal(out[0], &it[0].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 1);
	assert_ptr_equal(out[0], &it[1].node);
	/* Half-way on an empty queue: looks empty, never lost. */
	prev = half_enqueue(&q, &it[2].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 0);
	finish_enqueue(prev, &it[2].node);
	assert_int_equal(mpsc_dequeue_batch_locked(&q, out, 8, &inc), 1);
	assert_ptr_equal(out[0], &it[2].node);
	mpsc_consumer_unlock(&q);
}

/* A chain goes in with one exchange, whole and in order, behind what is
 * queued and ahead of what comes after; a chain of one is a plain node;
 * on an empty queue it comes out through the stub.  (Nodes here start
 * zeroed: mpsc_enqueue() reads a node's link before it writes it.) */
static void test_chain(void **state)
{
	struct item it[8] = { 0 };
	struct mpsc_node stub;
	struct mpsc_queue q;
	enum mpsc_result r;

	(void)state;
	mpsc_init(&q, &stub);
	for (int i = 0; i < 8; i++)
		it[i].value = i;
	for (int i = 1; i < 4; i++)
		atomic_store(&it[i].node.next, &it[i + 1].node);
	/* A stale next on the last node must be overwritten. */
	atomic_store(&it[4].node.next, &it[7].node);
	mpsc_enqueue_chain(&q, &it[1].node, &it[4].node);
	assert_int_equal(mpsc_check(&q, 16, NULL, NULL), 4);
	mpsc_enqueue(&q, &it[5].node);
	for (int i = 1; i <= 5; i++)
		assert_int_equal(pop(&q, &r), i);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);

	mpsc_enqueue(&q, &it[0].node);
	mpsc_enqueue_chain(&q, &it[6].node, &it[6].node);
	assert_int_equal(mpsc_check(&q, 16, NULL, NULL), 2);
	assert_int_equal(pop(&q, &r), 0);
	assert_int_equal(pop(&q, &r), 6);
	assert_int_equal(pop(&q, &r), -1);
	assert_int_equal(r, MPSC_EMPTY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_fifo),
		cmocka_unit_test(test_interleaved),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_inconsistent),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_chain),
		cmocka_unit_test(test_check_catches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
