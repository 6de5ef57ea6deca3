/*
 * stress_trace.c - a reader copying a trace ring while its owner
 * overwrites it, under ASan and TSan.
 *
 * The writer stores events whose fields all derive from the event's
 * index, into a ring of only RING events, until the reader has made
 * WANT_COPIES copies and seen WANT_TORN events torn (or MAX_SECONDS
 * passed).  Every record the reader returns must be
 * one whole event (each field matches the others), in index order, and
 * no older than the copy's first index; events it drops count as torn
 * and are always the oldest of the copy.
 * The test fails if no copy ever raced a write (it would prove nothing),
 * and fails with a torn event if the reader's second look at the count
 * is removed from trace_ring_copy() (checked).  Prints
 * "1 passed, 0 failed".
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>

#include "kmalloc.h"
#include "lib/trace.h"
#include "tests/support/host_clock.h"
#include "tests/support/stress_util.h"

#define RING		16
/* The reader stops once it has made WANT_COPIES copies and seen
 * WANT_TORN events torn, or after MAX_SECONDS, whichever first. */
#define WANT_TORN	2000ul
#define WANT_COPIES	200000ul
#define MAX_SECONDS	3

static struct trace_ring *ring;
static atomic_bool stop;

static void *writer(void *arg)
{
	(void)arg;
	for (uint64_t k = 0; !atomic_load_explicit(&stop, memory_order_relaxed); k++)
		trace_ring_write(ring, (enum trace_type)(1 + k % (TRACE_TYPES - 1)),
				 (uint32_t)(k & TRACE_A_MAX), k, k * 0x9e3779b97f4a7c15ull,
				 ~k);
	return NULL;
}

int main(void)
{
	unsigned long want = stress_scale(WANT_TORN);
	unsigned long want_copies = stress_scale(WANT_COPIES);
	double end = host_now_s() + (double)stress_scale(MAX_SECONDS);
	struct trace_record out[RING];
	uint64_t copies = 0, records = 0, torn = 0;
	pthread_t w;

	ring = kmalloc_aligned(TRACE_RING_BYTES(RING), 64);
	STRESS_CHECK(ring != NULL, "no memory");
	trace_ring_init(ring, 0, RING);
	STRESS_CHECK(pthread_create(&w, NULL, writer, NULL) == 0, "pthread_create");
	/* Race only once the writer runs. */
	while (atomic_load_explicit(&ring->written, memory_order_relaxed) == 0)
		sched_yield();
	while ((torn < want || copies < want_copies) && host_now_s() < end) {
		struct trace_read rd;

		trace_ring_copy(ring, out, RING, &rd);
		copies++;
		records += rd.copied;
		torn += rd.torn;
		for (size_t i = 0; i < rd.copied; i++) {
			const struct trace_record *r = &out[i];
			uint64_t k = r->ts;

			STRESS_CHECK(r->x == k * 0x9e3779b97f4a7c15ull && r->y == ~k &&
				     r->a == (k & TRACE_A_MAX) &&
				     r->type == 1 + k % (TRACE_TYPES - 1),
				     "torn event: ts %llu x %#llx y %#llx a %u type %u",
				     (unsigned long long)k, (unsigned long long)r->x,
				     (unsigned long long)r->y, r->a, r->type);
			/* The torn are the oldest; the rest come in a row. */
			STRESS_CHECK(k == rd.first + rd.torn + i,
				     "event %llu at %zu of a copy from %llu, %llu torn",
				     (unsigned long long)k, i,
				     (unsigned long long)rd.first,
				     (unsigned long long)rd.torn);
		}
		/* At most one ring's worth but the writer's next slot. */
		STRESS_CHECK(rd.torn + rd.copied <= RING - 1,
			     "a copy of %zu and %llu torn from a ring of %d",
			     rd.copied, (unsigned long long)rd.torn, RING);
	}
	atomic_store_explicit(&stop, true, memory_order_relaxed);
	pthread_join(w, NULL);
	printf("stress_trace: %llu events written, %llu copies, %llu records, "
	       "%llu torn\n",
	       (unsigned long long)atomic_load(&ring->written),
	       (unsigned long long)copies, (unsigned long long)records,
	       (unsigned long long)torn);
	STRESS_CHECK(torn > 0, "no copy raced an overwrite (%llu copies)",
		     (unsigned long long)copies);
	kfree(ring);
	printf("1 passed, 0 failed\n");
	return 0;
}
