/*
 * stress_cores.h - host threads as cores for the sync stress tests: each
 * ticks its own scheduler and steals from a random other one when dry, so
 * tasks migrate between threads while they wait, hold locks and are
 * woken.  A test spawns tasks round-robin, waits for its completion count
 * with a deadline (a lost wakeup shows as a task that never finishes: the
 * check fails instead of hanging), then stops the cores.  SC_CORES, if
 * defined before the include, sets the number of cores (at least 2).
 */
#ifndef HYPHAE_TESTS_SCHED_STRESS_CORES_H
#define HYPHAE_TESTS_SCHED_STRESS_CORES_H

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

#include "sched/scheduler.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"

#ifndef SC_CORES
#define SC_CORES	3
#endif
#define SC_DEADLINE_S	120

static struct scheduler sc_scheds[SC_CORES];
static pthread_t sc_threads[SC_CORES];
static atomic_int sc_stop;
/* Called (if set) before a wait's deadline fails the test: a test's dump
 * of what is stuck. */
static void (*sc_on_timeout)(void);

static inline void *sc_core(void *arg)
{
	unsigned me = (unsigned)(uintptr_t)arg;
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 0x9e3779b9u * (me + 1));

	while (!atomic_load(&sc_stop)) {
		struct stealer st;
		unsigned v = (me + 1 + xoro_below(&rng, SC_CORES - 1)) % SC_CORES;

		if (sched_tick(&sc_scheds[me]).has_remaining)
			continue;
		if (sched_try_steal(&sc_scheds[v], &st) == STEAL_OK) {
			size_t n = stealer_spawn_n(&st, &sc_scheds[me],
						   (st.initial_task_count + 1) / 2);

			stealer_release(&st);
			if (n)
				continue;
		}
		sched_yield();
	}
	return NULL;
}

static inline void sc_start(void)
{
	atomic_store(&sc_stop, 0);
	for (unsigned i = 0; i < SC_CORES; i++)
		sched_init(&sc_scheds[i], i, NULL);
	for (unsigned i = 0; i < SC_CORES; i++)
		pthread_create(&sc_threads[i], NULL, sc_core, (void *)(uintptr_t)i);
}

static inline void sc_stop_all(void)
{
	atomic_store(&sc_stop, 1);
	for (unsigned i = 0; i < SC_CORES; i++)
		pthread_join(sc_threads[i], NULL);
}

static inline void sc_spawn(unsigned i, const struct task_vtable *vt,
			    const void *init, size_t size, struct join_handle *jh)
{
	STRESS_CHECK(sched_spawn(&sc_scheds[i % SC_CORES], vt, init, size, jh) == 0,
		     "spawn");
}

/* Seconds a wait may take: SC_DEADLINE_S, or env HYPHAE_DEADLINE_S (for
 * mutation runs). */
static inline long sc_limit(void)
{
	const char *env = getenv("HYPHAE_DEADLINE_S");

	return env ? atol(env) : SC_DEADLINE_S;
}

/* Wait until *count reaches want; fails the test after sc_limit(). */
static inline void sc_wait(atomic_long *count, long want, const char *what)
{
	time_t end = time(NULL) + sc_limit();

	while (atomic_load(count) < want) {
		if (time(NULL) >= end && sc_on_timeout)
			sc_on_timeout();
		STRESS_CHECK(time(NULL) < end, "%s: %ld of %ld done after %ld s "
			     "(a lost wakeup?)", what, atomic_load(count), want,
			     sc_limit());
		sched_yield();
	}
}

#endif /* HYPHAE_TESTS_SCHED_STRESS_CORES_H */
