/*
 * stress_halt_poll.c - arch/host's wait and wake race each other at every
 * point of the halt poll (cpu.c) without losing a wakeup or its data.
 *
 * A producer thread writes a plain payload, sends arch_wake() to a core
 * thread, and waits for the core to acknowledge that payload before the
 * next.  Before each wake it spins a random while, and the core waits with
 * a poll picked at random (none, shorter than the producer's delays, or
 * long), so a wake lands before the wait, during the poll, in the CAS
 * windows around it and during the futex sleep.  The core reads the payload
 * with plain loads after each return: ThreadSanitizer reports a race if a
 * path through the wait returns without acquiring the wake's release.  One
 * wake, one return: a lost wakeup leaves the core asleep until its one-shot
 * timer (5 s) ends the wait with no new payload, and a return without a
 * wake (a stale PENDING) finds no new payload either; both fail.  The core
 * checks at the end that both the poll and the futex sleep ended waits.
 * HYPHAE_SOAK=1 multiplies the rounds.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "arch.h"
#include "arch/host/cpu.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"
#include "clock.h"

#define CORE		30
#define WATCHDOG_NS	5000000000ull

static unsigned long rounds;
static uint64_t payload;		/* plain: published by the wake */
static atomic_ulong acked;		/* the last payload the core saw */
static atomic_int core_ready;
static struct host_poll_stats core_stats;	/* written by the core at its end */

/* The producer's and the core's choices: one generator each. */
static struct xoroshiro128pp producer_rng, core_rng;

static void spin(unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		arch_cpu_relax();
}

static void *core_thread(void *arg)
{
	const struct clock *clk = arch_clock();
	uint64_t seen = 0;

	(void)arg;
	arch_cpu_bind(CORE);
	atomic_store(&core_ready, 1);
	while (seen < rounds) {
		uint64_t r = xoro_below(&core_rng, 3), now, got;

		/* None, shorter than most of the producer's delays, or long. */
		host_halt_poll_set(r == 0 ? 0 : r == 1 ? 2000 : 5000000);
		now = clock_now(clk);
		arch_timer_arm(now + WATCHDOG_NS / clk->tick_ns);
		arch_wait_for_interrupt();
		arch_timer_arm(UINT64_MAX);
		got = payload;	/* plain: TSan checks the wake published it */
		STRESS_CHECK(got == seen + 1,
			     "payload %llu after %llu (%s)", (unsigned long long)got,
			     (unsigned long long)seen,
			     clock_now(clk) - now >= WATCHDOG_NS / clk->tick_ns ?
			     "the 5 s watchdog ended the wait: wakeup lost" :
			     "a return without a wake");
		seen = got;
		/* release: the producer may write the next payload after it. */
		atomic_store_explicit(&acked, seen, memory_order_release);
	}
	core_stats = host_halt_poll_stats();
	return NULL;
}

int main(void)
{
	struct host_poll_stats st;
	pthread_t core;

	rounds = stress_scale(20000);
	test_rng_init(&producer_rng, 12345);
	test_rng_split(&producer_rng, &core_rng);
	if (pthread_create(&core, NULL, core_thread, NULL))
		abort();
	while (!atomic_load(&core_ready))
		spin(100);
	for (uint64_t i = 1; i <= rounds; i++) {
		payload = i;
		spin((unsigned)xoro_below(&producer_rng, 4096));
		arch_wake(CORE);
		/* acquire: the core is done reading payload i. */
		while (atomic_load_explicit(&acked, memory_order_acquire) != i)
			spin(16);
	}
	pthread_join(core, NULL);
	st = core_stats;	/* published by the join */
	STRESS_CHECK(st.polled + st.slept == rounds,
		     "%llu waits for %lu wakes", (unsigned long long)(st.polled + st.slept),
		     rounds);
	STRESS_CHECK(st.polled > 0 && st.slept > 0,
		     "only one path ran: %llu polled, %llu slept",
		     (unsigned long long)st.polled, (unsigned long long)st.slept);
	printf("stress_halt_poll: %lu wakes, %llu ended in the poll, %llu after "
	       "a sleep\n1 passed, 0 failed\n", rounds,
	       (unsigned long long)st.polled, (unsigned long long)st.slept);
	return 0;
}
