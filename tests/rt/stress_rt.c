/*
 * stress_rt.c - no wakeup is lost: a thread that is no core makes single
 * tasks runnable (through the injector, or straight onto a random core's
 * scheduler as a wake from another core would) at the moments cores are
 * going to sleep, and waits for each to run.  A lost wakeup shows as a task
 * that never runs while every core sleeps: the wait times out.  Also races
 * wake-by-ref from outside against a task's own yields.  Built with ASan
 * and with TSan.  HYPHAE_SOAK=1 runs 20x longer.
 */
#include "tests/support/rt_harness.h"
#include "sched/task.h"

static atomic_uint ran;
static atomic_uint errors;

struct one_task {
	struct task task;
	unsigned idx;
};

static enum poll one_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	atomic_fetch_add(&ran, 1);
	return POLL_READY;
}

static const struct task_vtable one_vt = { .poll = one_poll };

/* A task that stays pending until woken from outside `rounds` times. */
struct parked_task {
	struct task task;
	atomic_uint polls;
	unsigned rounds;
};

static enum poll parked_poll(struct task *t, struct context *cx)
{
	struct parked_task *p = container_of(t, struct parked_task, task);
	unsigned n = atomic_fetch_add(&p->polls, 1) + 1;

	(void)cx;
	return n > p->rounds ? POLL_READY : POLL_PENDING;
}

static const struct task_vtable parked_vt = { .poll = parked_poll };

static unsigned rnd(unsigned *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 16;
}

static void tiny_pause(unsigned *seed)
{
	unsigned spins = rnd(seed) % 4000;

	for (volatile unsigned i = 0; i < spins; i++)
		;
}

int main(void)
{
	struct harness h;
	unsigned iters = getenv("HYPHAE_SOAK") ? 400000 : 20000;
	unsigned seed = 12345, lost = 0;
	struct parked_task parked = { .rounds = 2000 };
	struct join_handle jh = JOIN_HANDLE_NONE;

	h_start(&h, 4);
	for (unsigned i = 0; i < iters; i++) {
		struct one_task init = { .idx = i };
		unsigned want = atomic_load(&ran) + 1;

		if (rnd(&seed) % 2) {
			if (rt_spawn(h.rt, &one_vt, &init, sizeof(init), NULL))
				abort();
		} else {
			struct scheduler *s =
				&h.rt->slots[rnd(&seed) % h.n].sched;

			if (sched_spawn(s, &one_vt, &init, sizeof(init), NULL))
				abort();
		}
		if (!h_wait_for(&ran, want, 5000)) {
			fprintf(stderr, "iteration %u: task not run in 5 s "
				"(lost wakeup?)\n", i);
			lost++;
			break;
		}
		/* Let the cores go back towards sleep by a random amount. */
		tiny_pause(&seed);
	}

	/* A task woken over and over from this thread while cores idle. */
	sched_spawn_allocated(&h.rt->slots[1].sched, &parked.task, &parked_vt, &jh);
	for (unsigned r = 0; r < parked.rounds && !lost; r++) {
		unsigned want = r + 1;
		uint64_t end = h_now_ms() + 5000;

		while (atomic_load(&parked.polls) < want) {
			if (h_now_ms() > end) {
				fprintf(stderr, "parked task round %u: not polled "
					"in 5 s (lost wakeup?)\n", r);
				lost++;
				break;
			}
			sched_yield();
		}
		task_wake_by_ref(&parked.task);
		tiny_pause(&seed);
	}
	while (!lost && !join_is_finished(&jh))
		sched_yield();
	join_drop(&jh);
	h_stop(&h);

	printf("stress_rt: %u iterations, %u tasks ran, %llu wakeups sent, "
	       "%u lost\n", iters, atomic_load(&ran),
	       (unsigned long long)H_SUM(&h, wakeups), lost);
	if (lost || atomic_load(&errors)) {
		printf("0 passed, 1 failed\n");
		return 1;
	}
	h_free(&h);
	printf("1 passed, 0 failed\n");
	return 0;
}
