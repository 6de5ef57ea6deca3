/*
 * rt_harness.c - a runtime on host threads (rt_harness.h).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arch.h"
#include "kmalloc.h"
#include "tests/support/host_clock.h"
#include "tests/support/rt_harness.h"

static void *h_core_main(void *p)
{
	struct h_core *c = p;

	rt_core_new(&c->core, c->h->rt);
	atomic_fetch_add(&c->h->ready, 1);
	rt_core_run(&c->core);
	arch_set_cpu_local(NULL);
	return NULL;
}

struct runtime *h_runtime_new(void)
{
	struct runtime *rt = kmalloc_aligned(sizeof(*rt), 64);

	if (!rt)
		abort();
	memset(rt, 0, sizeof(*rt));
	rt_init(rt, arch_clock());
	return rt;
}

void h_start(struct harness *h, unsigned n)
{
	if (n > MAX_CORES) {
		fprintf(stderr, "h_start: %u cores, at most %u\n", n, MAX_CORES);
		abort();
	}
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

void h_stop_core(struct harness *h, unsigned i)
{
	if (i >= h->n || h->cores[i].joined)
		abort();
	rt_core_stop(&h->cores[i].core);
	pthread_join(h->cores[i].thread, NULL);
	h->cores[i].joined = true;
}

void h_stop(struct harness *h)
{
	/* Ask them all first, so they wind down together. */
	for (unsigned i = 0; i < h->n; i++)
		if (!h->cores[i].joined)
			rt_core_stop(&h->cores[i].core);
	for (unsigned i = 0; i < h->n; i++) {
		if (!h->cores[i].joined)
			pthread_join(h->cores[i].thread, NULL);
		h->cores[i].joined = true;
	}
}

void h_free(struct harness *h)
{
	kfree(h->rt);
	h->rt = NULL;
}

uint64_t h_now_ms(void)
{
	return host_now_ns() / 1000000;
}

void h_nap_us(unsigned us)
{
	struct timespec ts = { us / 1000000, (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

static enum poll h_count_poll(struct task *t, struct context *cx)
{
	(void)cx;
	atomic_fetch_add(container_of(t, struct h_count_task, task)->count, 1);
	return POLL_READY;
}

const struct task_vtable h_count_vt = { .poll = h_count_poll, .name = "count" };

bool h_wait_for(atomic_uint *v, unsigned want, unsigned timeout_ms)
{
	uint64_t end = h_now_ms() + timeout_ms;

	while (atomic_load(v) < want) {
		if (h_now_ms() > end)
			return false;
		h_nap_us(200);
	}
	return true;
}
