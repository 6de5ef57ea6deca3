/*
 * rt.c - the runtime: slots, the core loop, stealing, idle and wakeups.
 *
 * The idle protocol (no work may sit runnable while every core sleeps):
 *
 *   sleeper (core i)                     waker (spawn/wake onto core i,
 *                                               or an injector push)
 *   irq off                              enqueue the task (acq_rel xchg)
 *   set idle bit i     (seq_cst RMW)     fence (seq_cst)
 *   re-check queue i and the injector    test-and-clear idle bit i (RMW)
 *   empty: sti; hlt (one step)           it was set: arch_wake(i)
 *
 * Both sides do a store then a load of the other's variable, separated by
 * sequentially consistent operations, so at least one sees the other: the
 * sleeper sees the task (and does not sleep), or the waker sees the bit
 * (and wakes it).  Clearing the bit with an RMW makes exactly one waker
 * send the wakeup, however many tasks arrive meanwhile.  On the kernel,
 * `sti; hlt` takes an IPI that arrives between the check and the hlt.
 */
#include <stdarg.h>
#include <stdatomic.h>

#include "arch.h"
#include "errno.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "panic.h"
#include "rt/rt.h"

static _Atomic(struct runtime *) global_rt;

/* ---- idle bitmap -------------------------------------------------------- */

/*
 * Mark slot i asleep.  The count goes up first so that a waker that sees
 * idle_count == 0 after its fence may skip the bitmap scan (rt_wake_any).
 * seq_cst: the store half of the protocol above.
 */
static void idle_set(struct runtime *rt, unsigned i)
{
	atomic_fetch_add_explicit(&rt->idle_count, 1, memory_order_seq_cst);
	atomic_fetch_or_explicit(&rt->idle[i / 64], 1ull << (i % 64),
				 memory_order_seq_cst);
}

/* Clear slot i's bit; true if this call cleared it (the caller owns the
 * wakeup).  acq_rel: pairs with idle_set()'s seq_cst RMW. */
static bool idle_test_and_clear(struct runtime *rt, unsigned i)
{
	uint64_t bit = 1ull << (i % 64);
	uint64_t old = atomic_fetch_and_explicit(&rt->idle[i / 64], ~bit,
						 memory_order_acq_rel);

	if (!(old & bit))
		return false;
	atomic_fetch_sub_explicit(&rt->idle_count, 1, memory_order_relaxed);
	return true;
}

/*
 * Wake slot i if it is asleep; at most one wakeup per sleep.  True if slot
 * i was asleep (this call or a racing one woke it).
 */
static bool rt_wake_slot(struct runtime *rt, unsigned i)
{
	struct rt_core *cur;

	/* seq_cst: orders the caller's enqueue before the idle-bit load; the
	 * load half of the protocol (pairs with the fence in rt_core_idle()). */
	atomic_thread_fence(memory_order_seq_cst);
	if (!(atomic_load_explicit(&rt->idle[i / 64], memory_order_relaxed) &
	      (1ull << (i % 64))))
		return false;
	if (!idle_test_and_clear(rt, i))
		return true;
	atomic_fetch_add_explicit(&rt->slots[i].wakeups, 1, memory_order_relaxed);
	/* An interrupt handler on core i itself needs no IPI: hlt returns. */
	cur = rt_current_core();
	if (cur && cur->rt == rt && cur->slot->index == i)
		return true;
	arch_wake(i);
	return true;
}

/* Wake any one sleeping core of rt (injector pushes, load sharing). */
static void rt_wake_any(struct runtime *rt)
{
	/* seq_cst: as in rt_wake_slot(); idle_count is raised before a bit
	 * is set (idle_set), so 0 here means no core is past its re-check. */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(&rt->idle_count, memory_order_relaxed) == 0)
		return;
	for (unsigned w = 0; w < RT_IDLE_WORDS; w++) {
		uint64_t word = atomic_load_explicit(&rt->idle[w],
						     memory_order_relaxed);

		while (word) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(word);

			if (idle_test_and_clear(rt, i)) {
				atomic_fetch_add_explicit(&rt->slots[i].wakeups, 1,
							  memory_order_relaxed);
				arch_wake(i);
				return;
			}
			word &= word - 1;
		}
	}
}

/*
 * Notify hook of slot i's scheduler: a task became runnable there.  Wake
 * the owner if it sleeps; if it is busy and has more queued than it can
 * start now, wake an idle peer to steal (tasks spawned on one core reach
 * every core); if it stopped, a peer must take the task.
 */
static void rt_slot_notify(void *arg)
{
	struct rt_slot *slot = arg;
	struct runtime *rt = slot->rt;

	/* seq_cst (inside rt_wake_slot): the caller's enqueue is ordered
	 * before the state and idle-bit loads; pairs with the fences in
	 * rt_core_idle() and after the STOPPED store in rt_core_run(). */
	if (rt_wake_slot(rt, slot->index))
		return;
	if (atomic_load_explicit(&slot->state, memory_order_relaxed) ==
	    RT_CORE_STOPPED || sched_queued(&slot->sched) > 1)
		rt_wake_any(rt);
}

/* on_owner hook of slot i's scheduler: is the caller the core ticking it? */
static bool rt_slot_on_owner(void *arg)
{
	struct rt_core *cur = rt_current_core();

	return cur != NULL && cur->slot == arg;
}

/* Notify hook of the injector: wake one sleeping core, if any. */
static void rt_injector_notify(void *arg)
{
	rt_wake_any(arg);
}

/* ---- setup -------------------------------------------------------------- */

void rt_init(struct runtime *rt, const struct clock *clock)
{
	uint64_t max_s = clock->max_ticks / (1000000000u / clock->tick_ns ?
					     1000000000u / clock->tick_ns : 1);

	atomic_init(&rt->next_slot, 0);
	atomic_init(&rt->active, 0);
	atomic_init(&rt->idle_count, 0);
	for (unsigned w = 0; w < RT_IDLE_WORDS; w++)
		atomic_init(&rt->idle[w], 0);
	for (unsigned i = 0; i < RT_MAX_CORES; i++) {
		rt->slots[i].rt = rt;
		rt->slots[i].index = i;
		atomic_init(&rt->slots[i].state, RT_CORE_UNCLAIMED);
		atomic_init(&rt->slots[i].initialised, false);
	}
	injector_init(&rt->injector);
	injector_set_notify(&rt->injector, rt_injector_notify, rt);
	rt->clock = clock;
	timer_init(&rt->timer, clock);
	log_info("rt: clock %s, tick %llu ns (%llu MHz), longest duration %llu s",
		 clock->name, (unsigned long long)clock->tick_ns,
		 (unsigned long long)(1000 / clock->tick_ns),
		 (unsigned long long)max_s);
}

int rt_set_global(struct runtime *rt)
{
	struct runtime *expected = NULL;
	int err;

	/* release: publishes the initialised runtime; pairs with rt_global(). */
	if (!atomic_compare_exchange_strong_explicit(&global_rt, &expected, rt,
						     memory_order_release,
						     memory_order_relaxed))
		return -EBUSY;
	err = timer_set_global(&rt->timer);
	if (err)
		return err;
	return 0;
}

struct runtime *rt_global(void)
{
	/* acquire: pairs with the release CAS in rt_set_global(). */
	return atomic_load_explicit(&global_rt, memory_order_acquire);
}

unsigned rt_active_cores(const struct runtime *rt)
{
	return atomic_load_explicit(&((struct runtime *)rt)->active,
				    memory_order_acquire);
}

struct rt_core *rt_current_core(void)
{
	return arch_cpu_local();
}

void rt_core_new(struct rt_core *core, struct runtime *rt)
{
	unsigned i = atomic_fetch_add_explicit(&rt->next_slot, 1,
					       memory_order_relaxed);
	struct rt_slot *slot;

	if (i >= RT_MAX_CORES)
		panic("rt_core_new: core %u claims a slot but the runtime has "
		      "only %u; this core is not started", i + 1, RT_MAX_CORES);
	slot = &rt->slots[i];
	sched_init(&slot->sched, i, &(struct sched_hooks){
		.notify = rt_slot_notify,
		.on_owner = rt_slot_on_owner,
		.arg = slot,
	});
	slot->hwid = arch_cpu_hwid();
	atomic_store_explicit(&slot->state, RT_CORE_RUNNING, memory_order_relaxed);
	/* release: publishes the initialised scheduler to thieves, which
	 * acquire-load `initialised` before touching it. */
	atomic_store_explicit(&slot->initialised, true, memory_order_release);
	/* Slots become active in claim order only as they finish initialising;
	 * peers pick victims below `active` and check `initialised`. */
	atomic_fetch_add_explicit(&rt->active, 1, memory_order_release);

	core->slot = slot;
	core->rt = rt;
	xoro_seed(&core->rng, arch_random_seed() ^ ((uint64_t)i << 32));
	atomic_init(&core->running, true);
	arch_cpu_bind(i);
	arch_set_cpu_local(core);
}

/* ---- the loop ----------------------------------------------------------- */

struct sched_tick rt_core_tick(struct rt_core *core)
{
	struct sched_tick tick = sched_tick(&core->slot->sched);
	struct timer_turn turn = timer_turn(&core->rt->timer);

	/* Sleeps that fired were woken onto their schedulers (maybe this
	 * one): the idle re-check finds them, so has_remaining stays as is. */
	if (!turn.busy)
		atomic_fetch_add_explicit(&core->slot->timer_turns, 1,
					  memory_order_relaxed);
	return tick;
}

static unsigned rt_claimed(const struct runtime *rt)
{
	unsigned n = atomic_load_explicit(&((struct runtime *)rt)->next_slot,
					  memory_order_relaxed);

	return n < RT_MAX_CORES ? n : RT_MAX_CORES;
}

static size_t rt_steal_injector(struct rt_core *core)
{
	struct stealer st;
	size_t got;

	if (injector_try_steal(&core->rt->injector, &st) != STEAL_OK)
		return 0;
	got = stealer_spawn_n(&st, &core->slot->sched, RT_MAX_STEAL);
	stealer_release(&st);
	return got;
}

size_t rt_core_try_steal(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	unsigned n = rt_claimed(rt);
	size_t got = rt_steal_injector(core);

	if (got)
		return got;
	for (unsigned attempt = 0; n > 1 && attempt < RT_STEAL_ATTEMPTS;
	     attempt++) {
		unsigned victim = (unsigned)xoro_below(&core->rng, n);
		struct rt_slot *vs = &rt->slots[victim];
		struct stealer st;
		size_t want;

		if (victim == core->slot->index)
			continue;
		/* acquire: pairs with the release store in rt_core_new(). */
		if (!atomic_load_explicit(&vs->initialised, memory_order_acquire))
			continue;
		if (sched_try_steal(&vs->sched, &st) != STEAL_OK)
			continue;
		want = MIN(st.initial_task_count / 2, RT_MAX_STEAL);
		/* A stopped core's tasks are all taken: nobody else runs them. */
		if (atomic_load_explicit(&vs->state, memory_order_relaxed) ==
		    RT_CORE_STOPPED)
			want = MIN(st.initial_task_count, RT_MAX_STEAL);
		got = stealer_spawn_n(&st, &core->slot->sched, want);
		stealer_release(&st);
		if (got)
			return got;
	}
	return rt_steal_injector(core);
}

/*
 * Sleep until woken, unless work arrived.  The protocol is in the file
 * header: announce (idle bit), re-check, then `sti; hlt` as one step.
 */
static void rt_core_idle(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	struct rt_slot *slot = core->slot;
	unsigned i = slot->index;
	ticks_t next, start;

	arch_irq_disable();
	idle_set(rt, i);
	/* seq_cst: the idle bit is visible before we look at the queues;
	 * pairs with the fence in rt_wake_slot()/rt_wake_any(). */
	atomic_thread_fence(memory_order_seq_cst);
	if (sched_queued(&slot->sched) > 0 || injector_queued(&rt->injector) > 0 ||
	    !atomic_load_explicit(&core->running, memory_order_acquire)) {
		if (idle_test_and_clear(rt, i)) {
			/* We took our own bit back: no wakeup is in flight. */
		}
		arch_irq_enable();
		return;
	}
	next = atomic_load_explicit(&rt->timer.next_hint, memory_order_relaxed);
	arch_timer_arm(next);
	atomic_store_explicit(&slot->state, RT_CORE_IDLE, memory_order_relaxed);
	start = clock_now(rt->clock);
	arch_wait_for_interrupt();
	atomic_fetch_add_explicit(&slot->idle_ticks, clock_now(rt->clock) - start,
				  memory_order_relaxed);
	atomic_store_explicit(&slot->state, RT_CORE_RUNNING, memory_order_relaxed);
	/* Woken by a timer or a stray interrupt: our bit may still be set. */
	(void)idle_test_and_clear(rt, i);
}

void rt_core_run(struct rt_core *core)
{
	atomic_store_explicit(&core->slot->run_ticks_start,
			      clock_now(core->rt->clock), memory_order_relaxed);
	/* acquire: pairs with the release store in rt_core_stop(). */
	while (atomic_load_explicit(&core->running, memory_order_acquire)) {
		struct sched_tick tick = rt_core_tick(core);

		if (tick.has_remaining)
			continue;
		if (rt_core_try_steal(core) > 0)
			continue;
		rt_core_idle(core);
	}
	atomic_store_explicit(&core->slot->state, RT_CORE_STOPPED,
			      memory_order_relaxed);
	/* From now on tasks woken onto this core wake a peer instead
	 * (rt_slot_notify); the ones already queued need one too. */
	atomic_thread_fence(memory_order_seq_cst);
	if (sched_queued(&core->slot->sched) > 0)
		rt_wake_any(core->rt);
}

void rt_core_stop(struct rt_core *core)
{
	/* release: pairs with the acquire loads in rt_core_run()/idle. */
	atomic_store_explicit(&core->running, false, memory_order_release);
	rt_wake_slot(core->rt, core->slot->index);
}

bool rt_core_is_running(const struct rt_core *core)
{
	return atomic_load_explicit(&((struct rt_core *)core)->running,
				    memory_order_acquire);
}

/* ---- the dump ----------------------------------------------------------- */

struct dump_buf {
	void (*out)(const char *s, size_t n);
};

static void __printf(2, 3) dump_line(struct dump_buf *d, const char *fmt, ...)
{
	char line[200];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n >= (int)sizeof(line))
		n = sizeof(line) - 1;
	d->out(line, (size_t)n);
}

/* A counter for the dump: relaxed, it is a snapshot. */
static unsigned long long rd(_Atomic uint64_t *c)
{
	return (unsigned long long)atomic_load_explicit(c, memory_order_relaxed);
}

static const char *const state_names[] = {
	[RT_CORE_UNCLAIMED] = "unclaimed",
	[RT_CORE_RUNNING] = "running",
	[RT_CORE_IDLE] = "idle",
	[RT_CORE_STOPPED] = "stopped",
};

void rt_dump(struct runtime *rt, void (*out)(const char *s, size_t n))
{
	struct dump_buf d = { out };
	unsigned n = rt_claimed(rt);
	ticks_t now = clock_now(rt->clock);

	dump_line(&d, "cores: %u/%u active, %u idle\n", rt_active_cores(rt),
		  RT_MAX_CORES,
		  atomic_load_explicit(&rt->idle_count, memory_order_relaxed));
	dump_line(&d, "injector: %llu queued, %llu injected\n",
		  (unsigned long long)injector_queued(&rt->injector),
		  rd(&rt->injector.injected));
	dump_line(&d, "%4s %5s %-9s %7s %9s %9s %9s %8s %8s %9s %8s %5s\n",
		  "core", "apic", "state", "queued", "spawned", "polled",
		  "completed", "stol-in", "stol-out", "woken", "turns", "idle%");
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *slot = &rt->slots[i];
		struct scheduler *sc = &slot->sched;
		uint64_t start, idle, busy_pct10;
		int state;

		/* acquire: pairs with the release store in rt_core_new(). */
		if (!atomic_load_explicit(&slot->initialised, memory_order_acquire))
			continue;
		state = atomic_load_explicit(&slot->state, memory_order_relaxed);
		start = atomic_load_explicit(&slot->run_ticks_start,
					     memory_order_relaxed);
		idle = atomic_load_explicit(&slot->idle_ticks, memory_order_relaxed);
		busy_pct10 = (start && now > start) ?
			     idle * 1000 / (now - start) : 0;
		dump_line(&d, "%4u %5u %-9s %7llu %9llu %9llu %9llu %8llu %8llu "
			  "%9llu %8llu %3llu.%llu\n",
			  i, (unsigned)slot->hwid,
			  state >= 0 && state <= RT_CORE_STOPPED ?
				state_names[state] : "?",
			  (unsigned long long)sched_queued(sc),
			  rd(&sc->spawned),
			  rd(&sc->polled),
			  rd(&sc->completed),
			  rd(&sc->stolen_in),
			  rd(&sc->stolen_out),
			  rd(&sc->woken_internal) + rd(&sc->woken_external),
			  (unsigned long long)atomic_load_explicit(
				  &slot->timer_turns, memory_order_relaxed),
			  (unsigned long long)(busy_pct10 / 10),
			  (unsigned long long)(busy_pct10 % 10));
	}
	timer_dump(&rt->timer, out);
}

/* ---- spawning ----------------------------------------------------------- */

/* The current core's scheduler if it runs a loop of `rt`, else NULL. */
static struct scheduler *rt_local_sched(struct runtime *rt)
{
	struct rt_core *cur = rt_current_core();

	if (cur == NULL || cur->rt != rt ||
	    !atomic_load_explicit(&cur->running, memory_order_relaxed))
		return NULL;
	return &cur->slot->sched;
}

int rt_spawn(struct runtime *rt, const struct task_vtable *vt,
	     const void *init, size_t size, struct join_handle *jh)
{
	struct scheduler *s = rt_local_sched(rt);

	if (s)
		return sched_spawn(s, vt, init, size, jh);
	return injector_spawn(&rt->injector, vt, init, size, jh);
}

void rt_spawn_allocated(struct runtime *rt, struct task *t,
			const struct task_vtable *vt, struct join_handle *jh)
{
	struct scheduler *s = rt_local_sched(rt);

	if (s)
		sched_spawn_allocated(s, t, vt, jh);
	else
		injector_spawn_allocated(&rt->injector, t, vt, jh);
}
