/*
 * model.h - what a scenario of the model checker sees.
 *
 * A scenario (tests/model/scenario_*.c) sets up the objects of one
 * protocol with hyphae's real code, spawns 2-4 model threads that race on
 * it, and states the properties that must hold at the end (check) and
 * after every step (invariant).  The checker (tests/model/engine.c) then
 * runs it again and again, each time from a fresh setup, under a different
 * schedule: every atomic operation, lock, wakeup and yield of the code
 * under test is a point where it may switch threads or drain a store
 * buffer.  A failure (a model_fail(), a panic or kassert of the real code,
 * a data race, a use after free, a deadlock or a livelock) stops the run
 * and prints the schedule as steps plus a string that replays it.
 *
 * Scenario code is compiled like the code under test (atomics through the
 * checker, plain accesses checked for races), so it must follow the same
 * rules: shared data is published by atomics or locks, and a thread that
 * waits for another spins with model_yield().
 */
#ifndef HYPHAE_MODEL_H
#define HYPHAE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

/* Model threads per scenario (main, which runs setup and check, is extra). */
#define MODEL_MAX_THREADS	6

/* Memory models an exploration runs under. */
enum model_mode {
	MODEL_SC = 1 << 0,	/* sequential consistency: one memory */
	MODEL_TSO = 1 << 1,	/* x86-TSO: a FIFO store buffer per thread */
};

/*
 * A bug the checker must find: one change to what the code under test
 * does at one call site, applied by the checker at run time (the sources
 * stay as they are).  The site is the line of `file` that contains `text`
 * (exactly one line must; `func` narrows it down when the text appears in
 * several functions).
 */
enum model_mut_kind {
	MUT_WEAKEN,	/* the operation (or fence) uses memory order
			 * `order` instead */
	MUT_SKIP,	/* a store or RMW is not performed (an RMW returns
			 * the current value) */
	MUT_SPLIT,	/* an RMW or CAS becomes a load and a separate store
			 * (a lost-update window between them) */
	MUT_FORCE,	/* a load, RMW or CAS returns `value` (the RMW is
			 * still performed; a CAS reports `value` != 0) */
	MUT_DEFER,	/* a store or RMW is postponed until the thread's next
			 * operation on the same object or lock operation, or
			 * until it sleeps, yields or ends (operations swapped) */
	MUT_NOLOCK,	/* a spin_lock (and its matching unlock) is elided */
};

struct model_mutation {
	const char *name;
	const char *what;		/* one line: the bug it plants */
	enum model_mut_kind kind;
	const char *file;		/* e.g. "sched/mpsc.h" */
	const char *text;		/* unique text of the site's line */
	const char *func;		/* NULL, or the enclosing function */
	int order;			/* MUT_WEAKEN: the new memory_order */
	uint64_t value;			/* MUT_FORCE */
	unsigned modes;			/* modes to run it in; 0: the scenario's */
};

struct model_scenario {
	const char *name;
	const char *what;		/* one line for the listing */
	/* Fresh state, objects named and tracked, threads spawned. */
	void (*setup)(void);
	/* After every thread ended (buffers drained): final properties. */
	void (*check)(void);
	/* NULL, or properties that hold after every step (reads only). */
	void (*invariant)(void);
	/* NULL, or a better message when every thread is blocked. */
	void (*stuck)(void);
	unsigned modes;			/* MODEL_SC | MODEL_TSO */
	/* Why the scenario does not run under TSO (modes lacks it). */
	const char *why_no_tso;
	/* 0, or the most DFS schedules per memory model (a search too big
	 * for its bound stops there and says so). */
	unsigned long max_dfs;
	const struct model_mutation *mutations;
	unsigned n_mutations;
};

/* ---- threads ------------------------------------------------------------ */

/* Create a model thread running fn(arg); setup only.  Returns its id (1..). */
int model_spawn(const char *name, void (*fn)(void *arg), void *arg);

/*
 * During setup: make the arch hooks (arch_cpu_local, arch_cpu_bind, ...)
 * act for thread `tid` (0: main), so setup can bind a core's slot on the
 * thread that will run it.
 */
void model_setup_as(int tid);

/* A spinning thread lets the others run (arch_cpu_relax does the same). */
void model_yield(void);

/* True if every thread other than the caller has ended and every store
 * it made is visible (its store buffer has drained). */
bool model_others_done(void);

/* True if thread `tid` has ended and every store it made is visible (or
 * is no thread of this schedule). */
bool model_ended(int tid);

/* True if every store thread `tid` made is visible (its buffer is empty). */
bool model_drained(int tid);

/*
 * True if thread `tid` spins in model_yield() (or arch_cpu_relax()) and
 * nothing could have changed what it looks at: no store became visible
 * since it yielded, and its own buffer is empty.
 */
bool model_spinning(int tid);

/* The calling thread's id (0: main). */
int model_self(void);

/* True if thread `tid` sleeps in arch_wait_for_interrupt(). */
bool model_asleep(int tid);

/* ---- failures ----------------------------------------------------------- */

/* Stop this schedule as a failure: the message, the steps, the replay. */
_Noreturn void model_fail(const char *fmt, ...) __printf(1, 2);

#define model_check(cond, ...)						\
	((cond) ? (void)0 : model_fail(__VA_ARGS__))

/* ---- memory ------------------------------------------------------------- */

/*
 * Check the plain accesses to [p, p + size) for data races (an access not
 * ordered by happens-before after a conflicting one of another thread) and
 * call it `name` in traces.  Setup only.
 */
void model_track(void *p, size_t size, const char *name);

/* Only a name for traces (a field of a tracked object, a static). */
void model_name(const void *p, size_t size, const char *name);

/*
 * End the life of the tracked object at `p` (its deallocation): checked as
 * a write of every byte, and any later access is a use after free; freeing
 * it twice fails.
 */
void model_free(void *p);

/*
 * Bookkeeping invisible to the schedule: add `d` to *p with no scheduling
 * point and no race check (counts kept by wakers, polls).
 */
void model_ghost_add(long *p, long d);

#endif /* HYPHAE_MODEL_H */
