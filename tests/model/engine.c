/*
 * engine.c - model threads, scheduling points and the schedule search.
 *
 * A schedule is run from scratch every time (stateless search, as CHESS
 * and loom do): the scenario's setup builds fresh objects, its threads
 * start as coroutines, and every operation the code under test makes on a
 * shared location calls engine_point() first.  There the engine lists
 * what may happen next - the current thread goes on, another runnable
 * thread takes over, or (TSO) one store buffer drains its oldest store -
 * and picks one:
 *
 *   DFS     every schedule with at most `bound` preemptions (switching
 *           away from a thread that could go on, or draining a buffer
 *           while it could), depth first; the choices are kept on a stack
 *           and the next run replays its prefix and takes the next option.
 *   PCT     random priorities with two change points (Burckhardt et al.,
 *           ASPLOS 2010): deep schedules the bound leaves out.
 *   replay  the step stream a failing run recorded (engine_record): who
 *           took each step, which buffer drained when.
 *
 * Locations only one thread touches (or that nobody writes) are no
 * scheduling points: an operation on them commutes with every other
 * thread's, so a preemption before it equals one after it.  Who touches
 * what is learnt from the runs themselves (memory.c); when a location
 * turns out to be shared after all, the DFS starts again with the larger
 * set, so the final pass has seen every preemption it must.
 *
 * Spinning: a thread that calls model_yield() or arch_cpu_relax() cannot
 * run again until another thread wrote something shared; a thread that
 * runs FAIR_LIMIT steps while others wait is made to yield (the fairness
 * every real machine gives); a schedule longer than MAX_STEPS is a
 * livelock.  When no thread can run, a store buffer drains, a pending
 * timer fires (time jumps), or the threads are deadlocked (a failure), or
 * all have ended.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "tests/model/checker.h"

#define STACK_SIZE	(256 * 1024)
#define GUARD_SIZE	4096

struct model_engine M;

static void schedule(void);

void engine_init(void)
{
	for (unsigned i = 1; i < MODEL_NT; i++) {
		char *s = mmap(NULL, STACK_SIZE + GUARD_SIZE,
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (s == MAP_FAILED) {
			perror("model: mmap");
			exit(2);
		}
		/* A guard page below each stack: an overflow faults. */
		mprotect(s, GUARD_SIZE, PROT_NONE);
		M.t[i].stack = s + GUARD_SIZE;
	}
	M.t[0].name = "main";
}

/* ---- threads ------------------------------------------------------------ */

static void ev(enum ev_kind kind, unsigned tid, unsigned flags,
	       const char *note)
{
	struct trace_ev e = { .tid = (uint8_t)tid, .kind = (uint8_t)kind,
			      .flags = (uint16_t)flags, .note = note,
			      .order = -1 };

	trace_add(&e);
}

static void switch_to(unsigned tid)
{
	unsigned from = M.cur;

	if (tid == from)
		return;
	M.cur = tid;
	M.t[tid].run_len = 0;
	model_ctx_switch(&M.t[from].ctx, &M.t[tid].ctx);
}

static _Noreturn void thread_exit(void)
{
	struct mthread *t = self();

	mem_run_deferred();
	/* Its buffered stores drain later, as scheduling choices. */
	t->state = TS_DONE;
	ev(EV_EXIT, M.cur, 0, NULL);
	schedule();
	abort();	/* a finished thread is never picked */
}

static void thread_entry(void)
{
	struct mthread *t = self();

	/* A replay's stream names this thread for the decision that started
	 * it; a thread resumed inside schedule() consumes that entry there. */
	if (M.strat == STRAT_REPLAY && M.replay_pos < M.replay_n &&
	    M.replay[M.replay_pos] == M.cur)
		M.replay_pos++;
	t->fn(t->arg);
	thread_exit();
}

int model_spawn(const char *name, void (*fn)(void *arg), void *arg)
{
	struct mthread *t;
	unsigned id;

	if (M.phase != PH_SETUP) {
		fprintf(stderr, "model_spawn: threads are spawned in setup\n");
		abort();
	}
	if (M.nthreads >= MODEL_MAX_THREADS) {
		fprintf(stderr, "model_spawn: more than %d threads\n",
			MODEL_MAX_THREADS);
		abort();
	}
	id = ++M.nthreads;
	t = &M.t[id];
	t->name = name;
	t->fn = fn;
	t->arg = arg;
	t->state = TS_RUNNABLE;
	/* Setup happens before everything the thread does. */
	t->clock = M.t[0].clock;
	t->clock.c[id] = 1;
	model_ctx_init(&t->ctx, t->stack, STACK_SIZE, thread_entry);
	return (int)id;
}

void model_setup_as(int tid)
{
	if (M.phase != PH_SETUP || tid < 0 || (unsigned)tid > M.nthreads) {
		fprintf(stderr, "model_setup_as: thread %d in phase %d\n",
			tid, M.phase);
		abort();
	}
	M.setup_as = (unsigned)tid;
}

bool model_others_done(void)
{
	for (unsigned i = 1; i <= M.nthreads; i++)
		if (i != M.cur && (M.t[i].state != TS_DONE || M.t[i].sb_len))
			return false;
	return true;
}

bool model_ended(int tid)
{
	return tid < 1 || (unsigned)tid > M.nthreads ||
	       (M.t[tid].state == TS_DONE && M.t[tid].sb_len == 0);
}

bool model_drained(int tid)
{
	return tid < 1 || (unsigned)tid > M.nthreads || M.t[tid].sb_len == 0;
}

bool model_spinning(int tid)
{
	return tid >= 1 && (unsigned)tid <= M.nthreads && M.t[tid].in_yield &&
	       M.t[tid].yield_epoch == M.epoch && M.t[tid].sb_len == 0;
}

int model_self(void)
{
	return (int)M.cur;
}

bool model_asleep(int tid)
{
	return tid >= 1 && (unsigned)tid <= M.nthreads &&
	       M.t[tid].state == TS_BLOCKED_WFI;
}

void model_ghost_add(long *p, long d)
{
	*p += d;
}

/* ---- failures ------------------------------------------------------------ */

_Noreturn void engine_fail(void)
{
	M.failed = true;
	if (M.cur == 0)
		longjmp(M.main_jmp, 1);
	switch_to(0);
	abort();	/* a failed schedule is never resumed */
}

void model_fail(const char *fmt, ...)
{
	va_list ap;

	if (M.phase == PH_IDLE) {
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
		abort();
	}
	if (!M.failed) {
		va_start(ap, fmt);
		vsnprintf(M.msg, sizeof(M.msg), fmt, ap);
		va_end(ap);
	}
	engine_fail();
}

/* ---- choosing ------------------------------------------------------------ */

static uint64_t rng_next(void)
{
	/* splitmix64: the PCT draws, seeded per schedule. */
	uint64_t z = (M.rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static unsigned pct_pick(const uint8_t *opt, unsigned n)
{
	unsigned best = n, flushes = 0;
	int prio = INT_MIN;

	for (unsigned k = 0; k < n; k++) {
		if (opt[k] & OPT_FLUSH)
			flushes++;
		else if (M.t[opt[k]].priority > prio) {
			prio = M.t[opt[k]].priority;
			best = k;
		}
	}
	/* A buffer drains at a random moment, one time in eight. */
	if (flushes && (best == n || rng_next() % 8 == 0)) {
		unsigned f = (unsigned)(rng_next() % flushes);

		for (unsigned k = 0; k < n; k++)
			if ((opt[k] & OPT_FLUSH) && f-- == 0)
				return k;
	}
	return best;
}

/* Record a point with n > 1 options and return the one to take. */
static unsigned pick(const uint8_t *opt, unsigned n, uint32_t cost)
{
	unsigned d = M.depth++;
	struct choice *ch;

	if (d >= M.cap) {
		M.cap = M.cap ? 2 * M.cap : 1024;
		M.stack = realloc(M.stack, M.cap * sizeof(*M.stack));
		if (M.stack == NULL)
			abort();
	}
	ch = &M.stack[d];
	if (M.strat == STRAT_DFS && d < M.follow) {
		if (ch->n != n || memcmp(ch->opt, opt, n) != 0) {
			fprintf(stderr, "model: the schedule is not deterministic "
				"(point %u: %u options, %u before)\n",
				d, n, ch->n);
			exit(2);
		}
	} else {
		ch->n = (uint8_t)n;
		memcpy(ch->opt, opt, n);
		ch->cost_mask = cost;
		ch->pre_before = (uint8_t)M.preemptions;
		ch->chosen = M.strat == STRAT_PCT ? (uint8_t)pct_pick(opt, n) : 0;
	}
	M.preemptions += (ch->cost_mask >> ch->chosen) & 1;
	return ch->chosen;
}

bool engine_dfs_next(void)
{
	while (M.depth > 0) {
		struct choice *ch = &M.stack[M.depth - 1];

		for (unsigned k = ch->chosen + 1u; k < ch->n; k++) {
			if (ch->pre_before + ((ch->cost_mask >> k) & 1) <= M.bound) {
				ch->chosen = (uint8_t)k;
				M.follow = M.depth;
				return true;
			}
		}
		M.depth--;
	}
	M.follow = 0;
	return false;
}

void engine_reset_search(void)
{
	M.depth = 0;
	M.follow = 0;
	M.share_dirty = false;
}

/* Spinners may look again: something they wait for may have changed. */
static bool revive_yielded(void)
{
	bool any = false;

	for (unsigned i = 1; i <= M.nthreads; i++) {
		if (M.t[i].state == TS_YIELDED) {
			M.t[i].state = TS_RUNNABLE;
			any = true;
		}
	}
	return any;
}

static const char *state_name(enum thread_state s)
{
	switch (s) {
	case TS_RUNNABLE:	return "runnable";
	case TS_YIELDED:	return "spinning";
	case TS_BLOCKED_LOCK:	return "blocked on a lock";
	case TS_BLOCKED_WFI:	return "asleep in arch_wait_for_interrupt()";
	case TS_DONE:		return "ended";
	default:		return "?";
	}
}

static bool all_done(void)
{
	for (unsigned i = 1; i <= M.nthreads; i++)
		if (M.t[i].state != TS_DONE)
			return false;
	return true;
}

/* Nobody can run: the end of the schedule, or a deadlock. */
static void end_or_stuck(void)
{
	char buf[1024], name[96];
	size_t len = 0;

	if (!all_done())
		goto stuck;
	if (M.cur != 0) {
		switch_to(0);
		abort();	/* the schedule is over */
	}
	return;
stuck:
	if (M.scn->stuck && !M.failed) {
		M.in_hook++;
		M.scn->stuck();
		M.in_hook--;
	}
	for (unsigned i = 1; i <= M.nthreads; i++) {
		struct mthread *t = &M.t[i];

		if (t->state == TS_DONE || len >= sizeof(buf) - 1)
			continue;
		len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s %s",
					len ? "; " : "", t->name,
					state_name(t->state));
		if (t->state == TS_BLOCKED_LOCK && len < sizeof(buf) - 1)
			len += (size_t)snprintf(buf + len, sizeof(buf) - len,
						" %s", shadow_name(t->block_on, name,
								   sizeof(name)));
	}
	model_fail("deadlock: no thread can run (%s)", buf);
}

/* ---- the step stream: what replays a schedule ------------------------------ */

/*
 * Every scheduling decision of a run - which thread takes the next step,
 * at every point, shared or not, and every store buffer drain the engine
 * chose or made - is appended to M.rec.  Replaying that stream needs no
 * knowledge of which locations are shared (the search learns that as it
 * goes), only the same code and scenario.
 */
void engine_record(uint8_t what)
{
	if (M.strat == STRAT_REPLAY)
		return;
	if (M.rec_n == M.rec_cap) {
		M.rec_cap = M.rec_cap ? 2 * M.rec_cap : 4096;
		M.rec = realloc(M.rec, M.rec_cap);
		if (M.rec == NULL)
			abort();
	}
	M.rec[M.rec_n++] = what;
}

static bool runnable(unsigned tid)
{
	return tid >= 1 && tid <= M.nthreads && M.t[tid].state == TS_RUNNABLE;
}

/* schedule() under STRAT_REPLAY: follow the recorded stream. */
static void schedule_replay(void)
{
	for (;;) {
		uint8_t x;

		while (M.replay_pos < M.replay_n &&
		       (M.replay[M.replay_pos] & OPT_FLUSH)) {
			unsigned u = M.replay[M.replay_pos++] & ~OPT_FLUSH;

			if (u < 1 || u > M.nthreads || M.t[u].sb_len == 0)
				model_fail("replay: step %lu drains an empty "
					   "buffer: the string does not fit",
					   M.steps);
			sb_flush_one(&M.t[u]);
			revive_yielded();
		}
		if (all_done()) {
			for (unsigned i = 1; i <= M.nthreads; i++)
				sb_drain(&M.t[i]);
			end_or_stuck();
			return;
		}
		if (M.replay_pos == M.replay_n) {
			/* Past the recorded end (a failure ended it): go on
			 * as the first runnable thread. */
			x = 0;
			for (unsigned i = 1; i <= M.nthreads && !x; i++)
				if (runnable(i))
					x = (uint8_t)i;
			if (!x) {
				if (revive_yielded() || arch_model_fire_timer())
					continue;
				end_or_stuck();
				return;
			}
		} else {
			x = M.replay[M.replay_pos];
		}
		if (x == M.cur && runnable(x)) {
			if (M.replay_pos < M.replay_n)
				M.replay_pos++;
			return;
		}
		if (!runnable(x)) {
			if (revive_yielded() || arch_model_fire_timer())
				continue;
			model_fail("replay: step %lu goes to %s, which cannot run: "
				   "the string does not fit", M.steps,
				   x <= M.nthreads && x ? M.t[x].name : "?");
		}
		if (M.cur != 0 && self()->state == TS_RUNNABLE)
			ev(EV_SWITCH, x, EVF_PREEMPT, NULL);
		switch_to(x);
		/* Main is resumed only when the schedule is over. */
		if (M.cur == 0)
			return;
	}
}

/*
 * The scheduling point: choose what happens next and do it.  The caller
 * set its own state first (runnable: it wants to go on; yielded, blocked
 * or done: it cannot).  Returns when the caller is picked to go on.
 */
static void schedule(void)
{
	struct mthread *c = self();
	bool wanted = M.cur != 0 && c->state == TS_RUNNABLE;

	if (M.strat == STRAT_REPLAY) {
		schedule_replay();
		return;
	}
	for (;;) {
		uint8_t opt[MAX_OPTS];
		uint32_t cost = 0;
		unsigned n = 0, k;

		if (all_done()) {
			/* Nobody is left to see the order: drain in thread
			 * order (the check reads memory). */
			for (unsigned i = 1; i <= M.nthreads; i++)
				sb_drain(&M.t[i]);
			end_or_stuck();
			return;
		}
		/* Stores nobody else could see drain at once (recorded). */
		if (M.mode == MODEL_TSO)
			for (unsigned i = 1; i <= M.nthreads; i++)
				sb_flush_private(&M.t[i]);
		if (M.cur != 0 && c->state == TS_RUNNABLE)
			opt[n++] = (uint8_t)M.cur;
		for (unsigned j = 1; j <= M.nthreads; j++) {
			unsigned i = (M.cur + j - 1) % M.nthreads + 1;

			if (i != M.cur && M.t[i].state == TS_RUNNABLE) {
				cost |= (uint32_t)wanted << n;
				opt[n++] = (uint8_t)i;
			}
		}
		/* A drain before it is forced always counts as a preemption
		 * (it is never the default): without that, every yield and
		 * exit would fan out over every buffer. */
		if (M.mode == MODEL_TSO) {
			for (unsigned i = 1; i <= M.nthreads; i++) {
				if (M.t[i].sb_len) {
					cost |= 1u << n;
					opt[n++] = (uint8_t)(OPT_FLUSH | i);
				}
			}
		}
		if (n == 0) {
			if (revive_yielded() || arch_model_fire_timer())
				continue;
			end_or_stuck();
			return;
		}
		k = n == 1 ? 0 : pick(opt, n, cost);
		engine_record(opt[k]);
		if (opt[k] & OPT_FLUSH) {
			sb_flush_one(&M.t[opt[k] & ~OPT_FLUSH]);
			revive_yielded();
			continue;
		}
		if (opt[k] != M.cur) {
			if ((cost >> k) & 1)
				ev(EV_SWITCH, opt[k], EVF_PREEMPT, NULL);
			switch_to(opt[k]);
		}
		return;
	}
}

static void pct_step(void)
{
	for (unsigned i = 0; i < M.pct_changes; i++)
		if (M.steps == M.pct_change[i])
			M.t[M.cur].priority = (int)i;	/* below every start */
}

static void pct_begin(void)
{
	unsigned long span = M.max_steps_seen ? M.max_steps_seen : 100;

	/* Distinct starting priorities, all above the change points'. */
	for (unsigned i = 1; i <= M.nthreads; i++)
		M.t[i].priority = 10 + (int)i;
	for (unsigned i = M.nthreads; i > 1; i--) {
		unsigned j = 1 + (unsigned)(rng_next() % i);
		int p = M.t[i].priority;

		M.t[i].priority = M.t[j].priority;
		M.t[j].priority = p;
	}
	M.pct_changes = 2;
	for (unsigned i = 0; i < M.pct_changes; i++)
		M.pct_change[i] = 1 + rng_next() % span;
}

static bool another_runnable(void)
{
	for (unsigned i = 1; i <= M.nthreads; i++)
		if (i != M.cur && M.t[i].state == TS_RUNNABLE)
			return true;
	return false;
}

void engine_point(bool shared)
{
	struct mthread *c = self();

	if (++M.steps > MAX_STEPS)
		model_fail("livelock: the schedule did not end within %d steps",
			   MAX_STEPS);
	if (M.strat == STRAT_PCT)
		pct_step();
	if (c->run_len++ >= FAIR_LIMIT && another_runnable()) {
		/* It ran long while others waited: a spin without a yield
		 * (real cores run side by side). */
		c->state = TS_YIELDED;
		M.fair_yields++;
		ev(EV_FAIR, M.cur, 0, NULL);
		schedule();
		return;
	}
	if (shared || M.strat == STRAT_REPLAY)
		schedule();
	else
		engine_record((uint8_t)M.cur);
}

void engine_after_op(void)
{
	if (M.scn->invariant) {
		M.in_hook++;
		M.scn->invariant();
		M.in_hook--;
	}
}

void engine_yield(void)
{
	if (++M.steps > MAX_STEPS)
		model_fail("livelock: the schedule did not end within %d steps",
			   MAX_STEPS);
	mem_run_deferred();
	self()->state = TS_YIELDED;
	self()->in_yield = true;
	self()->yield_epoch = M.epoch;
	ev(EV_YIELD, M.cur, 0, NULL);
	schedule();
	self()->in_yield = false;
}

void model_yield(void)
{
	if (model_running())
		engine_yield();
}

void engine_block(enum thread_state why, const void *on)
{
	struct mthread *c = self();

	c->state = why;
	c->block_on = on;
	schedule();
	c->block_on = NULL;
}

void engine_unblock(struct mthread *t)
{
	t->state = TS_RUNNABLE;
	t->block_on = NULL;
}

/* ---- one schedule --------------------------------------------------------- */

static void reset_threads(void)
{
	for (unsigned i = 0; i < MODEL_NT; i++) {
		struct mthread *t = &M.t[i];
		void *stack = t->stack;
		struct model_ctx ctx = t->ctx;
		const char *name = i == 0 ? "main" : NULL;

		memset(t, 0, sizeof(*t));
		t->stack = stack;
		t->ctx = ctx;
		t->name = name;
		t->core = -1;
		t->cpu_sched = NULL;
		t->timer_deadline = UINT64_MAX;
	}
	M.t[0].clock.c[0] = 1;
	M.nthreads = 0;
	M.cur = 0;
	M.setup_as = 0;
}

bool engine_run_once(void)
{
	reset_threads();
	M.steps = 0;
	M.preemptions = 0;
	M.depth = 0;
	M.rec_n = 0;
	M.replay_pos = 0;
	M.failed = false;
	M.msg[0] = '\0';
	M.now = 0;
	M.epoch = 0;
	M.in_hook = 0;
	mem_reset_execution();
	shadow_reset_execution();
	trace_reset();
	arch_model_reset();
	if (setjmp(M.main_jmp))
		goto out;
	M.phase = PH_SETUP;
	M.scn->setup();
	M.phase = PH_RUN;
	if (M.strat == STRAT_PCT)
		pct_begin();
	schedule();
	if (M.failed)
		goto out;
	M.phase = PH_FINAL;
	if (M.scn->check)
		M.scn->check();
out:
	M.phase = PH_IDLE;
	if (M.steps > M.max_steps_seen)
		M.max_steps_seen = M.steps;
	return !M.failed;
}
