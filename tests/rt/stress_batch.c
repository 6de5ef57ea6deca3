/*
 * stress_batch.c - batches handed back by kicks, over and over (ASan,
 * TSan).
 *
 * Three host cores.  Each round a launcher pinned to a core spawns, from
 * its poll, MARKERS short tasks onto its own scheduler.  In even rounds a
 * no-op lead (which takes the LIFO slot) and a spinner (a poll of 1-3 ms
 * that relaxes, so kicks land) come first: the core's next batch holds
 * the spinner with markers behind it, and the idle cores watch, kick, and
 * take the markers back while the spinner spins.  In odd rounds the
 * launcher spins itself after its spawns, with the first marker in its
 * LIFO slot: a kick must hand that one back too.  Some markers
 * yield once first, some are pinned (those must run on the launcher's
 * core, after the spin).  Every marker must run exactly once (a bitmap),
 * pinned ones on their core; at the end kicks happened and handed tasks
 * back, and every queue and list is empty.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "sched/task.h"
#include "tests/support/rt_harness.h"
#include "tests/support/stress_util.h"

#define CORES		3
#define MARKERS		40
#define ROUNDS		60

static struct harness h;
static atomic_uchar ran[MARKERS];
static atomic_uint done, wrong_core;

struct marker {
	struct task task;
	unsigned pt;
	unsigned i;
	int pinned_to;		/* -1: free to move */
	bool yields;
};

static enum poll marker_poll(struct task *t, struct context *cx)
{
	struct marker *m = container_of(t, struct marker, task);
	struct rt_core *cur = rt_current_core();

	TASK_BEGIN(m->pt);
	if (m->yields)
		TASK_YIELD();
	STRESS_CHECK(atomic_fetch_add(&ran[m->i], 1) == 0, "marker %u ran twice", m->i);
	if (m->pinned_to >= 0 && (int)cur->slot->index != m->pinned_to)
		atomic_fetch_add(&wrong_core, 1);
	atomic_fetch_add(&done, 1);
	TASK_END;
}

static const struct task_vtable marker_vt = { .poll = marker_poll, .name = "marker" };

struct spinner {
	struct task task;
	uint64_t ns;
};

static enum poll spinner_poll(struct task *t, struct context *cx)
{
	struct spinner *s = container_of(t, struct spinner, task);
	uint64_t end = clock_now(arch_clock()) + s->ns;

	(void)cx;
	while (clock_now(arch_clock()) < end)
		arch_cpu_relax();
	return POLL_READY;
}

static const struct task_vtable spinner_vt = { .poll = spinner_poll, .name = "spinner" };

struct launcher {
	struct task task;
	unsigned round;
};

static enum poll lead_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static const struct task_vtable lead_vt = { .poll = lead_poll, .name = "lead" };

static enum poll launcher_poll(struct task *t, struct context *cx)
{
	struct launcher *l = container_of(t, struct launcher, task);
	struct rt_core *cur = rt_current_core();
	struct scheduler *s = &cur->slot->sched;
	uint64_t spin_ns = 1000000ull * (1 + l->round % 3);
	struct spinner sp = { .ns = spin_ns };
	/* Even rounds: a batch behind a spinner.  Odd rounds: the launcher
	 * spins itself, with its first marker in the LIFO slot. */
	bool lifo_round = l->round % 2;

	(void)cx;
	if (!lifo_round) {
		/* The lead takes the LIFO slot, so the spinner and the
		 * markers queue behind each other. */
		STRESS_CHECK(sched_spawn(s, &lead_vt, NULL, sizeof(struct task),
					 NULL) == 0, "lead");
		STRESS_CHECK(sched_spawn(s, &spinner_vt, &sp, sizeof(sp), NULL) == 0,
			     "spinner");
	}
	for (unsigned i = 0; i < MARKERS; i++) {
		struct marker m = {
			.i = i, .yields = (i + l->round) % 5 == 0,
			.pinned_to = (i + l->round) % 13 == 0 ? (int)cur->slot->index : -1,
		};

		STRESS_CHECK(sched_spawn_at(TASK_SITE(NULL),
					    m.pinned_to >= 0 ? TASK_PINNED : 0, s,
					    &marker_vt, &m, sizeof(m), NULL) == 0,
			     "marker");
	}
	if (lifo_round) {
		uint64_t end = clock_now(arch_clock()) + spin_ns;

		while (clock_now(arch_clock()) < end)
			arch_cpu_relax();
	}
	return POLL_READY;
}

static const struct task_vtable launcher_vt = { .poll = launcher_poll,
						.name = "launcher" };

int main(void)
{
	unsigned long rounds = stress_scale(ROUNDS);
	uint64_t kicks = 0, released = 0;

	h_start(&h, CORES);
	for (unsigned long r = 0; r < rounds; r++) {
		struct launcher l = { .round = (unsigned)r };

		for (unsigned i = 0; i < MARKERS; i++)
			atomic_store(&ran[i], 0);
		atomic_store(&done, 0);
		STRESS_CHECK(rt_spawn_on(h.rt, (unsigned)(r % CORES), &launcher_vt,
					 &l, sizeof(l), NULL) == 0, "launcher");
		for (uint64_t end = h_now_ms() + 20000; atomic_load(&done) < MARKERS;) {
			STRESS_CHECK(h_now_ms() < end, "round %lu: %u of %u markers ran",
				     r, atomic_load(&done), MARKERS);
			sched_yield();
		}
	}
	/* The last spinner may still spin: let every queue drain. */
	for (uint64_t end = h_now_ms() + 20000;;) {
		uint64_t q = 0;

		for (unsigned i = 0; i < CORES; i++)
			q += sched_queued(&h.rt->slots[i].sched) +
			     sched_registry_count(&h.rt->slots[i].sched);
		if (q == 0)
			break;
		STRESS_CHECK(h_now_ms() < end, "%llu tasks left", (unsigned long long)q);
		sched_yield();
	}
	h_stop(&h);
	for (unsigned i = 0; i < CORES; i++) {
		kicks += atomic_load(&h.rt->slots[i].kicks);
		released += atomic_load(&h.rt->slots[i].sched.pstats.released);
		STRESS_CHECK(sched_check(&h.rt->slots[i].sched) == 0, "core %u queued", i);
		STRESS_CHECK(sched_registry_check(&h.rt->slots[i].sched) == 0,
			     "core %u listed", i);
	}
	STRESS_CHECK(atomic_load(&wrong_core) == 0, "%u pinned markers moved",
		     atomic_load(&wrong_core));
	STRESS_CHECK(kicks > 0 && released > 0, "no batch was kicked back (%llu kicks)",
		     (unsigned long long)kicks);
	printf("stress_batch: %lu rounds, %llu kicks handed %llu tasks back\n",
	       rounds, (unsigned long long)kicks, (unsigned long long)released);
	h_free(&h);
	printf("1 passed, 0 failed\n");
	return 0;
}
