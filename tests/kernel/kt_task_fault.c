/*
 * kt_task_fault.c - CPU exceptions inside tasks, and the stuck-poll
 * watchdog, in the kernel.
 *
 *   - each contained vector (#DE, #UD, #GP, #PF, #BP, #SS) raised by a
 *     task on the boot core's test runtime ends that task alone: its join
 *     handle says JOIN_FAULTED, the next task runs, the heap is back to
 *     its baseline;
 *   - the same fault with a spinlock held, or with interrupts disabled,
 *     or inside a oneshot send's claim (which counts as a held lock), is
 *     not contained: the report says why and the core would halt (the
 *     harness's expected-fault hook resumes it instead);
 *   - 1,000 faulting tasks in a row on every core (-smp 4): all end
 *     JOIN_FAULTED, then a task pinned to each core still runs there, and
 *     the heap is back to its baseline;
 *   - the watchdog reports a 300 ms poll on an AP once, with that core's
 *     backtrace taken by NMI.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "config.h"
#include "lib/heap.h"
#include "lib/log.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "sched/sync.h"
#include "sched/task.h"
#include "spinlock.h"
#include "tests/kernel/kt_aps.h"
#include "tests/kernel/ktest.h"

#define KT_FAULTS	1000
#define KT_LIMIT_NS	(20000 * NS_PER_MS)
#define KT_UNMAPPED	0x0000100000000000ull	/* canonical, above the 4 GiB map */

static struct runtime kt_frt;
static struct rt_core kt_fcores[MAX_CORES];

/* ---- tasks that fault ------------------------------------------------------- */

enum kt_how { KT_DE, KT_UD, KT_GP, KT_PF, KT_BP, KT_SS, KT_HOWS };

static const unsigned kt_vector[KT_HOWS] = {
	[KT_DE] = TRAP_DE, [KT_UD] = TRAP_UD, [KT_GP] = TRAP_GP,
	[KT_PF] = TRAP_PF, [KT_BP] = TRAP_BP, [KT_SS] = TRAP_SS,
};

static void raise_fault(enum kt_how how)
{
	uint64_t x = 1, zero = 0;

	switch (how) {
	case KT_DE:
		__asm__ volatile("xor %%edx, %%edx; divq %1" : "+a"(x) : "r"(zero) : "rdx");
		break;
	case KT_UD:
		__asm__ volatile("ud2");
		break;
	case KT_GP:	/* a non-canonical address */
		__asm__ volatile("movabs $0x8000000000000000, %%rax; mov (%%rax), %%rax"
				 : : : "rax", "memory");
		break;
	case KT_PF:
		x = *(volatile uint64_t *)(uintptr_t)KT_UNMAPPED;
		break;
	case KT_BP:
		__asm__ volatile("int3");
		break;
	case KT_SS:	/* non-canonical through RBP: a stack-segment fault */
		__asm__ volatile("mov %%rbp, %%r11; movabs $0x8000000000000000, %%rbp; "
				 "mov (%%rbp), %%rax; mov %%r11, %%rbp"
				 : : : "rax", "r11", "memory");
		break;
	case KT_HOWS:
		break;
	}
	(void)x;
}

struct kt_faulty {
	struct task task;
	enum kt_how how;
	int out;
};

static enum poll kt_faulty_poll(struct task *t, struct context *cx)
{
	struct kt_faulty *f = container_of(t, struct kt_faulty, task);

	(void)cx;
	raise_fault(f->how);
	f->out = 1;		/* never reached */
	return POLL_READY;
}

static const struct task_vtable kt_faulty_vt = {
	.poll = kt_faulty_poll, TASK_OUTPUT(struct kt_faulty, out),
	.name = "faulty",
};

static int kt_ok_runs;

static enum poll kt_ok_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	kt_ok_runs++;
	return POLL_READY;
}

static const struct task_vtable kt_ok_vt = { .poll = kt_ok_poll, .name = "ok" };

/* ---- one vector at a time, on the boot core --------------------------------- */

static struct rt_core kt_core;
static enum join_result kt_results[KT_HOWS];

struct kt_driver {
	struct task task;
	unsigned pt;
	unsigned how;
	struct join_handle jh, ok;
};

static enum poll kt_driver_poll(struct task *t, struct context *cx)
{
	struct kt_driver *d = container_of(t, struct kt_driver, task);

	TASK_BEGIN(d->pt);
	for (d->how = 0; d->how < KT_HOWS; d->how++) {
		struct kt_faulty f = { .how = d->how };

		if (rt_spawn(&kt_frt, &kt_faulty_vt, &f, sizeof(f), &d->jh) ||
		    rt_spawn(&kt_frt, &kt_ok_vt, NULL, sizeof(struct task), &d->ok))
			break;
		TASK_AWAIT(join_poll(&d->jh, cx, NULL, 0));
		kt_results[d->how] = d->jh.result;
		TASK_AWAIT(join_poll(&d->ok, cx, NULL, 0));
	}
	rt_core_stop(&kt_core);
	TASK_END;
}

static const struct task_vtable kt_driver_vt = { .poll = kt_driver_poll,
						 .name = "driver" };

KTEST(task_fault_each_vector_ends_the_task)
{
	struct heap_stats before, after;
	struct kt_driver init = { .jh = JOIN_HANDLE_NONE, .ok = JOIN_HANDLE_NONE };
	struct join_handle jh = JOIN_HANDLE_NONE;

	task_cache_depot_trim();
	heap_stats(kmalloc_heap(), &before);
	rt_init(&kt_frt, arch_clock());
	rt_core_new(&kt_core, &kt_frt);
	kt_ok_runs = 0;
	for (unsigned i = 0; i < KT_HOWS; i++)
		kt_results[i] = JOIN_OK;
	KT_ASSERT_EQ(rt_spawn(&kt_frt, &kt_driver_vt, &init, sizeof(init), &jh), 0);
	rt_core_run(&kt_core);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
	for (unsigned i = 0; i < KT_HOWS; i++) {
		log_info("kt_task_fault: %s in a task: join result %d",
			 trap_name(kt_vector[i]), kt_results[i]);
		KT_ASSERT_EQ(kt_results[i], JOIN_FAULTED);
	}
	KT_ASSERT_EQ(kt_ok_runs, KT_HOWS);
	KT_ASSERT_EQ(atomic_load_explicit(&kt_frt.slots[0].sched.pstats.faulted,
					  memory_order_relaxed), KT_HOWS);
	KT_ASSERT(join_is_finished(&jh));
	join_drop(&jh);
	KT_ASSERT_EQ(sched_registry_count(&kt_frt.slots[0].sched), 0);
	KT_ASSERT_EQ(arch_locks_held(), 0);
	task_cache_depot_trim();
	heap_stats(kmalloc_heap(), &after);
	KT_ASSERT_EQ(after.bytes_in_use, before.bytes_in_use);
}

/* ---- faults that are not contained ----------------------------------------- */

static struct spinlock kt_lock = SPINLOCK_INIT;

static enum poll kt_locked_fault_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	spin_lock(&kt_lock);
	raise_fault(KT_DE);
	spin_unlock(&kt_lock);
	return POLL_READY;
}

static enum poll kt_irqoff_fault_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	arch_irq_disable();
	raise_fault(KT_UD);
	arch_irq_enable();
	return POLL_READY;
}

/* A send whose value cannot be read: the copy faults while the channel
 * is CLAIMED.  Contained, it would end the task and leave the channel
 * claimed forever, a receiver spinning on it. */
static struct oneshot kt_os;
static uint64_t kt_os_buf;

static enum poll kt_oneshot_fault_poll(struct task *t, struct context *cx)
{
	int r;

	(void)t;
	(void)cx;
	r = oneshot_send(&kt_os, (const void *)(uintptr_t)KT_UNMAPPED,
			 sizeof(kt_os_buf));
	(void)r;
	return POLL_READY;
}

static const struct task_vtable kt_locked_vt = { .poll = kt_locked_fault_poll };
static const struct task_vtable kt_irqoff_vt = { .poll = kt_irqoff_fault_poll };
static const struct task_vtable kt_oneshot_vt = { .poll = kt_oneshot_fault_poll };

/* Run `vt` as the only task of a fresh runtime on the boot core: the
 * fault must reach the harness (the core would halt). */
static void kt_uncontained(const struct task_vtable *vt, unsigned vector)
{
	rt_init(&kt_frt, arch_clock());
	rt_core_new(&kt_core, &kt_frt);
	KT_ASSERT_EQ(rt_spawn(&kt_frt, vt, NULL, sizeof(struct task), NULL), 0);
	ktest_expect_fault(vector);
	rt_core_run(&kt_core);
	/* Not reached: the fault ends the test through the harness. */
}

KTEST(task_fault_with_a_spinlock_held_halts)
{
	spin_init(&kt_lock);
	kt_uncontained(&kt_locked_vt, TRAP_DE);
}

KTEST(task_fault_with_interrupts_off_halts)
{
	kt_uncontained(&kt_irqoff_vt, TRAP_UD);
}

KTEST(task_fault_in_a_oneshot_send_halts)
{
	oneshot_init(&kt_os, &kt_os_buf, sizeof(kt_os_buf));
	kt_uncontained(&kt_oneshot_vt, TRAP_PF);
}

/* The harness put the boot core back in order after those three. */
KTEST(task_fault_state_clean_after_a_halt)
{
	KT_ASSERT_EQ(arch_locks_held(), 0);
	KT_ASSERT(arch_cpu_sched() == NULL);
	KT_ASSERT(!arch_in_interrupt());
}

/* ---- 1,000 faulting tasks on every core ------------------------------------- */

static struct join_handle kt_many[KT_FAULTS];
static struct join_handle kt_pins[MAX_CORES];
static atomic_uint kt_pinned_ran[MAX_CORES];
static unsigned kt_faulted, kt_pins_ok;

static enum poll kt_pinned_poll(struct task *t, struct context *cx)
{
	struct rt_core *cur = rt_current_core();

	(void)t;
	(void)cx;
	atomic_fetch_add_explicit(&kt_pinned_ran[cur->slot->index], 1,
				  memory_order_relaxed);
	return POLL_READY;
}

static const struct task_vtable kt_pinned_vt = { .poll = kt_pinned_poll,
						 .name = "pinned" };

struct kt_many_driver {
	struct task task;
	unsigned pt;
	unsigned i, cores;
};

static enum poll kt_many_poll(struct task *t, struct context *cx)
{
	struct kt_many_driver *d = container_of(t, struct kt_many_driver, task);

	TASK_BEGIN(d->pt);
	for (d->i = 0; d->i < KT_FAULTS; d->i++) {
		struct kt_faulty f = { .how = d->i % KT_HOWS };

		if (rt_spawn(&kt_frt, &kt_faulty_vt, &f, sizeof(f), &kt_many[d->i]))
			break;
	}
	for (d->i = 0; d->i < KT_FAULTS; d->i++) {
		TASK_AWAIT(join_poll(&kt_many[d->i], cx, NULL, 0));
		kt_faulted += kt_many[d->i].result == JOIN_FAULTED;
	}
	/* Every core still answers: a task pinned to each runs there. */
	for (d->i = 0; d->i < d->cores; d->i++)
		if (rt_spawn_on(&kt_frt, d->i, &kt_pinned_vt, NULL,
				sizeof(struct task), &kt_pins[d->i]))
			break;
	for (d->i = 0; d->i < d->cores; d->i++) {
		TASK_AWAIT(join_poll(&kt_pins[d->i], cx, NULL, 0));
		kt_pins_ok += kt_pins[d->i].result == JOIN_OK &&
			      atomic_load_explicit(&kt_pinned_ran[d->i],
						   memory_order_relaxed) == 1;
	}
	rt_core_stop(&kt_fcores[0]);
	TASK_END;
}

static const struct task_vtable kt_many_vt = { .poll = kt_many_poll,
					       .name = "many-faults" };

KTEST(task_fault_1000_in_a_row_on_every_core)
{
	unsigned online = smp_cpus_online();
	struct heap_stats before, after;
	struct kt_many_driver init = { .cores = online };
	uint64_t t0, faulted = 0;

	KT_ASSERT(online >= 2);
	task_cache_depot_trim();
	heap_stats(kmalloc_heap(), &before);
	kt_faulted = kt_pins_ok = 0;
	for (unsigned i = 0; i < MAX_CORES; i++)
		atomic_store_explicit(&kt_pinned_ran[i], 0, memory_order_relaxed);
	rt_init(&kt_frt, arch_clock());
	rt_core_new(&kt_fcores[0], &kt_frt);
	KT_ASSERT(kt_aps_join(&kt_frt, kt_fcores, KT_LIMIT_NS));
	KT_ASSERT_EQ(rt_spawn(&kt_frt, &kt_many_vt, &init, sizeof(init), NULL), 0);
	t0 = kt_now_ns();
	rt_core_run(&kt_fcores[0]);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
	KT_ASSERT(kt_aps_stop(KT_LIMIT_NS));
	for (unsigned s = 0; s < online; s++) {
		uint64_t f = atomic_load_explicit(&kt_frt.slots[s].sched.pstats.faulted,
						  memory_order_relaxed);

		log_info("kt_task_fault: slot %u: %llu faults contained", s,
			 (unsigned long long)f);
		faulted += f;
		KT_ASSERT_EQ(sched_registry_count(&kt_frt.slots[s].sched), 0);
	}
	log_info("kt_task_fault: %u faulting tasks on %u cores in %llu ms",
		 KT_FAULTS, online, (unsigned long long)((kt_now_ns() - t0) / NS_PER_MS));
	KT_ASSERT_EQ(kt_faulted, KT_FAULTS);
	KT_ASSERT_EQ(faulted, KT_FAULTS);
	KT_ASSERT_EQ(kt_pins_ok, online);
	for (unsigned i = 0; i < KT_FAULTS; i++)
		join_drop(&kt_many[i]);
	for (unsigned i = 0; i < online; i++)
		join_drop(&kt_pins[i]);
	/* The cores' task caches drained into the depot when they stopped. */
	task_cache_depot_trim();
	heap_stats(kmalloc_heap(), &after);
	KT_ASSERT_EQ(after.bytes_in_use, before.bytes_in_use);
}

/* ---- the watchdog ------------------------------------------------------------- */

static atomic_bool kt_spin_done;

static enum poll kt_spin_poll(struct task *t, struct context *cx)
{
	uint64_t end = kt_now_ns() + 300 * NS_PER_MS;

	(void)t;
	(void)cx;
	while (kt_now_ns() < end)
		arch_cpu_relax();
	atomic_store_explicit(&kt_spin_done, true, memory_order_release);
	return POLL_READY;
}

static const struct task_vtable kt_spin_vt = { .poll = kt_spin_poll,
					       .name = "spinner" };

struct kt_wd_driver {
	struct task task;
	unsigned pt;
	struct join_handle jh;
};

static enum poll kt_wd_poll(struct task *t, struct context *cx)
{
	struct kt_wd_driver *d = container_of(t, struct kt_wd_driver, task);

	TASK_BEGIN(d->pt);
	if (rt_spawn_on(&kt_frt, 1, &kt_spin_vt, NULL, sizeof(struct task), &d->jh))
		return POLL_READY;
	TASK_AWAIT(join_poll(&d->jh, cx, NULL, 0));
	rt_core_stop(&kt_fcores[0]);
	TASK_END;
}

static void kt_wd_drop(struct task *t)
{
	join_drop(&container_of(t, struct kt_wd_driver, task)->jh);
}

static const struct task_vtable kt_wd_vt = {
	.poll = kt_wd_poll, .drop_state = kt_wd_drop, .name = "wd-driver",
};

KTEST(watchdog_reports_a_stuck_poll_with_its_backtrace)
{
	unsigned online = smp_cpus_online();
	struct kt_wd_driver init = { .jh = JOIN_HANDLE_NONE };
	unsigned bt0 = remote_backtraces();
	uint64_t reports = 0;

	KT_ASSERT(online >= 2);
	atomic_store_explicit(&kt_spin_done, false, memory_order_relaxed);
	rt_init(&kt_frt, arch_clock());
	rt_watchdog_set(&kt_frt, 50 * NS_PER_MS);
	rt_core_new(&kt_fcores[0], &kt_frt);
	KT_ASSERT(kt_aps_join(&kt_frt, kt_fcores, KT_LIMIT_NS));
	KT_ASSERT_EQ(rt_spawn(&kt_frt, &kt_wd_vt, &init, sizeof(init), NULL), 0);
	rt_core_run(&kt_fcores[0]);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
	KT_ASSERT(kt_aps_stop(KT_LIMIT_NS));
	KT_ASSERT(atomic_load_explicit(&kt_spin_done, memory_order_acquire));
	for (unsigned s = 0; s < online; s++)
		reports += atomic_load_explicit(&kt_frt.slots[s].reports,
						memory_order_relaxed);
	/* Once, about slot 1, with the backtrace its NMI took. */
	KT_ASSERT_EQ(atomic_load_explicit(&kt_frt.slots[1].reports,
					  memory_order_relaxed), 1);
	KT_ASSERT_EQ(reports, 1);
	KT_ASSERT_EQ(remote_backtraces() - bt0, 1);
}
