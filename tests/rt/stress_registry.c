/*
 * stress_registry.c - the registry of live tasks under every path that
 * links and unlinks, with a walker reading it all the time (ASan, TSan).
 *
 * Four host cores.  Root tasks, injected from the test thread, each spawn
 * children from their poll (the batched link-and-queue), some of them
 * onto another core's scheduler (linked into the spawner's list), join
 * some and drop the rest; children yield, some sleep on the timer, some
 * spawn a grandchild.  The test thread also spawns tasks with join
 * handles and drops those handles itself (a free from a thread that is
 * no core: the lock at once).  Meanwhile a walker thread walks every
 * core's registry in small steps, checks what it sees, and cancels every
 * 97th task it meets (task_ref_unless_zero under the lock, task_cancel
 * after), and a second walker ends its walks early.  At the end every
 * list is empty and consistent (sched_registry_check), every task ran
 * its drop_state once and was freed once.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>

#include "sched/task.h"
#include "tests/support/rt_harness.h"
#include "tests/support/stress_util.h"
#include "timer/sleep.h"

#define CORES		4
#define ROOTS		64
#define CHILDREN	48
#define LOOSE		2000	/* spawned by the test thread */
#define WALK_STEP	7
#define CANCEL_EVERY	97

static struct harness h;
static atomic_long live, drops;
static atomic_bool stop_walkers;
static atomic_ulong walked, cancelled;

struct child {
	struct task task;
	unsigned pt;
	unsigned yields, i;
	bool sleeping, grand;
	atomic_int dropped;
	struct sleep sleep;
};

static void child_drop(struct task *t)
{
	struct child *c = container_of(t, struct child, task);

	STRESS_CHECK(atomic_fetch_add(&c->dropped, 1) == 0,
		     "task %llu dropped twice", (unsigned long long)t->id);
	if (c->sleeping)
		sleep_drop(&c->sleep);
	atomic_fetch_add(&drops, 1);
}

static void child_dealloc(struct task *t)
{
	struct child *c = container_of(t, struct child, task);

	STRESS_CHECK(atomic_load(&c->dropped) == 1, "task %llu freed undropped",
		     (unsigned long long)t->id);
	atomic_fetch_sub(&live, 1);
}

static enum poll child_poll(struct task *t, struct context *cx);

static const struct task_vtable child_vt = {
	.poll = child_poll, .drop_state = child_drop,
	.deallocate = child_dealloc, .name = "child",
};

static enum poll child_poll(struct task *t, struct context *cx)
{
	struct child *c = container_of(t, struct child, task);

	TASK_BEGIN(c->pt);
	for (c->i = 0; c->i < c->yields; c->i++)
		TASK_YIELD();
	if (c->grand) {
		struct child g = { .yields = 1 };

		atomic_fetch_add(&live, 1);
		if (rt_spawn(h.rt, &child_vt, &g, sizeof(g), NULL))
			atomic_fetch_sub(&live, 1);
	}
	if (c->yields % 3 == 0 &&
	    sleep_init_duration(&c->sleep, &h.rt->timer, 20000) == 0) {
		c->sleeping = true;
		TASK_AWAIT(sleep_poll(&c->sleep, cx));
	}
	TASK_END;
}

struct root {
	struct task task;
	unsigned pt;
	unsigned i, seed;
	atomic_int dropped;
	struct join_handle jh[CHILDREN];
};

static void root_drop(struct task *t)
{
	struct root *r = container_of(t, struct root, task);

	for (unsigned i = 0; i < CHILDREN; i++)
		join_drop(&r->jh[i]);
	atomic_fetch_add(&drops, 1);
}

static void root_dealloc(struct task *t)
{
	(void)t;
	atomic_fetch_sub(&live, 1);
}

static enum poll root_poll(struct task *t, struct context *cx)
{
	struct root *r = container_of(t, struct root, task);
	struct rt_core *cur;

	TASK_BEGIN(r->pt);
	cur = rt_current_core();
	for (r->i = 0; r->i < CHILDREN; r->i++) {
		struct child c = {
			.yields = (r->seed + r->i) % 5, .grand = r->i % 11 == 0,
		};
		struct join_handle *jh = r->i % 2 ? &r->jh[r->i] : NULL;
		int err;

		atomic_fetch_add(&live, 1);
		if (r->i % 7 == 0)	/* onto another core's scheduler */
			err = sched_spawn(&h.rt->slots[(cur->slot->index + 1) % CORES].sched,
					  &child_vt, &c, sizeof(c), jh);
		else
			err = rt_spawn(h.rt, &child_vt, &c, sizeof(c), jh);
		if (err)
			atomic_fetch_sub(&live, 1);
	}
	for (r->i = 1; r->i < CHILDREN; r->i += 2)
		TASK_AWAIT(join_poll(&r->jh[r->i], cx, NULL, 0));
	TASK_END;
}

static const struct task_vtable root_vt = {
	.poll = root_poll, .drop_state = root_drop, .deallocate = root_dealloc,
	.name = "root",
};

/* ---- walkers ------------------------------------------------------------- */

struct visit {
	unsigned long seen;
	struct task *to_cancel;
};

static void visit(const struct task_info *ti, struct task *t, void *arg)
{
	struct visit *v = arg;

	STRESS_CHECK(ti->id != 0 && ti->name != NULL, "a blank task in a list");
	STRESS_CHECK(ti->state <= TASK_INFO_SLEEPING, "state %d", ti->state);
	STRESS_CHECK(ti->core >= -1 && ti->core < CORES, "core %d", ti->core);
	STRESS_CHECK(t->home != NULL, "a task without a home in a list");
	/* A listed task may have lost its last reference already (it waits
	 * for its core's flush): only task_ref_unless_zero() may keep it. */
	if (++v->seen % CANCEL_EVERY == 0 && v->to_cancel == NULL &&
	    task_ref_unless_zero(t))
		v->to_cancel = t;
}

static void *walker(void *arg)
{
	bool early = arg != NULL;

	while (!atomic_load(&stop_walkers)) {
		for (unsigned i = 0; i < CORES; i++) {
			struct sched_reg_cursor cur = SCHED_REG_CURSOR_INIT;
			struct scheduler *s = &h.rt->slots[i].sched;
			struct visit v = { 0 };
			unsigned steps = 0;

			while (sched_registry_walk(s, &cur, WALK_STEP, visit, &v)) {
				if (v.to_cancel) {
					if (!early && task_cancel(v.to_cancel))
						atomic_fetch_add(&cancelled, 1);
					task_unref(v.to_cancel);
					v.to_cancel = NULL;
				}
				if (early && ++steps == 3) {
					sched_registry_walk_end(s, &cur);
					break;
				}
			}
			if (v.to_cancel)
				task_unref(v.to_cancel);
			atomic_fetch_add(&walked, v.seen);
		}
	}
	return NULL;
}

int main(void)
{
	static struct join_handle loose[LOOSE];
	unsigned long rounds = stress_scale(2);
	pthread_t w[2];

	h_start(&h, CORES);
	STRESS_CHECK(pthread_create(&w[0], NULL, walker, NULL) == 0, "walker");
	STRESS_CHECK(pthread_create(&w[1], NULL, walker, (void *)1) == 0, "walker");
	for (unsigned long round = 0; round < rounds; round++) {
		for (unsigned i = 0; i < ROOTS; i++) {
			struct root r = { .seed = i };

			for (unsigned k = 0; k < CHILDREN; k++)
				r.jh[k] = JOIN_HANDLE_NONE;
			atomic_fetch_add(&live, 1);
			STRESS_CHECK(rt_spawn(h.rt, &root_vt, &r, sizeof(r), NULL) == 0,
				     "spawn root");
		}
		for (unsigned i = 0; i < LOOSE; i++) {
			struct child c = { .yields = i % 4 };

			atomic_fetch_add(&live, 1);
			STRESS_CHECK(rt_spawn(h.rt, &child_vt, &c, sizeof(c), &loose[i]) == 0,
				     "spawn");
		}
		/* Dropped here, by a thread that is no core. */
		for (unsigned i = 0; i < LOOSE; i++) {
			while (i % 2 && !join_is_finished(&loose[i]))
				sched_yield();
			join_drop(&loose[i]);
		}
		for (uint64_t end = h_now_ms() + 30000; atomic_load(&live) > 0;) {
			STRESS_CHECK(h_now_ms() < end, "%ld tasks still live", atomic_load(&live));
			sched_yield();
		}
	}
	atomic_store(&stop_walkers, true);
	pthread_join(w[0], NULL);
	pthread_join(w[1], NULL);
	h_stop(&h);
	for (unsigned i = 0; i < CORES; i++) {
		STRESS_CHECK(sched_registry_check(&h.rt->slots[i].sched) == 0,
			     "core %u's list is not empty", i);
		STRESS_CHECK(sched_registry_count(&h.rt->slots[i].sched) == 0,
			     "core %u counts tasks", i);
	}
	printf("stress_registry: %lu rounds, %ld tasks dropped, %lu seen by the "
	       "walkers, %lu cancelled by them\n", rounds, atomic_load(&drops),
	       atomic_load(&walked), atomic_load(&cancelled));
	h_free(&h);
	printf("1 passed, 0 failed\n");
	return 0;
}
