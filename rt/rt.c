/*
 * rt.c - the runtime: slots, the core loop, stealing, idle and wakeups.
 *
 * The idle protocol (no work may sit runnable while every core sleeps):
 *
 *   sleeper (core i)                     waker (a task made runnable on
 *                                        core i from elsewhere)
 *   irq off                              enqueue the task
 *   idle_count++          (acq_rel RMW)  fetch_and(word(i), ~bit(i))
 *   fetch_or(word(i), bit(i)) (acq_rel)                (acq_rel RMW)
 *   re-check queue i and the injector    bit was set: arch_wake(i)
 *   empty: sti; hlt (one step)
 *
 * Both sides end with an RMW on the same bitmap word, and RMWs on one word
 * are totally ordered.  If the waker's comes later it sees the bit and
 * wakes the core; if it comes first, the sleeper's RMW acquires it, so the
 * sleeper's re-check sees the task and it does not sleep.  No fences (so
 * ThreadSanitizer can check it), and exactly one waker owns each wakeup:
 * the one whose fetch_and cleared the bit.  Other wakers of any idle core
 * do the same (rt_wake_any: an RMW on idle_count, which the sleeper raises
 * before setting its bit, then on the bitmap words).  An injector push,
 * the one per spawn from outside, reads idle_count with a seq_cst load
 * instead, after its seq_cst RMW on `injected`; the sleeper's idle_count++
 * and its load of `injected` are seq_cst too (rt_injector_notify).  On
 * the kernel `sti; hlt` takes an IPI that arrives between check and hlt.
 * A core that stops does an RMW on its word after marking itself STOPPED,
 * so a waker either sees STOPPED (and wakes a peer to steal) or the
 * stopping core sees the task (and does).
 */
#include <stdatomic.h>

#include "arch.h"
#include "config.h"
#include "errno.h"
#include "lib/log.h"
#include "lib/trace.h"
#include "panic.h"
#include "rt/rt_internal.h"

static _Atomic(struct runtime *) global_rt;

/* ---- idle bitmap -------------------------------------------------------- */

unsigned rt_claimed(const struct runtime *rt)
{
	unsigned n = atomic_load_explicit(&((struct runtime *)rt)->next_slot,
					  memory_order_relaxed);

	return n < MAX_CORES ? n : MAX_CORES;
}

static uint64_t idle_bit(unsigned i)
{
	return 1ull << (i % 64);
}

/*
 * Mark slot i asleep: the count first, so a waker that reads idle_count
 * == 0 may skip the bitmap (rt_wake_any).  acq_rel RMWs: the sleeper half
 * of the protocol in the header.
 */
static void idle_set(struct runtime *rt, unsigned i)
{
	atomic_fetch_add_explicit(&rt->idle_count, 1, memory_order_seq_cst);
	atomic_fetch_or_explicit(&rt->idle[i / 64], idle_bit(i),
				 memory_order_acq_rel);
}

/*
 * Clear slot i's bit; true if this call cleared it (the caller owns the
 * wakeup).  acq_rel: the waker half; pairs with idle_set()'s RMWs.
 */
static bool idle_test_and_clear(struct runtime *rt, unsigned i)
{
	uint64_t old = atomic_fetch_and_explicit(&rt->idle[i / 64], ~idle_bit(i),
						 memory_order_acq_rel);

	if (!(old & idle_bit(i)))
		return false;
	atomic_fetch_sub_explicit(&rt->idle_count, 1, memory_order_relaxed);
	return true;
}

static void rt_send_wake(struct runtime *rt, unsigned i)
{
	atomic_fetch_add_explicit(&rt->slots[i].wakeups, 1, memory_order_relaxed);
	/* The arch traces the IPI, if it needs one (a polling core does not). */
	arch_wake(i);
}

/*
 * Wake any one sleeping core of rt (injector pushes, load sharing).  The
 * scan starts at a rotating position so wakeups, and with them the work
 * that follows, spread over every core instead of the lowest-numbered.
 */
static void wake_any_scan(struct runtime *rt);

void rt_wake_any(struct runtime *rt)
{
	/* acq_rel RMW (not a load): if it reads 0, every sleeper's later
	 * idle_count++ acquires it and its re-check sees our task. */
	if (atomic_fetch_add_explicit(&rt->idle_count, 0,
				      memory_order_acq_rel) == 0)
		return;
	wake_any_scan(rt);
}

static void wake_any_scan(struct runtime *rt)
{
	unsigned words, start, first;

	/* After the RMW, so every slot of a sleeper counted there is seen. */
	words = (rt_claimed(rt) + 63) / 64;
	if (words == 0)
		return;
	start = atomic_fetch_add_explicit(&rt->wake_cursor, 1,
					  memory_order_relaxed) % (words * 64);
	first = start / 64;
	/* words + 1 steps: the first word twice, its high bits (from start)
	 * first and its low bits last. */
	for (unsigned k = 0; k <= words; k++) {
		unsigned w = (first + k) % words;
		/* An RMW for the same reason: pairs with idle_set()'s fetch_or. */
		uint64_t word = atomic_fetch_or_explicit(&rt->idle[w], 0,
							 memory_order_acq_rel);

		if (k == 0)
			word &= ~0ull << (start % 64);
		else if (k == words)
			word &= ~(~0ull << (start % 64));
		while (word) {
			unsigned i = w * 64 + (unsigned)__builtin_ctzll(word);

			if (idle_test_and_clear(rt, i)) {
				rt_send_wake(rt, i);
				return;
			}
			word &= word - 1;
		}
	}
}

/*
 * Make sure slot i notices work just queued on it: wake it if it sleeps,
 * or a peer if it stopped.  The caller is not slot i's own core.
 */
void rt_wake_slot(struct runtime *rt, unsigned i)
{
	struct rt_slot *slot = &rt->slots[i];

	if (idle_test_and_clear(rt, i)) {
		rt_send_wake(rt, i);
		return;
	}
	/* Our RMW on the word ordered us against rt_core_run()'s RMW after
	 * its STOPPED store: if we do not see STOPPED, it sees our task. */
	if (atomic_load_explicit(&slot->state, memory_order_relaxed) ==
	    RT_CORE_STOPPED)
		rt_wake_any(rt);
}

/*
 * Notify hook of slot i's scheduler: a task became runnable there.  From
 * another core (or a thread that is no core): wake the owner if it sleeps.
 * On the owner itself nothing is needed (it is running, or this is an
 * interrupt that ends its hlt) unless it has as many queued as a thief
 * takes from (RT_STEAL_MIN): then wake an idle peer to steal, so work
 * spawned on one core reaches every core.  With 3 up to that, a peer
 * woken would find nothing it may take (rt_steal_peers) until the poll
 * in front of them has run RT_STRAND_NS: make sure the watcher looks by
 * then, as for a batch (rt_slot_batch), which wakes a core only when no
 * watcher would look in time.  Waking a peer at 3 woke the other core of
 * rwlock_read_mostly at 2 workers some 2,000 times an iteration, a futex
 * wake and wait each (docs/PERFORMANCE.md).  Relaxed hints, not part of
 * the protocol.
 */
static void rt_slot_notify(void *arg)
{
	struct rt_slot *slot = arg;
	struct runtime *rt = slot->rt;
	struct rt_core *cur = rt_current_core();
	size_t queued;

	if (cur == NULL || cur->slot != slot) {
		rt_wake_slot(rt, slot->index);
		return;
	}
	queued = sched_queued(&slot->sched);
	if (queued >= RT_STEAL_MIN &&
	    atomic_load_explicit(&rt->idle_count, memory_order_relaxed) > 0 &&
	    atomic_load_explicit(&rt->searching, memory_order_relaxed) == 0)
		rt_wake_any(rt);
	else if (queued > 2)
		rt_slot_batch(slot);
}

/* on_owner hook of slot i's scheduler: is the caller the core ticking it? */
static bool rt_slot_on_owner(void *arg)
{
	struct rt_core *cur = rt_current_core();

	return cur != NULL && cur->slot == arg;
}

/*
 * Pull hook of slot `arg`'s scheduler (the caller is its core, in a
 * poll): a task of slot `from` that this poll woke comes here if `from`
 * has a higher index and is busy - in a poll, or with tasks queued - or
 * asleep, and this core is not stopping.
 *
 * One way only, to the lower index.  Pulls both ways let two busy cores
 * that wake each other's tasks trade them forever: semaphore_8 at 2
 * workers ran about half its runs so, each core pulling some 100,000
 * tasks from the other (10-11 ms an iteration, against 2 ms when one core
 * ran nearly everything).  One way, tasks that wake each other gather on
 * one core; stealing spreads them again when its queue grows.
 *
 * Busy, not merely RUNNING: a core on its way to sleep is
 * RUNNING until it halts, and it looks at its peers (rt_watch_before_idle)
 * before it re-checks only its own queue; a task pulled after that look
 * would wait behind our poll with nobody watching.  A busy `from` ends
 * its tick first, and its look then sees our LIFO slot (counted in
 * sched_batch_left).  What is left is a race of nanoseconds: `from`'s
 * poll ending, its tick ending and its look all happening between our
 * check and our store of the task; the task then waits for our poll or
 * the watchdog timer's look.  Relaxed loads: a hint; either answer runs
 * the task.
 *
 * Asleep (IDLE): sent home, the task would cost a wakeup of `from` (a
 * futex or an IPI) for every handoff between tasks that take turns, as
 * a lock's and a semaphore's do; pulled, they gather here and `from`
 * sleeps on.  mutex_handoff at 2 workers ran 2.4-13.4 ms an iteration
 * from one process to the next with the wake sent home, and 2.3-2.8
 * pulled (docs/PERFORMANCE.md).  A pulled task waits for our poll to
 * return, so the slot goes under watch as a batch does (rt_slot_batch):
 * the watcher must look within RT_STRAND_NS, or an idle core is woken
 * to, and a poll that runs long is kicked into handing it back.
 */
static bool rt_slot_pull(void *arg, void *from)
{
	struct rt_slot *to = arg, *f = from;
	struct rt_core *cur = rt_current_core();
	enum rt_core_state state;

	if (to->index >= f->index || to->rt != f->rt || cur == NULL ||
	    cur->slot != to ||
	    !atomic_load_explicit(&cur->running, memory_order_relaxed))
		return false;
	state = atomic_load_explicit(&f->state, memory_order_relaxed);
	if (state == RT_CORE_IDLE) {
		rt_slot_batch(to);
		return true;
	}
	return state == RT_CORE_RUNNING &&
	       ((atomic_load_explicit(&f->sched.poll_seq,
				      memory_order_relaxed) & 1) ||
		sched_queued(&f->sched) > 0);
}

/* trace_fault()'s question: the id of the task this core polls, or 0.
 * Fault and panic paths: reads only this core's own words. */
static uint64_t rt_poll_id(void)
{
	struct rt_core *cur = rt_current_core();
	struct task *t = cur ? cur->slot->sched.current : NULL;

	return t ? t->id : 0;
}

/*
 * Notify hook of the injector: wake one sleeping core, if any.
 *
 * After an injector push: its seq_cst RMW on `injected` came first.  A
 * seq_cst load of idle_count then does what rt_wake_any()'s RMW does,
 * without taking the line the sleepers write: idle_set()'s idle_count++
 * and the re-check's load of `injected` are seq_cst too, and of the four
 * in their single total order either our load follows the sleeper's RMW
 * (we see it and scan) or its load follows our push (it sees the task).
 * On x86 the load is a plain MOV, and the line stays shared while nobody
 * goes to sleep: spawn_many_remote_idle at 2 workers 0.74 ms against 2.59
 * with the RMW (bench/ab, 9 rounds; docs/perf-log.md, 2026-12-07).
 */
static void rt_injector_notify(void *arg)
{
	struct runtime *rt = arg;

	if (atomic_load_explicit(&rt->idle_count, memory_order_seq_cst) == 0)
		return;
	wake_any_scan(rt);
}

/* ---- setup -------------------------------------------------------------- */

void rt_init(struct runtime *rt, const struct clock *clock)
{
	uint64_t max_s = clock->max_ticks / (1000000000u / clock->tick_ns ?
					     1000000000u / clock->tick_ns : 1);

	atomic_init(&rt->next_slot, 0);
	atomic_init(&rt->active, 0);
	atomic_init(&rt->idle_count, 0);
	atomic_init(&rt->searching, 0);
	atomic_init(&rt->wake_cursor, 0);
	atomic_init(&rt->stopped, 0);
	for (unsigned w = 0; w < RT_IDLE_WORDS; w++)
		atomic_init(&rt->idle[w], 0);
	for (unsigned i = 0; i < MAX_CORES; i++) {
		rt->slots[i].rt = rt;
		rt->slots[i].index = i;
		atomic_init(&rt->slots[i].state, RT_CORE_UNCLAIMED);
		atomic_init(&rt->slots[i].initialised, false);
		atomic_init(&rt->slots[i].timer_turns, 0);
		atomic_init(&rt->slots[i].idle_ticks, 0);
		atomic_init(&rt->slots[i].wakeups, 0);
		atomic_init(&rt->slots[i].from_injector, 0);
		atomic_init(&rt->slots[i].run_ticks_start, 0);
		atomic_init(&rt->slots[i].idle_since, 0);
		atomic_init(&rt->slots[i].kicked_seq, 0);
		atomic_init(&rt->slots[i].watch_seq, 0);
		atomic_init(&rt->slots[i].watch_at, 0);
		atomic_init(&rt->slots[i].reported_seq, 0);
		atomic_init(&rt->slots[i].kicks, 0);
		atomic_init(&rt->slots[i].reports, 0);
	}
	injector_init(&rt->injector);
	injector_set_notify(&rt->injector, rt_injector_notify, rt);
	(void)trace_set_poll_id_hook(rt_poll_id);
	rt->clock = clock;
	timer_init(&rt->timer, clock);
	rt_watch_init(rt);
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

unsigned rt_tick_marks(const struct runtime *rt, uint64_t *marks, unsigned max)
{
	struct rt_core *cur = rt_current_core();
	unsigned n = MIN(rt_active_cores(rt), max);

	for (unsigned i = 0; i < n; i++) {
		const struct rt_slot *slot = &rt->slots[i];

		/* acquire: pairs with the release store in rt_core_new(). */
		if (!atomic_load_explicit(&((struct rt_slot *)slot)->initialised,
					  memory_order_acquire) ||
		    (cur != NULL && cur->slot == slot))
			marks[i] = 0;	/* nothing to wait for */
		else
			marks[i] = sched_tick_seq(&slot->sched);
	}
	return n;
}

bool rt_ticks_passed(const struct runtime *rt, const uint64_t *marks,
		     unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if ((marks[i] & 1) &&
		    sched_tick_seq(&rt->slots[i].sched) == marks[i])
			return false;
	return true;
}

void rt_core_new(struct rt_core *core, struct runtime *rt)
{
	unsigned i = atomic_fetch_add_explicit(&rt->next_slot, 1,
					       memory_order_relaxed);
	struct rt_slot *slot;

	if (i >= MAX_CORES)
		panic("rt_core_new: core %u claims a slot but the runtime has "
		      "only %u; this core is not started", i + 1, MAX_CORES);
	slot = &rt->slots[i];
	sched_init(&slot->sched, i, &(struct sched_hooks){
		.notify = rt_slot_notify,
		.on_owner = rt_slot_on_owner,
		.batch = rt_slot_batch,
		.pull = rt_slot_pull,
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
	core->next_watch = 0;
	core->last_turn = 0;
	core->turn_gap = arch_ns_to_cycles(RT_TURN_BUSY_NS);
	arch_cpu_bind(i);
	arch_set_cpu_local(core);
}

/* ---- the loop ----------------------------------------------------------- */

/* After a tick that ended at `now` (cycles): turn the timer. */
static void rt_core_turn(struct rt_core *core, const struct sched_tick *tick,
			 uint64_t now)
{
	struct timer_turn turn;

	/*
	 * No timer pending: skip the turn and its clock read (a lone
	 * yielder pays a loop iteration per yield).  timer_turn() would
	 * return at once too: it starts with the same relaxed hint, and no
	 * clock is at TIMER_NO_DEADLINE.  A stale "none" can only hide an
	 * insert made elsewhere; the inserting core's own turns and idle
	 * arming see it, and a core that stops with a timer pending wakes
	 * a peer (rt_core_run).
	 */
	if (timer_next_hint(&core->rt->timer) == TIMER_NO_DEADLINE)
		return;
	/* Busy: at most every RT_TURN_BUSY_NS (rt.h).  A core that runs dry
	 * turns now, before it steals or arms its timer and sleeps.  The
	 * difference, not a deadline: a counter that went backwards (a
	 * thread moved to a CPU whose TSC lags) turns at once. */
	if (tick->has_remaining && now - core->last_turn < core->turn_gap)
		return;
	core->last_turn = now;
	turn = timer_turn(&core->rt->timer);
	/* Sleeps that fired were woken onto their schedulers (maybe this
	 * one): the idle re-check finds them, so has_remaining stays as is.
	 * Only this core writes its count: a load and a store, not an
	 * atomic read-modify-write. */
	if (!turn.busy)
		atomic_store_explicit(&core->slot->timer_turns,
				      atomic_load_explicit(&core->slot->timer_turns,
							   memory_order_relaxed) + 1,
				      memory_order_relaxed);
}

struct sched_tick rt_core_tick(struct rt_core *core)
{
	struct sched_tick tick = sched_tick(&core->slot->sched);

	rt_core_turn(core, &tick, arch_cycles());
	return tick;
}

static size_t rt_steal_injector(struct rt_core *core, size_t max)
{
	struct stealer st;
	size_t got;

	if (injector_try_steal(&core->rt->injector, &st) != STEAL_OK)
		return 0;
	got = stealer_spawn_n(&st, &core->slot->sched, max);
	stealer_release(&st);
	atomic_fetch_add_explicit(&core->slot->from_injector, got,
				  memory_order_relaxed);
	return got;
}

size_t rt_steal_from(struct rt_core *core, struct rt_slot *vs, size_t want)
{
	struct stealer st;
	size_t got;

	if (sched_try_steal(&vs->sched, &st) != STEAL_OK)
		return 0;
	got = stealer_spawn_n(&st, &core->slot->sched,
			      MIN(st.initial_task_count, want));
	stealer_release(&st);
	return got;
}

/*
 * Is vs in a poll that has run RT_STRAND_NS?  A hint.  An untimed poll's
 * start is its batch's, and a batch outlives RT_STRAND_NS whenever the
 * host deschedules its thread: taken for long, it made idle cores steal
 * back and forth (spawn_many_remote_idle: 15 times the steals, 1.5 times
 * the time).  So an untimed poll is never long here; the watchers' kicks
 * (rt_watch_at), which look at the batch's age, free what it strands.
 */
static bool rt_poll_is_long(struct rt_slot *vs)
{
	uint64_t seq, start, now = arch_cycles();
	bool exact;

	/* A start a hair ahead of our counter is a poll just begun. */
	return sched_poll_in_progress(&vs->sched, &seq, &start, &exact) &&
	       exact && now > start &&
	       now - start > arch_ns_to_cycles(RT_STRAND_NS);
}

static size_t rt_steal_peers(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	unsigned n = rt_claimed(rt);

	for (unsigned attempt = 0; n > 1 && attempt < RT_STEAL_ATTEMPTS;
	     attempt++) {
		/* One of the n - 1 others, uniformly: every pick checks a
		 * peer, and no unpredictable "is it me?" branch (with two
		 * cores it cost a failed search half its time). */
		unsigned victim = (unsigned)xoro_below(&core->rng, n - 1);
		struct rt_slot *vs;
		struct stealer st;
		size_t want, got;

		if (victim >= core->slot->index)
			victim++;
		vs = &rt->slots[victim];
		/* acquire: pairs with the release store in rt_core_new(). */
		if (!atomic_load_explicit(&vs->initialised, memory_order_acquire))
			continue;
		if (sched_queued(&vs->sched) < RT_STEAL_MIN &&
		    !rt_poll_is_long(vs) &&
		    atomic_load_explicit(&vs->state, memory_order_relaxed) !=
		    RT_CORE_STOPPED)
			continue;
		if (sched_try_steal(&vs->sched, &st) != STEAL_OK)
			continue;
		/* Half, and at least one (of a queue behind a long poll). */
		want = MIN(MAX(st.initial_task_count / 2, 1), RT_MAX_STEAL);
		/* A stopped core's tasks are all taken: nobody else runs them. */
		if (atomic_load_explicit(&vs->state, memory_order_relaxed) ==
		    RT_CORE_STOPPED)
			want = MIN(st.initial_task_count, RT_MAX_STEAL);
		got = stealer_spawn_n(&st, &core->slot->sched, want);
		stealer_release(&st);
		if (got)
			return got;
	}
	return 0;
}

/*
 * Take work a stopped core left behind: all of it, from every stopped
 * slot.  Random picks could miss a stopped slot while every other core
 * sleeps, so this is a sweep; it only runs while some slot has stopped.
 */
static size_t rt_steal_stopped(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	unsigned n = rt_claimed(rt);
	size_t got = 0;

	if (atomic_load_explicit(&rt->stopped, memory_order_relaxed) == 0)
		return 0;
	for (unsigned i = 0; i < n && got < RT_MAX_STEAL; i++) {
		struct rt_slot *vs = &rt->slots[i];
		struct stealer st;

		if (atomic_load_explicit(&vs->state, memory_order_relaxed) !=
		    RT_CORE_STOPPED || sched_queued(&vs->sched) == 0)
			continue;
		if (sched_try_steal(&vs->sched, &st) != STEAL_OK)
			continue;
		/* Its pinned tasks too: their core will not run them. */
		st.take_pinned = true;
		got += stealer_spawn_n(&st, &core->slot->sched, RT_MAX_STEAL - got);
		stealer_release(&st);
	}
	return got;
}

/* True if a stopped slot still has queued tasks (someone must take them). */
static bool rt_stopped_have_work(struct runtime *rt)
{
	unsigned n = rt_claimed(rt);

	if (atomic_load_explicit(&rt->stopped, memory_order_relaxed) == 0)
		return false;
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *vs = &rt->slots[i];

		if (atomic_load_explicit(&vs->state, memory_order_relaxed) ==
		    RT_CORE_STOPPED && sched_queued(&vs->sched) > 0)
			return true;
	}
	return false;
}

size_t rt_core_try_steal(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	size_t got;

	/* Relaxed: `searching` only throttles load-sharing wakeups (a hint);
	 * no task depends on it to be run. */
	atomic_fetch_add_explicit(&rt->searching, 1, memory_order_relaxed);
	got = rt_steal_injector(core, RT_MAX_STEAL);
	if (!got)
		got = rt_steal_peers(core);
	if (!got)
		got = rt_steal_injector(core, RT_MAX_STEAL);
	if (!got)
		got = rt_steal_stopped(core);
	/* The last searcher to find a batch brings in one more core: work
	 * spreads one core at a time, without a wakeup per spawn. */
	if (atomic_fetch_sub_explicit(&rt->searching, 1,
				      memory_order_relaxed) == 1 && got > 1)
		rt_wake_any(rt);
	return got;
}

/* A deadline in cycles as a tick of rt's clock (ns ticks on both). */
static ticks_t watch_tick(struct runtime *rt, uint64_t deadline)
{
	uint64_t now = arch_cycles();
	uint64_t ns = deadline > now ? arch_cycles_to_ns(deadline - now) : 0;

	return clock_now(rt->clock) + ns / rt->clock->tick_ns + 1;
}

/*
 * Sleep until woken, unless work arrived.  The protocol is in the file
 * header: announce (idle bit), re-check, then `sti; hlt` as one step.
 * Before it, a look at the other cores (watch.c), which may find work
 * (a stranded batch) or a moment to look again: the sleep ends then.
 */
static void rt_core_idle(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	struct rt_slot *slot = core->slot;
	unsigned i = slot->index;
	enum arch_wake_reason why;
	ticks_t next, start;
	uint64_t watch;
	size_t got;

	watch = rt_watch_before_idle(core, &got);
	if (got)
		return;
	arch_irq_disable();
	idle_set(rt, i);
	/* Relaxed loads suffice: idle_set()'s RMWs ordered us against every
	 * waker (see the header), but for injector_queued()'s seq_cst load
	 * of `injected`, which an injector push's notify relies on. */
	if (sched_queued(&slot->sched) > 0 || injector_queued(&rt->injector) > 0 ||
	    rt_stopped_have_work(rt) ||
	    !atomic_load_explicit(&core->running, memory_order_acquire)) {
		/* Take our bit back; if a waker beat us to it, its arch_wake()
		 * is in flight and only costs one spurious return later. */
		(void)idle_test_and_clear(rt, i);
		arch_irq_enable();
		rt_watch_woke(core);
		return;
	}
	next = timer_next_hint(&rt->timer);
	if (watch != UINT64_MAX)
		next = MIN(next, watch_tick(rt, watch));
	arch_timer_arm(next);
	atomic_store_explicit(&slot->state, RT_CORE_IDLE, memory_order_relaxed);
	start = clock_now(rt->clock);
	atomic_store_explicit(&slot->idle_since, start, memory_order_relaxed);
	trace_event(TRACE_IDLE_ENTER, 0, 0, 0);
	why = arch_wait_for_interrupt();
	trace_event(TRACE_IDLE_EXIT, why, 0, 0);
	atomic_store_explicit(&slot->idle_since, 0, memory_order_relaxed);
	atomic_fetch_add_explicit(&slot->idle_ticks, clock_now(rt->clock) - start,
				  memory_order_relaxed);
	atomic_store_explicit(&slot->state, RT_CORE_RUNNING, memory_order_relaxed);
	/* Woken by a timer or a stray interrupt: our bit may still be set. */
	(void)idle_test_and_clear(rt, i);
	rt_watch_woke(core);
}

void rt_core_run(struct rt_core *core)
{
	unsigned ticks = 0;
	bool woke = false;
	uint64_t busy_watch = arch_ns_to_cycles(RT_WATCH_BUSY_NS);

	atomic_store_explicit(&core->slot->run_ticks_start,
			      clock_now(core->rt->clock), memory_order_relaxed);
	/* Tasks are polled with interrupts enabled (the kernel enters with
	 * them off): timer, wakeup and device interrupts must get through
	 * even on a core that never runs dry. */
	arch_irq_enable();
	/* acquire: pairs with the release store in rt_core_stop(). */
	while (atomic_load_explicit(&core->running, memory_order_acquire)) {
		struct sched_tick tick;
		uint64_t now;

		/* Out of a sleep with work to poll: make sure a sleeper
		 * watches, before a poll that may never return. */
		if (woke && sched_queued(&core->slot->sched) > 0) {
			woke = false;
			rt_watch_running(core);
		}
		tick = sched_tick(&core->slot->sched);
		now = arch_cycles();
		rt_core_turn(core, &tick, now);
		if (now >= core->next_watch) {
			core->next_watch = now + busy_watch;
			(void)rt_watch(core);
		}
		if (tick.has_remaining) {
			/* Busy: still give injected tasks a turn now and then,
			 * a few at a time if this core has plenty already. */
			size_t want = sched_queued(&core->slot->sched) <
				      RT_BUSY_LOW_WATER ? RT_MAX_STEAL :
				      RT_BUSY_STEAL;

			if (++ticks % RT_INJECTOR_INTERVAL == 0 &&
			    injector_queued(&core->rt->injector) > 0)
				(void)rt_steal_injector(core, want);
			/* Queued but nothing to run: a producer between its
			 * count and its link, or a thief holding the queue.
			 * Wait for it without hammering the shared lines. */
			if (tick.polled == 0 && tick.completed == 0)
				arch_cpu_relax();
			continue;
		}
		if (rt_core_try_steal(core) > 0) {
			/* Work without a sleep: the watchdog's timer too. */
			rt_watch_running(core);
			continue;
		}
		rt_core_idle(core);
		woke = true;
	}
	/* Its cached task storage goes to the depot for the others. */
	sched_cache_drain(&core->slot->sched);
	atomic_fetch_add_explicit(&core->rt->stopped, 1, memory_order_relaxed);
	atomic_store_explicit(&core->slot->state, RT_CORE_STOPPED,
			      memory_order_relaxed);
	/* acq_rel RMW on our idle word: orders the STOPPED store against
	 * wakers (rt_wake_slot); then the tasks already queued need a peer. */
	atomic_fetch_or_explicit(&core->rt->idle[core->slot->index / 64], 0,
				 memory_order_acq_rel);
	/* So do pending timers: a peer that went idle before they were
	 * inserted armed its timer for none of them. */
	if (sched_queued(&core->slot->sched) > 0 ||
	    timer_next_hint(&core->rt->timer) != TIMER_NO_DEADLINE)
		rt_wake_any(core->rt);
}

void rt_core_stop(struct rt_core *core)
{
	struct rt_core *cur = rt_current_core();

	/* release: pairs with the acquire loads in rt_core_run()/idle. */
	atomic_store_explicit(&core->running, false, memory_order_release);
	if (cur != core)
		rt_wake_slot(core->rt, core->slot->index);
}

bool rt_core_is_running(const struct rt_core *core)
{
	return atomic_load_explicit(&((struct rt_core *)core)->running,
				    memory_order_acquire);
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

int rt_spawn_at(const struct task_site *site, struct runtime *rt,
		const struct task_vtable *vt, const void *init, size_t size,
		struct join_handle *jh)
{
	struct scheduler *s = rt_local_sched(rt);

	/* Ours, and rt_spawn is task context only: the owner's path. */
	if (s)
		return sched_spawn_own_at(site, 0, s, vt, init, size, jh);
	return injector_spawn_at(site, &rt->injector, vt, init, size, jh);
}

void rt_spawn_allocated_at(const struct task_site *site, struct runtime *rt,
			   struct task *t, const struct task_vtable *vt,
			   struct join_handle *jh)
{
	struct scheduler *s = rt_local_sched(rt);

	if (s)
		sched_spawn_allocated_at(site, 0, s, t, vt, jh);
	else
		injector_spawn_allocated_at(site, &rt->injector, t, vt, jh);
}

int rt_spawn_on_at(const struct task_site *site, struct runtime *rt,
		   unsigned core, const struct task_vtable *vt,
		   const void *init, size_t size, struct join_handle *jh)
{
	/* acquire: pairs with the release store in rt_core_new(). */
	if (core >= rt_claimed(rt) ||
	    !atomic_load_explicit(&rt->slots[core].initialised,
				  memory_order_acquire))
		return -EINVAL;
	return sched_spawn_at(site, TASK_PINNED, &rt->slots[core].sched, vt,
			      init, size, jh);
}
