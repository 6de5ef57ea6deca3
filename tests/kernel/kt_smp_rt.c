/*
 * kt_smp_rt.c - the runtime on every processor of the test kernel: 100,000
 * tasks spawned on the boot core complete exactly once and reach every
 * core (each AP's stolen-in counter is non-zero, steals balance), and a
 * task pushed into the injector while every runtime core sleeps starts on
 * one of them through a wakeup IPI: wake-to-run latency over 1,000 such
 * wakeups, median and p99 logged.
 *
 * The APs join a test runtime through kt_aps_join() (kt_aps.h): each
 * claims a slot and runs rt_core_run() until stopped.  Needs two cores.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/smp.h"
#include "config.h"
#include "lib/log.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "sched/task.h"
#include "tests/kernel/kt_aps.h"
#include "tests/kernel/ktest.h"
#include "tests/support/sort.h"
#include "clock.h"

#define KT_TASKS	100000
#define KT_WAKES	1000
#define KT_LIMIT_NS	(20000 * NS_PER_MS)	/* any single wait */
#define PERCENT		100
#define BITS_PER_WORD	64

static struct runtime kt_mrt;
static struct rt_core kt_cores[MAX_CORES];

/* ---- 100,000 tasks on every core -------------------------------------------- */

static _Atomic uint64_t kt_ran[(KT_TASKS + BITS_PER_WORD - 1) / BITS_PER_WORD];
static atomic_uint kt_done, kt_twice;

struct kt_mark_task {
	struct task task;
	unsigned id;
};

static enum poll kt_mark_poll(struct task *t, struct context *cx)
{
	struct kt_mark_task *m = container_of(t, struct kt_mark_task, task);
	uint64_t bit = 1ull << (m->id % BITS_PER_WORD);

	(void)cx;
	/* relaxed: each bit is its own fact; the count is read after the
	 * cores stopped (their loops' exits order it). */
	if (atomic_fetch_or_explicit(&kt_ran[m->id / BITS_PER_WORD], bit,
				     memory_order_relaxed) & bit)
		atomic_fetch_add_explicit(&kt_twice, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&kt_done, 1, memory_order_relaxed);
	return POLL_READY;
}

static const struct task_vtable kt_mark_vt = { .poll = kt_mark_poll };

struct kt_spawner {
	struct task task;
	unsigned pt;
	unsigned i;
	unsigned errors;
};

/* Spawns every task on the boot core, then stops the boot core when all
 * ran (the others are stopped by the test afterwards). */
static enum poll kt_spawner_poll(struct task *t, struct context *cx)
{
	struct kt_spawner *s = container_of(t, struct kt_spawner, task);

	TASK_BEGIN(s->pt);
	for (s->i = 0; s->i < KT_TASKS; s->i++) {
		struct kt_mark_task init = { .id = s->i };

		if (rt_spawn(&kt_mrt, &kt_mark_vt, &init, sizeof(init), NULL))
			s->errors++;
		if (s->i % 1024 == 1023)
			TASK_YIELD();
	}
	while (atomic_load_explicit(&kt_done, memory_order_relaxed) < KT_TASKS)
		TASK_YIELD();
	rt_core_stop(&kt_cores[0]);
	TASK_END;
}

static const struct task_vtable kt_spawner_vt = { .poll = kt_spawner_poll };

KTEST(rt_100k_tasks_on_every_core)
{
	unsigned online = smp_cpus_online();
	uint64_t in = 0, out = 0, t0;
	struct kt_spawner init = { 0 };

	KT_ASSERT(online >= 2);
	memset(kt_ran, 0, sizeof(kt_ran));
	atomic_store_explicit(&kt_done, 0, memory_order_relaxed);
	atomic_store_explicit(&kt_twice, 0, memory_order_relaxed);
	rt_init(&kt_mrt, arch_clock());
	rt_core_new(&kt_cores[0], &kt_mrt);
	KT_ASSERT(kt_aps_join(&kt_mrt, kt_cores, KT_LIMIT_NS));
	KT_ASSERT_EQ(rt_active_cores(&kt_mrt), online);
	KT_ASSERT_EQ(rt_spawn(&kt_mrt, &kt_spawner_vt, &init, sizeof(init), NULL), 0);
	t0 = kt_now_ns();
	rt_core_run(&kt_cores[0]);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
	KT_ASSERT(kt_aps_stop(KT_LIMIT_NS));
	log_info("kt_smp_rt: %u tasks on %u cores in %llu us", KT_TASKS, online,
		 (unsigned long long)((kt_now_ns() - t0) / 1000));
	KT_ASSERT_EQ(atomic_load_explicit(&kt_done, memory_order_relaxed), KT_TASKS);
	KT_ASSERT_EQ(atomic_load_explicit(&kt_twice, memory_order_relaxed), 0);
	for (unsigned i = 0; i < KT_TASKS; i++)
		KT_ASSERT(atomic_load_explicit(&kt_ran[i / BITS_PER_WORD],
					       memory_order_relaxed) &
			  (1ull << (i % BITS_PER_WORD)));
	for (unsigned s = 0; s < online; s++) {
		struct scheduler *sc = &kt_mrt.slots[s].sched;
		uint64_t si = atomic_load_explicit(&sc->stolen_in, memory_order_relaxed);

		log_info("kt_smp_rt: slot %u (apic %u): completed %llu, stolen in %llu",
			 s, kt_mrt.slots[s].hwid,
			 (unsigned long long)atomic_load_explicit(&sc->completed,
								  memory_order_relaxed),
			 (unsigned long long)si);
		in += si;
		out += atomic_load_explicit(&sc->stolen_out, memory_order_relaxed);
		/* The tasks start on the boot core: every other core stole. */
		if (kt_mrt.slots[s].hwid != arch_cpu_hwid())
			KT_ASSERT(si > 0);
	}
	KT_ASSERT_EQ(in, out);
}

/* ---- injector wakeups ------------------------------------------------------------ */

static _Atomic uint64_t kt_started_ns;

static enum poll kt_stamp_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	/* release: pairs with the boot core's acquire load. */
	atomic_store_explicit(&kt_started_ns, kt_now_ns(), memory_order_release);
	return POLL_READY;
}

static const struct task_vtable kt_stamp_vt = { .poll = kt_stamp_poll };

static uint64_t kt_lat[KT_WAKES];

KTEST(rt_injector_wakes_a_sleeping_core)
{
	unsigned online = smp_cpus_online();
	uint64_t wakeups = 0;

	KT_ASSERT(online >= 2);
	/* Only the APs run this runtime: the boot core spawns from outside,
	 * so every task goes through the injector. */
	rt_init(&kt_mrt, arch_clock());
	KT_ASSERT(rt_current_core() == NULL);
	KT_ASSERT(kt_aps_join(&kt_mrt, kt_cores, KT_LIMIT_NS));
	for (unsigned i = 0; i < KT_WAKES; i++) {
		uint64_t t0 = kt_now_ns(), start;

		/* Every runtime core asleep (idle bit set, in or entering HLT). */
		while (atomic_load_explicit(&kt_mrt.idle_count, memory_order_acquire) <
		       online - 1)
			KT_ASSERT(kt_now_ns() - t0 < KT_LIMIT_NS);
		atomic_store_explicit(&kt_started_ns, 0, memory_order_relaxed);
		t0 = kt_now_ns();
		KT_ASSERT_EQ(rt_spawn(&kt_mrt, &kt_stamp_vt, NULL,
				      sizeof(struct task), NULL), 0);
		/* acquire: pairs with the task's release store. */
		while ((start = atomic_load_explicit(&kt_started_ns,
						     memory_order_acquire)) == 0)
			KT_ASSERT(kt_now_ns() - t0 < KT_LIMIT_NS);
		kt_lat[i] = start > t0 ? start - t0 : 0;
	}
	for (unsigned s = 0; s < online - 1; s++)
		wakeups += atomic_load_explicit(&kt_mrt.slots[s].wakeups,
						memory_order_relaxed);
	KT_ASSERT(kt_aps_stop(KT_LIMIT_NS));
	sort_u64(kt_lat, KT_WAKES);
	log_info("kt_smp_rt: injector wake-to-run latency over %u spawns with "
		 "%u cores asleep: median %llu ns, p99 %llu ns, max %llu ns "
		 "(%llu wakeups sent)", KT_WAKES, online - 1,
		 (unsigned long long)kt_lat[KT_WAKES / 2],
		 (unsigned long long)kt_lat[KT_WAKES * 99 / PERCENT],
		 (unsigned long long)kt_lat[KT_WAKES - 1],
		 (unsigned long long)wakeups);
	/* Each spawn found every core asleep: it had to send a wakeup. */
	KT_ASSERT(wakeups >= KT_WAKES);
}
