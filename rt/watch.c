/*
 * watch.c - cores looking at each other: batches a long poll holds, and
 * the stuck-poll watchdog.
 *
 * Every scheduler shows its poll in progress (poll_seq odd, start, id,
 * name) and how many tasks of its batch wait behind it (poll.h).  A core
 * that looks at the others (rt_watch_at):
 *   - kicks a core whose poll has run RT_STRAND_NS while tasks of its
 *     batch wait, once per poll (kicked_seq); the kick handler there puts
 *     them back on its queue (sched_release_batch) and the kicker takes
 *     them all, as from a stopped core;
 *   - reports a poll that has run past the watchdog's threshold and is
 *     still the same poll RT_WATCHDOG_CONFIRM_NS later (watch_seq and
 *     watch_at record the first sighting), once per poll (a CAS on
 *     reported_seq): core, task, how long so far, and that core's
 *     backtrace (arch_print_remote_backtrace, an NMI on the kernel).  The
 *     second sighting is what keeps a core the host descheduled for a
 *     moment in the middle of a short poll from being reported: resumed,
 *     its poll ends before the confirmation.
 * With poll timing off (sched_poll_timing_set) a poll's own start is not
 * read: its start is its batch's, right for the batch kick (the tasks
 * behind have waited since then), and the watchdog times the poll from
 * its first sighting instead (watchdog_look).
 * Idle cores are never in a poll, so they are never reported.
 *
 * Who looks: a busy core every RT_WATCH_BUSY_NS between ticks; a core
 * about to sleep; and, for the watchdog, the timer: a callback entry in
 * the runtime's timer (rt->wd_entry) that fires at the next moment a poll
 * would pass or confirm the threshold, or the threshold from now while a
 * core runs between polls.  The core that turns the timer (an idle core
 * woken for it, as for any sleep's deadline) looks and arms it again;
 * with nothing running it stays disarmed, and a core leaving idle with
 * work arms it (rt_watch_running: one relaxed load when armed) and wakes
 * a sleeper to arm its clock for it: one extra wakeup per burst of work
 * on a machine that was all asleep, none while it stays busy.  Batches
 * have much shorter deadlines: only one idle core arms them, the watcher
 * (rt->watcher), which gives the role back when it wakes; a core that
 * takes a batch of two or more wakes the watcher if it would look too
 * late, or an idle core if there is none (rt_slot_batch).
 * All of this is relaxed: it decides only when somebody looks, never
 * whether a task runs (the kicked tasks go through the queue).
 */
#include <stdatomic.h>

#include "arch.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "rt/rt_internal.h"
#include "timer/timer.h"

static uint64_t rd(atomic_uint_least64_t *v)
{
	return atomic_load_explicit(v, memory_order_relaxed);
}

static void rt_kick_handler(void)
{
	struct rt_core *cur = rt_current_core();

	/* The tasks are back on our queue, and we are stuck: make sure a
	 * sleeping core comes for them (the kicker may have given up
	 * waiting and gone to sleep). */
	if (cur && sched_release_batch(&cur->slot->sched))
		rt_wake_any(cur->rt);
}

static void rt_watchdog_fire(void *arg);

void rt_watch_init(struct runtime *rt)
{
	atomic_init(&rt->watcher, 0);
	atomic_init(&rt->watch_deadline, UINT64_MAX);
	atomic_init(&rt->watchdog_ns, RT_WATCHDOG_DEFAULT_NS);
	atomic_init(&rt->wd_timer_on, false);
	timer_entry_init_callback(&rt->wd_entry, rt_watchdog_fire, rt);
	arch_set_kick_handler(rt_kick_handler);
}

/* Arm the watchdog's timer entry `cycles` from now, unless it is armed. */
static void wd_timer_arm(struct runtime *rt, uint64_t cycles)
{
	uint64_t ns = arch_cycles_to_ns(cycles);
	ticks_t deadline;

	/* acq_rel: one arming at a time; pairs with the release store in
	 * rt_watchdog_fire(), after which the entry is FIRED (reusable). */
	if (atomic_exchange_explicit(&rt->wd_timer_on, true, memory_order_acq_rel))
		return;
	if (clock_deadline_after(rt->timer.clock, timer_clock_now(&rt->timer),
				 ns, &deadline) != 0 ||
	    timer_insert(&rt->timer, &rt->wd_entry, deadline + 1) != 0)
		atomic_store_explicit(&rt->wd_timer_on, false, memory_order_release);
}

/* The watchdog's timer fired, on the core that turned the timer. */
static void rt_watchdog_fire(void *arg)
{
	struct runtime *rt = arg;
	struct rt_core *cur = rt_current_core();
	struct rt_watch_next next;
	uint64_t now;

	/* release: the entry is FIRED; the next arming may insert it. */
	atomic_store_explicit(&rt->wd_timer_on, false, memory_order_release);
	if (cur == NULL || cur->rt != rt)
		return;
	now = arch_cycles();
	(void)rt_watch_at(cur, now, &next);
	/* This core, turning the timer, counts as running if it has work
	 * (rt_watch_at looks only at the others). */
	if (sched_queued(&cur->slot->sched) > 0)
		next.watchdog = MIN(next.watchdog,
				    now + arch_ns_to_cycles(rt_watchdog_get(rt)));
	/* Still something running: look again when it may need it. */
	if (next.watchdog != UINT64_MAX)
		wd_timer_arm(rt, next.watchdog > now ? next.watchdog - now : 0);
}

void rt_watchdog_set(struct runtime *rt, uint64_t ns)
{
	atomic_store_explicit(&rt->watchdog_ns, ns, memory_order_relaxed);
}

uint64_t rt_watchdog_get(const struct runtime *rt)
{
	return atomic_load_explicit(&((struct runtime *)rt)->watchdog_ns,
				    memory_order_relaxed);
}

void rt_slot_batch(void *arg)
{
	struct rt_slot *slot = arg;
	struct runtime *rt = slot->rt;
	unsigned w = atomic_load_explicit(&rt->watcher, memory_order_relaxed);

	if (w == 0) {
		if (atomic_load_explicit(&rt->idle_count, memory_order_relaxed))
			rt_wake_any(rt);
		return;
	}
	/* The batch was taken at poll_clock; the watcher must look by the
	 * time it would need a kick. */
	if (w - 1 != slot->index &&
	    rd(&rt->watch_deadline) > slot->sched.poll_clock +
				      arch_ns_to_cycles(RT_STRAND_NS))
		rt_wake_slot(rt, w - 1);
}

/*
 * Kick vs (its poll `seq` holds a batch), wait a moment for it to hand
 * the batch back, and take what its queue has.  If the kick has not
 * landed yet (the handler runs when it does: an IPI, on the host that
 * thread's next relax), the handler wakes a sleeping core itself.
 */
static size_t kick_and_take(struct rt_core *core, struct rt_slot *vs,
			    uint64_t seq)
{
	uint64_t old = rd(&vs->kicked_seq), t0, limit;

	if (old != seq &&
	    atomic_compare_exchange_strong_explicit(&vs->kicked_seq, &old, seq,
						    memory_order_relaxed,
						    memory_order_relaxed)) {
		atomic_fetch_add_explicit(&vs->kicks, 1, memory_order_relaxed);
		arch_kick(vs->index);
		t0 = arch_cycles();
		limit = arch_ns_to_cycles(RT_KICK_WAIT_NS);
		while (sched_batch_left(&vs->sched) > 0 &&
		       rd(&vs->sched.poll_seq) == seq &&
		       arch_cycles() - t0 < limit)
			arch_cpu_relax();
	}
	return rt_steal_from(core, vs, RT_MAX_STEAL);
}

static void report(struct rt_slot *vs, uint64_t seq, uint64_t age,
		   bool exact)
{
	uint64_t id;
	const char *name;
	char ids[TASK_ID_STR];

	if (!sched_poll_describe(&vs->sched, seq, &id, &name))
		return;		/* it ended just now */
	atomic_fetch_add_explicit(&vs->reports, 1, memory_order_relaxed);
	log_warn("watchdog: cpu%u has been polling task %s (id %s) for %s%llu ms "
		 "(threshold %llu ms)", vs->index, name ? name : "?",
		 task_id_str(id, ids), exact ? "" : "at least ",
		 (unsigned long long)(arch_cycles_to_ns(age) / NS_PER_MS),
		 (unsigned long long)(rt_watchdog_get(vs->rt) / NS_PER_MS));
	arch_print_remote_backtrace(vs->index);
}

/*
 * A timed poll past the threshold is noted at its first sighting and
 * reported if it is still the same poll RT_WATCHDOG_CONFIRM_NS later.  An
 * untimed poll's start is not known (`start` is its batch's, no later
 * than the poll's): in a batch older than the threshold it is timed from
 * its first sighting instead, and reported if it is still running the
 * threshold (and at least the confirmation) later: never early, up to a
 * look's interval late, "at least" that long.  Younger batches are
 * sorted out before any store (a core about to sleep looks at every
 * other).
 */
static void watchdog_look(struct rt_slot *vs, uint64_t seq, uint64_t start,
			  bool exact, uint64_t now, uint64_t wd,
			  uint64_t *next)
{
	uint64_t confirm = arch_ns_to_cycles(RT_WATCHDOG_CONFIRM_NS);
	uint64_t wait = exact ? confirm : MAX(wd, confirm);
	uint64_t old, at;

	if (now - start < wd) {
		*next = MIN(*next, start + wd);
		return;
	}
	if (rd(&vs->reported_seq) == seq)
		return;
	if (rd(&vs->watch_seq) != seq) {
		/* First sighting (past the threshold, if timed). */
		atomic_store_explicit(&vs->watch_at, now, memory_order_relaxed);
		atomic_store_explicit(&vs->watch_seq, seq, memory_order_relaxed);
		*next = MIN(*next, now + wait);
		return;
	}
	at = rd(&vs->watch_at);
	if (now - at < wait && at <= now) {
		*next = MIN(*next, at + wait);
		return;
	}
	old = rd(&vs->reported_seq);
	if (old == seq ||
	    !atomic_compare_exchange_strong_explicit(&vs->reported_seq, &old, seq,
						     memory_order_relaxed,
						     memory_order_relaxed))
		return;
	report(vs, seq, exact ? now - start : at <= now ? now - at : 0, exact);
}

size_t rt_watch_at(struct rt_core *core, uint64_t now,
		   struct rt_watch_next *next)
{
	struct runtime *rt = core->rt;
	unsigned n = rt_claimed(rt), me = core->slot->index;
	uint64_t strand = arch_ns_to_cycles(RT_STRAND_NS);
	uint64_t wd_ns = rt_watchdog_get(rt);
	uint64_t wd = wd_ns ? arch_ns_to_cycles(wd_ns) : 0;
	size_t got = 0;

	next->strand = next->watchdog = UINT64_MAX;
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *vs = &rt->slots[i];
		uint64_t seq, start;
		bool exact;

		/* acquire: pairs with the release store in rt_core_new(). */
		if (i == me || !atomic_load_explicit(&vs->initialised,
						     memory_order_acquire))
			continue;
		if (!sched_poll_in_progress(&vs->sched, &seq, &start, &exact)) {
			/* Between polls: it may start a long one any time. */
			if (wd && atomic_load_explicit(&vs->state,
						       memory_order_relaxed) ==
				  RT_CORE_RUNNING)
				next->watchdog = MIN(next->watchdog, now + wd);
			continue;
		}
		if (start > now)
			start = now;	/* another core's counter, a hair ahead */
		/* Its batch, its LIFO slot or its queue wait behind the poll
		 * (a thief leaves a queue of RT_STEAL_MIN - 1 or fewer until
		 * the poll has run RT_STRAND_NS, then takes half of it). */
		if (sched_batch_left(&vs->sched) > 0 ||
		    sched_queued(&vs->sched) > 0) {
			if (now - start >= strand)
				got += kick_and_take(core, vs, seq);
			else
				next->strand = MIN(next->strand, start + strand);
		}
		if (wd)
			watchdog_look(vs, seq, start, exact, now, wd,
				      &next->watchdog);
	}
	return got;
}

size_t rt_watch(struct rt_core *core)
{
	struct rt_watch_next next;

	return rt_watch_at(core, arch_cycles(), &next);
}

uint64_t rt_watch_before_idle(struct rt_core *core, size_t *got)
{
	struct runtime *rt = core->rt;
	unsigned me = core->slot->index + 1, w;
	struct rt_watch_next next;

	*got = rt_watch_at(core, arch_cycles(), &next);
	if (*got || next.strand == UINT64_MAX)
		return UINT64_MAX;
	w = atomic_load_explicit(&rt->watcher, memory_order_relaxed);
	/* Take the role if it is free, or if the watcher would look later
	 * than we must (it keeps sleeping to its own deadline). */
	if (w != me && w != 0 && rd(&rt->watch_deadline) <= next.strand)
		return UINT64_MAX;
	if (!atomic_compare_exchange_strong_explicit(&rt->watcher, &w, me,
						     memory_order_relaxed,
						     memory_order_relaxed))
		return UINT64_MAX;
	atomic_store_explicit(&rt->watch_deadline, next.strand,
			      memory_order_relaxed);
	return next.strand;
}

void rt_watch_woke(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	unsigned me = core->slot->index + 1;

	if (atomic_load_explicit(&rt->watcher, memory_order_relaxed) == me &&
	    atomic_compare_exchange_strong_explicit(&rt->watcher, &me, 0,
						    memory_order_relaxed,
						    memory_order_relaxed))
		atomic_store_explicit(&rt->watch_deadline, UINT64_MAX,
				      memory_order_relaxed);
}

void rt_watch_running(struct rt_core *core)
{
	struct runtime *rt = core->rt;
	uint64_t wd = rt_watchdog_get(rt);

	/* relaxed: armed already (the usual case) is one load. */
	if (wd == 0 || atomic_load_explicit(&rt->wd_timer_on, memory_order_relaxed))
		return;
	wd_timer_arm(rt, arch_ns_to_cycles(wd));
	/* The sleepers armed their clocks before this deadline existed, and
	 * this core may be about to poll for good: wake one to arm for it. */
	if (atomic_load_explicit(&rt->idle_count, memory_order_relaxed))
		rt_wake_any(rt);
}
