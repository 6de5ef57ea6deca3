/*
 * rt_harness.h - run a struct runtime on N host threads (one per core) for
 * the rt tests and the runtime benchmarks (bench_rt, bench_mem): start,
 * wait for a condition, stop, check the books.
 * Assertions made on core threads are counted, not raised (cmocka's
 * asserts only work on the test's own thread), and checked at the end.
 */
#ifndef HYPHAE_TESTS_SUPPORT_RT_HARNESS_H
#define HYPHAE_TESTS_SUPPORT_RT_HARNESS_H

#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "kmalloc.h"
#include "rt/rt.h"

#define H_MAX_CORES	32

struct harness;

struct h_core {
	struct harness *h;
	struct rt_core core;
	pthread_t thread;
};

struct harness {
	struct runtime *rt;
	unsigned n;
	struct h_core cores[H_MAX_CORES];
	atomic_uint ready;
};

static inline void *h_core_main(void *p)
{
	struct h_core *c = p;

	rt_core_new(&c->core, c->h->rt);
	atomic_fetch_add(&c->h->ready, 1);
	rt_core_run(&c->core);
	arch_set_cpu_local(NULL);
	return NULL;
}

static inline struct runtime *h_runtime_new(void)
{
	struct runtime *rt = kmalloc_aligned(sizeof(*rt), 64);

	if (!rt)
		abort();
	memset(rt, 0, sizeof(*rt));
	rt_init(rt, arch_clock());
	return rt;
}

static inline void h_start(struct harness *h, unsigned n)
{
	memset(h, 0, sizeof(*h));
	h->rt = h_runtime_new();
	h->n = n;
	for (unsigned i = 0; i < n; i++) {
		h->cores[i].h = h;
		if (pthread_create(&h->cores[i].thread, NULL, h_core_main,
				   &h->cores[i]))
			abort();
	}
	while (atomic_load(&h->ready) < n)
		sched_yield();
}

static inline void h_stop(struct harness *h)
{
	for (unsigned i = 0; i < h->n; i++)
		rt_core_stop(&h->cores[i].core);
	for (unsigned i = 0; i < h->n; i++)
		pthread_join(h->cores[i].thread, NULL);
}

static inline void h_free(struct harness *h)
{
	kfree(h->rt);
	h->rt = NULL;
}

static inline uint64_t h_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait until *v >= want or timeout_ms passes; true if reached. */
static inline bool h_wait_for(atomic_uint *v, unsigned want, unsigned timeout_ms)
{
	uint64_t end = h_now_ms() + timeout_ms;

	while (atomic_load(v) < want) {
		if (h_now_ms() > end)
			return false;
		struct timespec ts = { 0, 200000 };
		nanosleep(&ts, NULL);
	}
	return true;
}

/* Sum of a scheduler counter over every slot of h. */
#define H_SUM(h, field) ({						\
	uint64_t s_ = 0;						\
	for (unsigned i_ = 0; i_ < (h)->n; i_++)			\
		s_ += atomic_load(&(h)->rt->slots[i_].field);		\
	s_; })

#endif /* HYPHAE_TESTS_SUPPORT_RT_HARNESS_H */
