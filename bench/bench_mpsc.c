/*
 * bench_mpsc.c - MPSC queue throughput: enqueue+dequeue pairs.
 *
 * P producer threads (1, 2, 4) each enqueue ITEMS nodes while one
 * consumer (the main thread) dequeues with mpsc_try_dequeue() until it has
 * them all.  Reported: wall time / total items = ns per enqueue+dequeue
 * pair under that much producer contention (pairs/s = 1e9 / ns).
 * mpsc_pair_1thread is the uncontended cost: one thread, batches of 256.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdatomic.h>

#include "bench_util.h"
#include "sched/mpsc.h"

#define ITEMS	(1u << 20)
#define MAXP	4

static struct mpsc_node stub;
static struct mpsc_queue q = MPSC_QUEUE_INIT(q, &stub);
static struct mpsc_node *nodes;
static atomic_int go;

struct prod {
	pthread_t th;
	unsigned idx;
};

static void *producer(void *arg)
{
	struct prod *p = arg;

	while (!atomic_load_explicit(&go, memory_order_acquire))
		;
	for (unsigned i = 0; i < ITEMS; i++)
		mpsc_enqueue(&q, &nodes[(size_t)p->idx * ITEMS + i]);
	return NULL;
}

static double run(void *arg)
{
	unsigned np = *(unsigned *)arg;
	struct prod prods[MAXP];
	size_t want = (size_t)np * ITEMS, got = 0;
	struct mpsc_node *n;
	uint64_t t0;

	atomic_store(&go, 0);
	for (unsigned i = 0; i < np; i++) {
		prods[i].idx = i;
		pthread_create(&prods[i].th, NULL, producer, &prods[i]);
	}
	t0 = bench_now_ns();
	atomic_store_explicit(&go, 1, memory_order_release);
	while (got < want) {
		if (mpsc_try_dequeue(&q, &n) == MPSC_ITEM)
			got++;
	}
	t0 = bench_now_ns() - t0;
	for (unsigned i = 0; i < np; i++)
		pthread_join(prods[i].th, NULL);
	return (double)t0 / (double)want;
}

/* No contention: one thread enqueues a batch, then dequeues it. */
static double run_single(void *arg)
{
	const unsigned batch = 256;
	struct mpsc_node *n;
	uint64_t t0 = bench_now_ns();

	(void)arg;
	for (unsigned done = 0; done < ITEMS; done += batch) {
		for (unsigned i = 0; i < batch; i++)
			mpsc_enqueue(&q, &nodes[i]);
		for (unsigned i = 0; i < batch; i++)
			if (mpsc_try_dequeue(&q, &n) != MPSC_ITEM)
				abort();
	}
	return (double)(bench_now_ns() - t0) / ITEMS;
}

int main(void)
{
	static const unsigned ps[] = { 1, 2, 4 };
	char name[64];

	nodes = calloc((size_t)MAXP * ITEMS, sizeof(*nodes));
	if (!nodes)
		return 1;
	bench_report("mpsc_pair_1thread", run_single, NULL);
	for (unsigned i = 0; i < sizeof(ps) / sizeof(ps[0]); i++) {
		unsigned p = ps[i];

		snprintf(name, sizeof(name), "mpsc_pair_%up1c", p);
		bench_report(name, run, &p);
	}
	free(nodes);
	return 0;
}
