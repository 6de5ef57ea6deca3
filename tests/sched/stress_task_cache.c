/*
 * stress_task_cache.c - task storage under concurrency (sched/task_cache.h).
 *
 * THREADS threads, each standing for a core with its own cache except
 * thread 0, which has none (the host's main thread spawning into the
 * injector).  Each allocates blocks of random classes, stamps them with
 * its id and a sequence number, and hands most of them to another thread
 * through a locked exchange (tasks completing on a core other than the
 * spawner's); every block it receives or keeps it checks for its stamp
 * (a block handed out twice at once would be overwritten by the other
 * owner) and frees into its own cache.  So full magazines flow through the
 * depot in both directions while the cacheless thread takes and gives
 * single blocks.  At the end every cache is drained and the depot trimmed:
 * nothing may be left (ASan's leak check sees every block), and the
 * depot's count must be 0.  Run under ASan and TSan.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "lib/random.h"
#include "sched/task_cache.h"
#include "tests/support/stress_util.h"

#define THREADS		4
#define BATCH		48
#define EXCHANGE	4096

struct stamp {
	uint64_t owner;
	uint64_t seq;
	uint64_t cls;
};

static struct {
	pthread_mutex_t lock;
	void *block[EXCHANGE];
	unsigned cls[EXCHANGE];
	unsigned n;
} exchange = { .lock = PTHREAD_MUTEX_INITIALIZER };

static unsigned long rounds;

static void stamp(void *p, uint64_t owner, uint64_t seq, unsigned cls)
{
	struct stamp *s = p;

	s->owner = owner;
	s->seq = seq;
	s->cls = cls;
	/* The rest of the block too, so ASan checks the class's bound. */
	memset((char *)p + sizeof(*s), (int)(owner & 0xff),
	       cls * TASK_CACHE_UNIT - sizeof(*s));
}

static void check_stamp(void *p, uint64_t owner, uint64_t seq, unsigned cls)
{
	struct stamp *s = p;

	STRESS_CHECK(s->owner == owner && s->seq == seq && s->cls == cls,
		     "block %p: stamp %llu/%llu/%llu, expected %llu/%llu/%u",
		     p, (unsigned long long)s->owner,
		     (unsigned long long)s->seq, (unsigned long long)s->cls,
		     (unsigned long long)owner, (unsigned long long)seq, cls);
}

struct worker {
	unsigned id;
	struct task_cache cache;
	struct xoroshiro128pp rng;
	unsigned long given, received;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct task_cache *c = w->id == 0 ? NULL : &w->cache;
	void *mine[BATCH];
	unsigned cls[BATCH];
	uint64_t seq = 0;

	if (c)
		task_cache_init(c);
	for (unsigned long r = 0; r < rounds; r++) {
		unsigned n = 1 + (unsigned)xoro_below(&w->rng, BATCH);

		for (unsigned i = 0; i < n; i++) {
			cls[i] = 1 + (unsigned)xoro_below(&w->rng, TASK_CACHE_CLASSES);
			mine[i] = task_cache_alloc(c, cls[i]);
			STRESS_CHECK(mine[i] != NULL, "out of memory");
			STRESS_CHECK(((uintptr_t)mine[i] & (TASK_CACHE_UNIT - 1)) == 0,
				     "block %p not aligned", mine[i]);
			stamp(mine[i], w->id, seq + i, cls[i]);
		}
		for (unsigned i = 0; i < n; i++)
			check_stamp(mine[i], w->id, seq + i, cls[i]);
		seq += n;
		/* Hand three quarters over; take what others handed over. */
		pthread_mutex_lock(&exchange.lock);
		for (unsigned i = 0; i < n; i++) {
			if (xoro_below(&w->rng, 4) == 0 || exchange.n == EXCHANGE)
				continue;
			/* Re-stamp as "in the exchange", owner UINT64_MAX. */
			((struct stamp *)mine[i])->owner = UINT64_MAX;
			exchange.block[exchange.n] = mine[i];
			exchange.cls[exchange.n++] = cls[i];
			mine[i] = NULL;
			w->given++;
		}
		while (exchange.n > EXCHANGE / 2 ||
		       (exchange.n > 0 && xoro_below(&w->rng, 2))) {
			unsigned k = --exchange.n;
			struct stamp *s = exchange.block[k];

			STRESS_CHECK(s->owner == UINT64_MAX && s->cls == exchange.cls[k],
				     "exchanged block %p: owner %llu cls %llu",
				     (void *)s, (unsigned long long)s->owner,
				     (unsigned long long)s->cls);
			task_cache_free(c, s, exchange.cls[k]);
			w->received++;
		}
		pthread_mutex_unlock(&exchange.lock);
		for (unsigned i = 0; i < n; i++)
			if (mine[i])
				task_cache_free(c, mine[i], cls[i]);
	}
	if (c)
		task_cache_drain(c);
	return NULL;
}

int main(void)
{
	static struct worker ws[THREADS];
	pthread_t th[THREADS];
	unsigned long given = 0, received = 0;

	rounds = stress_scale(20000);
	for (unsigned i = 0; i < THREADS; i++) {
		ws[i].id = i;
		xoro_seed(&ws[i].rng, 0x7a5c0000u + i);
		STRESS_CHECK(pthread_create(&th[i], NULL, worker_main, &ws[i]) == 0,
			     "pthread_create");
	}
	for (unsigned i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		given += ws[i].given;
		received += ws[i].received;
	}
	/* What is still in the exchange goes back through the depot. */
	for (unsigned k = 0; k < exchange.n; k++, received++)
		task_cache_free(NULL, exchange.block[k], exchange.cls[k]);
	STRESS_CHECK(given == received, "given %lu, received %lu", given, received);
	STRESS_CHECK(given > rounds, "only %lu blocks changed threads", given);
	STRESS_CHECK(task_cache_depot_bytes() <= TASK_CACHE_DEPOT_BYTES,
		     "depot holds %zu bytes", task_cache_depot_bytes());
	task_cache_depot_trim();
	STRESS_CHECK(task_cache_depot_bytes() == 0, "depot not empty after trim");
	printf("stress_task_cache: %u threads, %lu rounds, %lu blocks changed "
	       "threads\n1 passed, 0 failed\n", THREADS, rounds, given);
	return 0;
}
