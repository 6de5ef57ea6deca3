/*
 * heap_timer.h - the baseline bench_timer.c measures the wheel against: a
 * binary min-heap of timers keyed by deadline, as many runtimes use (Go
 * before 1.14 per P, libuv, Tokio before 0.2).  Insert and cancel are
 * O(log n) sifts; each entry remembers its heap index so cancel needs no
 * search.  Header-only, benchmark use only, not thread-safe.
 */
#ifndef HYPHAE_BENCH_HEAP_TIMER_H
#define HYPHAE_BENCH_HEAP_TIMER_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define HEAP_NOT_QUEUED	SIZE_MAX

struct heap_entry {
	uint64_t deadline;
	size_t index;		/* position in heap->a, or HEAP_NOT_QUEUED */
};

struct heap_timer {
	struct heap_entry **a;
	size_t n, cap;
	uint64_t now;
};

static inline int heap_init(struct heap_timer *h, size_t cap, uint64_t now)
{
	h->a = malloc(cap * sizeof(*h->a));
	h->n = 0;
	h->cap = cap;
	h->now = now;
	return h->a ? 0 : -1;
}

static inline void heap_destroy(struct heap_timer *h)
{
	free(h->a);
}

static inline void heap_set(struct heap_timer *h, size_t i, struct heap_entry *e)
{
	h->a[i] = e;
	e->index = i;
}

static inline void heap_sift_up(struct heap_timer *h, size_t i)
{
	struct heap_entry *e = h->a[i];

	while (i > 0) {
		size_t parent = (i - 1) / 2;

		if (h->a[parent]->deadline <= e->deadline)
			break;
		heap_set(h, i, h->a[parent]);
		i = parent;
	}
	heap_set(h, i, e);
}

static inline void heap_sift_down(struct heap_timer *h, size_t i)
{
	struct heap_entry *e = h->a[i];

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->a[c + 1]->deadline < h->a[c]->deadline)
			c++;
		if (e->deadline <= h->a[c]->deadline)
			break;
		heap_set(h, i, h->a[c]);
		i = c;
	}
	heap_set(h, i, e);
}

/* 0, or -1 if full. */
static inline int heap_insert(struct heap_timer *h, struct heap_entry *e,
			      uint64_t deadline)
{
	if (h->n == h->cap)
		return -1;
	e->deadline = deadline;
	heap_set(h, h->n++, e);
	heap_sift_up(h, h->n - 1);
	return 0;
}

static inline int heap_cancel(struct heap_timer *h, struct heap_entry *e)
{
	size_t i = e->index;

	if (i == HEAP_NOT_QUEUED)
		return 0;
	e->index = HEAP_NOT_QUEUED;
	if (i != --h->n) {
		struct heap_entry *moved = h->a[h->n];

		/* The last entry fills the hole and may need to go either way. */
		heap_set(h, i, moved);
		heap_sift_down(h, i);
		heap_sift_up(h, moved->index);
	}
	return 1;
}

/* Pop and fire every entry due by `now`, in deadline order. */
static inline size_t heap_advance(struct heap_timer *h, uint64_t now,
				  void (*fire)(struct heap_entry *e, void *arg),
				  void *arg)
{
	size_t fired = 0;

	while (h->n && h->a[0]->deadline <= now) {
		struct heap_entry *e = h->a[0];

		e->index = HEAP_NOT_QUEUED;
		if (--h->n) {
			heap_set(h, 0, h->a[h->n]);
			heap_sift_down(h, 0);
		}
		fire(e, arg);
		fired++;
	}
	if (now > h->now)
		h->now = now;
	return fired;
}

#endif /* HYPHAE_BENCH_HEAP_TIMER_H */
