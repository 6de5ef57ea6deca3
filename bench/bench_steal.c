/*
 * bench_steal.c - what one failed search for work costs, by how many
 * runtime slots are claimed: 2, 16, 64 and 512, all but the searcher
 * idle (asleep in the idle bitmap, nothing queued anywhere).
 *
 * A failed rt_core_try_steal() looks at the injector, makes at most
 * RT_STEAL_ATTEMPTS (16) random picks among the claimed slots (an
 * `initialised` load and an empty-queue check each), looks at the
 * injector again and at the stopped count.  Nothing in it walks the
 * slots, so its cost may grow with the slot count only through those
 * picks (a pick of one's own slot is skipped, so 2 slots make fewer
 * real checks; 512 slots spread them over more cache lines).  One thread
 * claims every slot (rt_core_new rebinds it each time) and searches from
 * the first.  Prints `steal_fail_N  NS ns/iter` lines (bench_util.h),
 * then the peer checks made per search.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch.h"
#include "bench/bench_util.h"
#include "config.h"
#include "kmalloc.h"
#include "rt/rt.h"

#define SEARCHES	200000

struct steal_bench {
	struct runtime *rt;
	struct rt_core *cores;
	unsigned n;
};

static double run_searches(void *arg)
{
	struct steal_bench *b = arg;
	uint64_t t0 = bench_now_ns();
	size_t got = 0;

	for (unsigned i = 0; i < SEARCHES; i++)
		got += rt_core_try_steal(&b->cores[0]);
	if (got) {
		fprintf(stderr, "bench_steal: a search found work\n");
		exit(1);
	}
	return (double)(bench_now_ns() - t0) / SEARCHES;
}

static void setup(struct steal_bench *b, unsigned n)
{
	b->n = n;
	b->rt = kmalloc_aligned(sizeof(*b->rt), 64);
	b->cores = calloc(n, sizeof(*b->cores));
	if (!b->rt || !b->cores)
		abort();
	memset(b->rt, 0, sizeof(*b->rt));
	rt_init(b->rt, arch_clock());
	for (unsigned i = 0; i < n; i++)
		rt_core_new(&b->cores[i], b->rt);
	/* Every slot but the searcher's asleep, as idle cores are. */
	for (unsigned i = 1; i < n; i++) {
		atomic_store(&b->rt->slots[i].state, RT_CORE_IDLE);
		atomic_fetch_or(&b->rt->idle[i / 64], 1ull << (i % 64));
		atomic_fetch_add(&b->rt->idle_count, 1);
	}
	arch_cpu_bind(0);
	arch_set_cpu_local(&b->cores[0]);
}

static void teardown(struct steal_bench *b)
{
	arch_set_cpu_local(NULL);
	free(b->cores);
	kfree(b->rt);
}

int main(void)
{
	static const unsigned counts[] = { 2, 16, 64, MAX_CORES };

	for (size_t k = 0; k < sizeof(counts) / sizeof(counts[0]); k++) {
		struct steal_bench b;
		char name[32];

		setup(&b, counts[k]);
		snprintf(name, sizeof(name), "steal_fail_%u", counts[k]);
		bench_report(name, run_searches, &b);
		teardown(&b);
	}
	printf("# peer checks per search: at most %u random picks; a pick of the "
	       "searcher's own slot (1 in N) is skipped\n", RT_STEAL_ATTEMPTS);
	return 0;
}
