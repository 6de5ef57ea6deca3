/*
 * checker.h - the model checker's internals, shared by its files.
 *
 *   ctx.c       coroutine contexts (a small x86_64 switch; ucontext else)
 *   engine.c    model threads, scheduling points, the schedule search
 *               (preemption-bounded DFS, PCT, replay) and failures
 *   memory.c    atomic operations under SC or x86-TSO, happens-before
 *               (vector clocks), mutations applied to them
 *   locks.c     the checker's spin locks
 *   shadow.c    plain accesses (the compiler's ThreadSanitizer hooks):
 *               races, tracked objects, use after free, the model heap
 *   mutation.c  finding a mutation's site in the sources
 *   trace.c     the steps of a schedule, printed readably
 *   arch_model.c  include/arch.h, kmalloc and panic for the model build
 *   main.c      the command line, the scenario table, the report
 *
 * Nothing here is compiled with tests/model/atomics.h or instrumented: the
 * checker's own memory accesses are invisible to itself.
 */
#ifndef HYPHAE_MODEL_CHECKER_H
#define HYPHAE_MODEL_CHECKER_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/model/hooks.h"
#include "tests/model/model.h"

/* Main (index 0) plus the model threads. */
#define MODEL_NT		(MODEL_MAX_THREADS + 1)
/* Store buffer entries per thread (a real x86 core has ~50). */
#define SB_MAX			32
/* Options at one scheduling point: each thread, each store buffer. */
#define MAX_OPTS		(2 * MODEL_NT)
/* Steps one thread may take while others wait before it must yield. */
#define FAIR_LIMIT		500
/* Steps of one schedule before it is called a livelock. */
#define MAX_STEPS		40000

/* ---- contexts (ctx.c) ---------------------------------------------------- */

struct model_ctx {
	void *sp;		/* saved stack pointer (x86_64 switch) */
	void *uc;		/* ucontext_t, other machines */
};

void model_ctx_init(struct model_ctx *c, void *stack, size_t size,
		    void (*entry)(void));
void model_ctx_switch(struct model_ctx *from, struct model_ctx *to);

/* ---- vector clocks ----------------------------------------------------------- */

struct vclock {
	uint32_t c[MODEL_NT];
};

static inline void vc_clear(struct vclock *v)
{
	for (unsigned i = 0; i < MODEL_NT; i++)
		v->c[i] = 0;
}

static inline void vc_join(struct vclock *v, const struct vclock *w)
{
	for (unsigned i = 0; i < MODEL_NT; i++)
		if (w->c[i] > v->c[i])
			v->c[i] = w->c[i];
}

/* ---- threads ------------------------------------------------------------- */

enum thread_state {
	TS_UNUSED = 0,
	TS_RUNNABLE,
	TS_YIELDED,		/* spinning: waits until another thread steps */
	TS_BLOCKED_LOCK,	/* on a checker lock (block_on) */
	TS_BLOCKED_WFI,		/* in arch_wait_for_interrupt() */
	TS_DONE,
};

/* One store not yet visible to other threads (TSO). */
struct sb_entry {
	void *addr;
	uint64_t value;
	struct vclock sync;	/* release clock the store carries */
	struct model_site *site;
	uint8_t size;
};

/* A MUT_DEFER'd operation waiting to be performed. */
struct deferred {
	bool active;
	bool rmw;
	enum model_rmw op;
	void *obj;
	uint64_t value;
	size_t size;
	int order;
	struct model_site *site;
};

struct mthread {
	const char *name;
	void (*fn)(void *arg);
	void *arg;
	struct model_ctx ctx;
	void *stack;
	enum thread_state state;
	const void *block_on;
	unsigned run_len;	/* steps since it was last switched in */
	bool in_yield;		/* spinning: inside engine_yield() */
	unsigned long yield_epoch;	/* M.epoch when it yielded */

	/* happens-before */
	struct vclock clock;
	struct vclock acq_pending;	/* joined by an acquire fence */
	struct vclock rel_fence;	/* clock at the last release fence */
	bool has_rel_fence;

	/* TSO store buffer, oldest first */
	struct sb_entry sb[SB_MAX];
	unsigned sb_len;

	/* arch hooks */
	void *cpu_local;
	void *cpu_sched;	/* arch_set_cpu_sched() */
	int core;		/* runtime slot bound, or -1 */
	bool irq_off;
	unsigned locks_held;	/* arch_lock_acquired(), the oneshot's claim */
	bool ipi_pending;	/* an arch_wake() taken with interrupts off */
	uint64_t timer_deadline;

	/* mutations */
	struct deferred deferred;
	const void *elided_lock;	/* MUT_NOLOCK: its unlock is elided too */

	/* PCT */
	int priority;
};

/* ---- the engine (engine.c) ------------------------------------------------ */

enum phase {
	PH_IDLE,
	PH_SETUP,		/* main builds the objects: operations are direct */
	PH_RUN,			/* model threads run: operations are steps */
	PH_FINAL,		/* main checks the end state: direct again */
};

enum strategy {
	STRAT_DFS,		/* every schedule within the preemption bound */
	STRAT_PCT,		/* random priorities with change points */
	STRAT_REPLAY,		/* a recorded step stream (engine_record) */
};

/* A scheduling point with more than one option. */
struct choice {
	uint8_t n;
	uint8_t chosen;
	uint8_t pre_before;	/* preemptions used before this point */
	uint32_t cost_mask;	/* bit k: option k is a preemption */
	uint8_t opt[MAX_OPTS];	/* thread id, or OPT_FLUSH | thread id */
};

#define OPT_FLUSH	0x80

struct model_engine {
	const struct model_scenario *scn;
	const struct model_mutation *mut;	/* active mutation, or NULL */
	unsigned mode;				/* MODEL_SC or MODEL_TSO */
	unsigned bound;				/* preemptions (DFS) */
	enum strategy strat;
	enum phase phase;
	int in_hook;				/* invariant/stuck running */

	struct mthread t[MODEL_NT];		/* [0] is main */
	unsigned nthreads;			/* model threads: 1..nthreads */
	unsigned cur;
	unsigned setup_as;
	jmp_buf main_jmp;

	/* this schedule */
	unsigned long steps;
	unsigned preemptions;
	struct choice *stack;
	unsigned depth, cap;
	unsigned follow;		/* DFS: entries below are replayed */
	uint8_t *rec;			/* the step stream (engine_record) */
	unsigned long rec_n, rec_cap;
	const uint8_t *replay;		/* STRAT_REPLAY: a recorded stream */
	unsigned long replay_n, replay_pos;
	bool failed;
	char msg[2048];
	uint64_t now;			/* the model clock */
	unsigned long epoch;		/* stores made visible (wake_spinners) */
	unsigned core_thread[64];	/* runtime slot -> thread id */

	/* the search */
	bool share_dirty;		/* a location became shared: restart */
	unsigned long max_steps_seen;
	unsigned long fair_yields;		/* forced yields, all runs */
	uint64_t rng;			/* PCT */
	unsigned long pct_change[4];
	unsigned pct_changes;
	bool verbose;
};

extern struct model_engine M;

static inline struct mthread *self(void)
{
	return &M.t[M.cur];
}

/* The thread arch hooks act for (setup may stand in for one). */
static inline struct mthread *arch_self(void)
{
	return M.phase == PH_SETUP ? &M.t[M.setup_as] : &M.t[M.cur];
}

/* True while operations are scheduled steps (not setup, check or hooks). */
static inline bool model_running(void)
{
	return M.phase == PH_RUN && !M.in_hook;
}

/* Before an operation: maybe switch threads or drain a buffer. */
void engine_point(bool shared);
/* After an operation: wake spinners, run the invariant. */
void engine_after_op(void);
/* The calling thread stops until engine_unblock(). */
void engine_block(enum thread_state why, const void *on);
void engine_unblock(struct mthread *t);
/* Append to the step stream: the thread taking the next step, or
 * OPT_FLUSH | thread for a drain of its buffer's oldest store. */
void engine_record(uint8_t what);
void engine_yield(void);
_Noreturn void engine_fail(void);

/* Run one schedule of M.scn from a fresh setup; false if it failed. */
bool engine_run_once(void);
/* DFS: move to the next schedule within the bound; false when done. */
bool engine_dfs_next(void);
void engine_reset_search(void);
/* Stacks for the model threads, once. */
void engine_init(void);

/* ---- trace (trace.c) ------------------------------------------------------- */

enum ev_kind {
	EV_LOAD, EV_STORE, EV_RMW, EV_CAS_OK, EV_CAS_FAIL, EV_INIT, EV_FENCE,
	EV_FLUSH, EV_LOCK, EV_LOCK_WAIT, EV_UNLOCK, EV_TRYLOCK_FAIL,
	EV_YIELD, EV_FAIR, EV_BLOCK, EV_WAKE, EV_WFI, EV_WFI_RET, EV_TIMER,
	EV_SWITCH, EV_EXIT, EV_NOTE,
};

/* Flags of an event. */
#define EVF_PREEMPT	(1u << 0)	/* switch away from a runnable thread */
#define EVF_MUTATED	(1u << 1)	/* a mutation changed this operation */
#define EVF_BUFFERED	(1u << 2)	/* went into the store buffer */
#define EVF_FROM_SB	(1u << 3)	/* load served by the own buffer */
#define EVF_SPLIT	(1u << 4)

struct trace_ev {
	uint8_t tid;
	uint8_t kind;
	uint8_t size;
	int8_t order;
	uint16_t flags;
	uint8_t rmw;		/* enum model_rmw for EV_RMW */
	const void *addr;
	uint64_t v1, v2;	/* read/expected, written/desired */
	struct model_site *site;
	const char *note;
};

void trace_reset(void);
void trace_add(const struct trace_ev *e);
void trace_print(void);
/* file:line function for a code address (addr2line), or "?". */
const char *trace_symbolize(const void *pc, char *buf, size_t n);
const char *order_name(int order);

/* ---- memory (memory.c) ------------------------------------------------------ */

/* What one run knows about an atomic location or lock word. */
struct loc {
	const void *addr;
	unsigned gen;
	uint8_t lock_owner;	/* thread holding the checker lock, or 0 */
	struct vclock sync;	/* the release clock of its latest store */
};

/* This run's record of `addr` (created empty). */
struct loc *loc_get(const void *addr);
/* The current thread read or wrote `addr` (the sharing tables). */
void share_note(const void *addr, bool write);
/* After a release: later events are not covered by what it published. */
void tick(struct mthread *t);
/* One event of the current thread into the trace. */
void trace_op(enum ev_kind kind, const void *addr, size_t size, int order,
	      uint64_t v1, uint64_t v2, struct model_site *site,
	      unsigned flags, const char *note);

void mem_reset_execution(void);
void mem_reset_search(void);
/* Is `addr` a location more than one thread touches, one writing? */
bool mem_shared(const void *addr);
/* List the shared locations and their scheduling points (--stats). */
void mem_print_shared(void);
/* Make the oldest entry of t's buffer visible. */
void sb_flush_one(struct mthread *t);
void sb_drain(struct mthread *t);
/* Flush leading entries no other thread could observe. */
void sb_flush_private(struct mthread *t);
/* A MUT_DEFER'd op of the caller, performed before it blocks or ends. */
void mem_run_deferred(void);

/* ---- shadow memory (shadow.c) ------------------------------------------ */

void shadow_reset_execution(void);
/* Check and record an access by the current thread. */
void shadow_access(const void *addr, size_t size, bool write, bool atomic,
		   const void *pc, struct model_site *site);
/* Fails if [addr, addr+size) lies in a freed object. */
void shadow_check_live(const void *addr, size_t size, struct model_site *site);
/* "name+off" for an address, or hex. */
const char *shadow_name(const void *addr, char *buf, size_t n);
/* A value that may be a pointer, for traces. */
const char *shadow_value(uint64_t v, size_t size, char *buf, size_t n);
void *shadow_alloc(size_t size, size_t align, bool zero);
void shadow_free(void *p, const void *pc);

/* ---- mutations (mutation.c) ------------------------------------------------ */

/* Activate `m` (NULL: none) for the next runs; exits if its site is gone. */
void mutation_activate(const struct model_mutation *m);
/* The active mutation if it applies at `site`, else NULL. */
const struct model_mutation *mutation_at(struct model_site *site);
/* How often the active mutation's site ran (for "not caught"). */
unsigned long mutation_hits(void);
const char *mutation_kind_name(enum model_mut_kind k);

/* ---- arch (arch_model.c) --------------------------------------------------- */

void arch_model_reset(void);
/* Every thread blocked: fire the earliest armed timer.  False if none. */
bool arch_model_fire_timer(void);

#endif /* HYPHAE_MODEL_CHECKER_H */
