/*
 * stress_stopped.c - a task made runnable on a STOPPED core while every
 * other core sleeps must still run: the core that gets woken has to find
 * the stopped slot (random peer picks can miss it).  8 cores, core 0
 * stopped, then one task at a time queued on its scheduler from a thread
 * that is no core, each after the live cores had time to fall asleep.
 * Found by review: 11-14 of 100 trials stranded before the fix.
 * HYPHAE_SOAK=1 runs 1,000 trials.
 */
#include "tests/support/rt_harness.h"
#include "sched/task.h"

static atomic_uint ran;

static enum poll one_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	atomic_fetch_add(&ran, 1);
	return POLL_READY;
}

static const struct task_vtable one_vt = { .poll = one_poll };

int main(void)
{
	struct harness h;
	unsigned trials = getenv("HYPHAE_SOAK") ? 1000 : 100;
	unsigned stranded = 0;
	struct scheduler *victim;

	h_start(&h, 8);
	rt_core_stop(&h.cores[0].core);
	pthread_join(h.cores[0].thread, NULL);
	victim = &h.cores[0].core.slot->sched;
	for (unsigned i = 0; i < trials; i++) {
		struct timespec ts = { 0, 2000000 };	/* let cores fall asleep */
		unsigned want = atomic_load(&ran) + 1;
		struct task init;

		nanosleep(&ts, NULL);
		if (sched_spawn(victim, &one_vt, &init, sizeof(init), NULL))
			abort();
		if (!h_wait_for(&ran, want, 5000)) {
			fprintf(stderr, "trial %u: task on the stopped core not run "
				"in 5 s (queued %zu, idle %u)\n", i,
				sched_queued(victim), atomic_load(&h.rt->idle_count));
			stranded++;
			break;
		}
	}
	for (unsigned i = 1; i < h.n; i++)
		rt_core_stop(&h.cores[i].core);
	for (unsigned i = 1; i < h.n; i++)
		pthread_join(h.cores[i].thread, NULL);
	printf("stress_stopped: %u trials, %u stranded\n", trials, stranded);
	if (stranded) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	h_free(&h);
	printf("1 passed, 0 failed\n");
	return 0;
}
