/*
 * page_arena.h - a page source for heap tests: pages carved out of one
 * aligned malloc'd arena, with a bitmap of used pages, a record of every
 * allocation's length (so a wrong free is caught), counters, and an
 * optional limit to simulate running out of memory.  Thread-safe (a mutex)
 * for the stress test.  Header-only: included by test_heap.c and
 * stress_heap.c.
 */
#ifndef HYPHAE_TESTS_PAGE_ARENA_H
#define HYPHAE_TESTS_PAGE_ARENA_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/heap.h"

struct page_arena {
	pthread_mutex_t lock;
	char *base;
	size_t npages;
	unsigned char *used;	/* 1 per page in use */
	size_t *run;		/* at the first page of a run: its length */
	size_t outstanding;	/* pages handed out and not returned */
	size_t peak;
	size_t limit;		/* refuse to exceed this many outstanding */
	size_t allocs, frees, bad_frees;
	size_t hint;
};

static inline void *arena_alloc(void *ctx, size_t npages)
{
	struct page_arena *a = ctx;
	void *p = NULL;

	pthread_mutex_lock(&a->lock);
	if (npages == 0 || a->outstanding + npages > a->limit ||
	    npages > a->npages)
		goto out;
	for (size_t tries = 0; tries < 2 && p == NULL; tries++) {
		size_t start = tries == 0 ? a->hint : 0;

		for (size_t i = start; i + npages <= a->npages; i++) {
			size_t j = 0;

			while (j < npages && !a->used[i + j])
				j++;
			if (j == npages) {
				memset(a->used + i, 1, npages);
				a->run[i] = npages;
				a->outstanding += npages;
				if (a->outstanding > a->peak)
					a->peak = a->outstanding;
				a->allocs++;
				a->hint = i + npages;
				p = a->base + i * HEAP_PAGE_SIZE;
				break;
			}
			i += j;	/* skip past the used page that stopped us */
		}
	}
out:
	pthread_mutex_unlock(&a->lock);
	return p;
}

static inline void arena_free(void *ctx, void *p, size_t npages)
{
	struct page_arena *a = ctx;
	size_t off = (size_t)((char *)p - a->base);
	size_t i = off / HEAP_PAGE_SIZE;

	pthread_mutex_lock(&a->lock);
	if ((char *)p < a->base || off % HEAP_PAGE_SIZE || i >= a->npages ||
	    a->run[i] != npages || !a->used[i]) {
		a->bad_frees++;
	} else {
		memset(a->used + i, 0, npages);
		a->run[i] = 0;
		a->outstanding -= npages;
		a->frees++;
		/* Scribble over returned pages: a later use of them shows. */
		memset(p, 0xa5, npages * HEAP_PAGE_SIZE);
	}
	pthread_mutex_unlock(&a->lock);
}

static inline int arena_init(struct page_arena *a, size_t npages)
{
	memset(a, 0, sizeof(*a));
	pthread_mutex_init(&a->lock, NULL);
	a->base = aligned_alloc(HEAP_PAGE_SIZE, npages * HEAP_PAGE_SIZE);
	a->used = calloc(npages, 1);
	a->run = calloc(npages, sizeof(size_t));
	a->npages = npages;
	a->limit = npages;
	return a->base && a->used && a->run ? 0 : -1;
}

static inline void arena_destroy(struct page_arena *a)
{
	free(a->base);
	free(a->used);
	free(a->run);
	pthread_mutex_destroy(&a->lock);
}

static inline struct heap_pages arena_pages(struct page_arena *a)
{
	return (struct heap_pages){
		.alloc = arena_alloc, .free = arena_free, .ctx = a,
	};
}

#endif /* HYPHAE_TESTS_PAGE_ARENA_H */
