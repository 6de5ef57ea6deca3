/*
 * rt.h - the runtime: one scheduler per core, a global injector, a global
 * timer, work stealing, and idle cores that sleep until woken.
 *
 * A runtime holds a static array of MAX_CORES slots.  A core joins by
 * claiming the next slot with an atomic counter (rt_core_new); the slot's
 * scheduler is initialised once, by its claimer.  Each core then runs
 * the loop of docs/DESIGN.md (rt_core_run): tick its own scheduler, turn
 * the global timer, steal when dry (injector first, then random peers
 * drawn with its xoroshiro128++), and sleep in arch_wait_for_interrupt()
 * when nothing is left.  A core marks itself in the idle bitmap before it
 * sleeps; whoever makes work runnable for it (or pushes into the injector
 * while any core sleeps) clears the bit and sends one arch_wake(): one
 * wakeup per sleep, however many tasks arrive.
 *
 * Cores also watch each other (watch.c): a long poll that holds tasks of
 * its batch is kicked so another core runs them, and the stuck-poll
 * watchdog reports a poll past its threshold.  dump.c prints it all.
 *
 * The kernel has one runtime (rt_global); host tests make as many as they
 * like, each a plain struct.  Reference: Mycelium src/rt.rs (Core,
 * try_steal), maitake's scheduler and steal modules.
 */
#ifndef HYPHAE_RT_RT_H
#define HYPHAE_RT_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"
#include "lib/random.h"
#include "sched/scheduler.h"
#include "timer/timer.h"

#define RT_IDLE_WORDS		(MAX_CORES / 64)
/* Most tasks one steal moves (from the injector or from a peer). */
#define RT_MAX_STEAL		256
/*
 * A thief takes from a peer's queue only when it holds more than two
 * of a tick's batches (the owner starts SCHED_TICK_BATCH of them at each
 * hold of its queue, up to four a tick), or when the poll in front of it
 * has run RT_STRAND_NS.  Moving a few short tasks costs more than it
 * saves: each brings its lines to the thief's cache, and they were about
 * to run where they were.  Tasks that take turns at a lock do not gain
 * from a second core at all, only bounce the lock's line between them:
 * rwlock_read_mostly at 2 workers, where half of all steals had moved one
 * task, took 0.82 of the rule before's time with more than one batch as
 * the bound, and with two batches 0.48 of that (4 workers: 0.62;
 * docs/PERFORMANCE.md).  Long
 * tasks still spread: a batch behind a long poll is kicked back
 * (watch.c), and a queue behind one is taken by this rule's exception.
 */
#define RT_STEAL_MIN		(2 * SCHED_TICK_BATCH + 1)
/* Random peers tried per try_steal before giving up. */
#define RT_STEAL_ATTEMPTS	16
/*
 * A core with local work still looks at the injector every this many
 * ticks (a relaxed load of its count; a steal only when it is non-zero),
 * so tasks injected while every core is busy start within about one tick.
 * Longer intervals left injected tasks waiting behind busy cores whose
 * tasks run long per poll (spawn_many_remote_busy1, docs/PERFORMANCE.md).
 */
#define RT_INJECTOR_INTERVAL	1
/*
 * What such a busy look takes: up to RT_MAX_STEAL while the core has
 * fewer than RT_BUSY_LOW_WATER tasks queued, else RT_BUSY_STEAL (enough
 * that injected tasks keep starting, without a core that already has
 * plenty pulling hundreds more every tick).
 */
#define RT_BUSY_LOW_WATER	SCHED_TICK_BUDGET
#define RT_BUSY_STEAL		4
/*
 * A poll that has run this long while tasks of its tick's batch wait
 * behind it gets kicked (watch.c): the batch goes back to its queue and a
 * core that looked for work takes it.  An idle core watches such batches.
 */
#define RT_STRAND_NS		(100 * 1000ull)
/* The stuck-poll watchdog's default threshold, and how long after a poll
 * first passes it the same poll must still run to be reported (so a core
 * the host descheduled for a moment, mid-poll, is not). */
#define RT_WATCHDOG_DEFAULT_NS	(100 * 1000 * 1000ull)
#define RT_WATCHDOG_CONFIRM_NS	(10 * 1000 * 1000ull)
/*
 * A core that still has tasks queued after a tick turns the timer only
 * when this long has passed since its last turn; one that runs dry turns
 * at once.  The turn's clock read was the largest cost of a short tick
 * on the host (CLOCK_MONOTONIC, 27 ns here: one lock handoff of
 * mutex_handoff is one tick).  So a timer that falls due while every core
 * is busy fires up to this plus one tick late, as tokio's event_interval
 * lets it.
 */
#define RT_TURN_BUSY_NS		(20 * 1000ull)
/* How often a busy core looks at the others (watchdog, batches). */
#define RT_WATCH_BUSY_NS	(10 * 1000 * 1000ull)
/* How long a kicker waits for the kicked core to hand its batch back. */
#define RT_KICK_WAIT_NS		(200 * 1000ull)

enum rt_core_state {
	RT_CORE_UNCLAIMED = 0,
	RT_CORE_RUNNING,	/* in its loop, ticking or stealing */
	RT_CORE_IDLE,		/* asleep in arch_wait_for_interrupt() */
	RT_CORE_STOPPED,	/* left its loop; its queue is stolen by others */
};

/*
 * One slot of the array.  The scheduler is touched by any core (wakes,
 * thieves); the counters are written by the owning core (relaxed atomics
 * so the `rt` dump may read them from anywhere).
 */
struct rt_slot {
	struct scheduler sched;
	struct runtime *rt;		/* constant once claimed */
	unsigned index;			/* constant */
	uint32_t hwid;			/* APIC id of the owning core */
	_Atomic int state;		/* enum rt_core_state */
	atomic_bool initialised;	/* release: publishes sched; see rt_core_new */

	/* Owner writes, anyone reads (relaxed): for the dump. */
	/* Turns of the wheel (only while a timer is pending). */
	atomic_uint_least64_t timer_turns;
	atomic_uint_least64_t idle_ticks;	/* clock ticks spent asleep */
	atomic_uint_least64_t wakeups;		/* arch_wake()s sent to this core */
	atomic_uint_least64_t from_injector;	/* tasks it took from the injector */
	atomic_uint_least64_t run_ticks_start;	/* clock at rt_core_run() entry */
	atomic_uint_least64_t idle_since;	/* clock when it last slept; 0 awake */

	/* Written by the cores watching this one (watch.c), relaxed but for
	 * the CAS that claims a report. */
	atomic_uint_least64_t kicked_seq;	/* poll last kicked */
	atomic_uint_least64_t watch_seq;	/* poll seen past the watchdog */
	atomic_uint_least64_t watch_at;		/* ... when (cycles) */
	atomic_uint_least64_t reported_seq;	/* poll last reported */
	atomic_uint_least64_t kicks;		/* kicks sent to this core */
	atomic_uint_least64_t reports;		/* watchdog reports about it */
};

struct runtime {
	struct rt_slot slots[MAX_CORES];
	/* Next slot to claim; may exceed MAX_CORES (the claim then panics). */
	atomic_uint next_slot;
	/* Slots whose scheduler is initialised (peers are drawn below
	 * next_slot and checked for `initialised`). */
	atomic_uint active;
	/* Bit i set: slot i is (about to be) asleep and needs arch_wake(). */
	atomic_uint_least64_t idle[RT_IDLE_WORDS];
	atomic_uint idle_count;
	/* Cores inside rt_core_try_steal(): while one is looking for work,
	 * new work does not wake another (tokio's "searching" workers). */
	atomic_uint searching;
	/* Where rt_wake_any() starts looking, so wakeups rotate over cores. */
	atomic_uint wake_cursor;
	/* Slots that left their loop; while non-zero, cores looking for work
	 * (and cores about to sleep) check them all, not just random picks. */
	atomic_uint stopped;
	/* The idle core that sleeps watching the others' batches
	 * (watch.c): slot + 1, or 0 for none; when it wakes (cycles). */
	atomic_uint watcher;
	atomic_uint_least64_t watch_deadline;
	/* The watchdog's entry in `timer` (watch.c), and whether it is
	 * armed. */
	struct timer_entry wd_entry;
	atomic_bool wd_timer_on;
	/* The watchdog's threshold in ns (0: off): rt_watchdog_set(). */
	atomic_uint_least64_t watchdog_ns;
	struct injector injector;
	struct timer timer;
	const struct clock *clock;
};

/*
 * A core's handle on its slot, kept by the loop that runs it (on its
 * stack): the per-core PRNG and the running flag.
 */
struct rt_core {
	struct rt_slot *slot;
	struct runtime *rt;
	struct xoroshiro128pp rng;	/* owner only */
	atomic_bool running;		/* cleared by rt_core_stop(), any core */
	uint64_t next_watch;		/* owner: next look at the others (cycles) */
	uint64_t last_turn;		/* owner: its last timer turn (cycles) */
	uint64_t turn_gap;		/* RT_TURN_BUSY_NS in cycles */
};

/*
 * Initialise `rt` on `clock`: an empty slot array, the injector and the
 * timer.  Logs the clock's name, tick and longest duration.  Once per
 * runtime, before any core joins.
 */
void rt_init(struct runtime *rt, const struct clock *clock);

/*
 * Make `rt` the global runtime (rt_spawn's target from interrupt handlers
 * and boot code) and its timer the global timer.  Returns -EBUSY if a
 * global runtime is already set.  Boot core, once.
 */
int __must_check rt_set_global(struct runtime *rt);
struct runtime *rt_global(void);

/*
 * Claim the next slot of `rt` for the calling core and bind it
 * (arch_cpu_bind, arch_set_cpu_local).  The 513th claim panics.  Each core,
 * once, before rt_core_run().
 */
void rt_core_new(struct rt_core *core, struct runtime *rt);

/* One pass: tick the core's scheduler, then turn the timer (if it ran dry
 * or RT_TURN_BUSY_NS have passed since the last turn).  Owner only. */
struct sched_tick rt_core_tick(struct rt_core *core);

/*
 * Steal work for this core: the injector, then up to RT_STEAL_ATTEMPTS
 * random peers, then the injector again.  Returns tasks moved.  Owner only.
 */
size_t rt_core_try_steal(struct rt_core *core);

/*
 * The main loop (docs/DESIGN.md): returns once rt_core_stop() was called
 * and the core has run out of local work.  Owner only.
 */
void rt_core_run(struct rt_core *core);

/* Ask `core` to leave rt_core_run() (and wake it if asleep).  Any core. */
void rt_core_stop(struct rt_core *core);
bool rt_core_is_running(const struct rt_core *core);

/*
 * The calling core's struct rt_core, or NULL if this core runs no runtime
 * loop (boot code before rt_core_new, interrupt-only contexts).
 */
struct rt_core *rt_current_core(void);

/*
 * Spawn onto the current core's scheduler when the caller runs a loop of
 * `rt`, else into the injector (boot code, foreign threads); the notify
 * hooks wake a sleeping core.  Arguments and result as sched_spawn() /
 * sched_spawn_allocated(): rt_spawn allocates, so it is for task context;
 * an interrupt handler uses rt_spawn_allocated with storage it owns.
 */
int __must_check rt_spawn_at(const struct task_site *site,
			     struct runtime *rt, const struct task_vtable *vt,
			     const void *init, size_t size,
			     struct join_handle *jh);
void rt_spawn_allocated_at(const struct task_site *site, struct runtime *rt,
			   struct task *t, const struct task_vtable *vt,
			   struct join_handle *jh);
/* The spawn macros record this line; _named gives the task a name (a
 * static string) other than its vtable's. */
#define rt_spawn(...)		rt_spawn_at(TASK_SITE(NULL), __VA_ARGS__)
#define rt_spawn_named(rt, name, ...) \
	rt_spawn_at(TASK_SITE(name), (rt), __VA_ARGS__)
#define rt_spawn_allocated(...)	rt_spawn_allocated_at(TASK_SITE(NULL), __VA_ARGS__)

/*
 * Spawn a heap task pinned to slot `core`'s scheduler: it runs only there
 * (stealing never moves it; a stopped core's are still taken).  0,
 * -EINVAL (no such core) or -ENOMEM.  Task context.
 */
int __must_check rt_spawn_on_at(const struct task_site *site,
				struct runtime *rt, unsigned core,
				const struct task_vtable *vt, const void *init,
				size_t size, struct join_handle *jh);
#define rt_spawn_on(...)	rt_spawn_on_at(TASK_SITE(NULL), __VA_ARGS__)

/*
 * The stuck-poll watchdog: a poll that runs longer than `ns` is reported
 * once, by another core: core, task name and id, how long so far, and
 * the stuck core's backtrace.  0 turns it off.  Any core.
 */
void rt_watchdog_set(struct runtime *rt, uint64_t ns);
uint64_t rt_watchdog_get(const struct runtime *rt);	/* ns; 0: off */

/*
 * Look at the other cores now (the core loop does it by itself): report
 * polls past the watchdog's threshold, kick a core whose long poll holds
 * tasks of its batch and take them.  Returns the tasks taken.  Owner of
 * `core` only, task or loop context.
 */
size_t rt_watch(struct rt_core *core);

/* When to look at the others again (cycles; UINT64_MAX: no need). */
struct rt_watch_next {
	uint64_t strand;	/* a batch behind a poll would need a kick */
	uint64_t watchdog;	/* a poll would pass (or confirm) the threshold */
};

/* rt_watch() at `now` (arch_cycles()), saying when to look again. */
size_t rt_watch_at(struct rt_core *core, uint64_t now,
		   struct rt_watch_next *next);

/* `rt -h`: every core's poll-time histogram, as a table. */
void rt_dump_polls(struct runtime *rt, void (*out)(const char *s, size_t n));

/* Number of claimed and initialised slots. */
unsigned rt_active_cores(const struct runtime *rt);

/*
 * Which cores are inside a tick now: marks[i] for each of the first
 * min(active, max) slots (the returned count), the caller's own core
 * marked as not (0).  rt_ticks_passed() is then true once every core
 * that was inside a tick has left it: each poll running at the marks has
 * ended, its trace event and its completion with it (sched_tick_seq).
 * Any core; `trace COMMAND` waits so before it turns tracing off.
 */
unsigned rt_tick_marks(const struct runtime *rt, uint64_t *marks,
		       unsigned max);
bool rt_ticks_passed(const struct runtime *rt, const uint64_t *marks,
		     unsigned n);

/*
 * Print the runtime (the shell's `rt`): active cores, the injector, one row
 * per core, the timer.  Any core, task context.
 */
void rt_dump(struct runtime *rt, void (*out)(const char *s, size_t n));

/*
 * Heap bytes held as free task storage: every core's task cache plus the
 * shared depot (sched/task_cache.h).  Live heap = heap in use - this.
 */
size_t rt_task_cache_bytes(struct runtime *rt);

#endif /* HYPHAE_RT_RT_H */
