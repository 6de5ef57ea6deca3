/*
 * bench_rt.c - the runtime on WORKERS host cores (pthreads; env WORKERS,
 * default 2) running hyphae's versions of the workloads of the tokio peer
 * (bench/peers/tokio/src/main.rs, after tokio's
 * benches/rt_multi_threaded.rs): spawn_many_local, spawn_many_remote_idle,
 * spawn_many_remote_busy1/2, yield_many, ping_pong, chained_spawn,
 * sleep_10k_x_1ms, and the tokio::sync workloads of rt_sync.c.  The main
 * thread plays tokio's block_on: it spawns from outside the runtime (into
 * the injector) and waits on a futex parker that is also a waker, so it
 * can join_poll() like an async block.
 *
 * Each workload runs 3 warm-up iterations, then ITERS timed ones (tokio's
 * counts, scaled by env BENCH_RT_SCALE; fewer, but at least MIN_ITERS, once
 * TIME_BUDGET_MS is spent), and prints the median iteration as
 * `NAME  NS ns/iter`, the peer's format.  busy2 also prints the largest
 * delay between an injected spawn and its first poll.  A workload that does
 * not finish within TIMEOUT_S prints `# NAME DNF` and is released.  Env
 * BENCH_RT_ONLY=substring runs only the matching workloads (for perf);
 * BENCH_RT_PHASES=1 also prints, for the spawn_many_remote workloads, the
 * mean time of the spawn and join halves of an iteration and how often
 * the main thread parked per iteration (a `#` line).  BENCH_RT_TRACE=FILE
 * turns the per-core trace on (lib/trace.h) for the whole run and writes
 * it to FILE as Chrome trace-event JSON at the end: each core's ring
 * keeps its last TRACE_RING_EVENTS events, so narrow the run with
 * BENCH_RT_ONLY to see one workload.  BENCH_RT_DUMP=1 prints the `rt`
 * tables (rt_dump) at the end: polls, steals and pulls per core.
 * BENCH_RT_TIMING=1 turns poll timing on (sched_poll_timing_set; off by
 * default, as in any host runtime; the kernel turns it on).
 */
#define _GNU_SOURCE
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "arch.h"
#include "clock.h"
#include "kmalloc.h"
#include "lib/trace.h"
#include "lib/trace_json.h"
#include "rt/rt.h"
#include "sched/sync.h"
#include "sched/task.h"
#include "timer/sleep.h"
#include "tests/support/host_clock.h"
#include "tests/support/rt_harness.h"
#include "bench/bench_rt.h"

#define DEFAULT_WORKERS		2
#define WARMUP_ITERS		3
#define NUM_SPAWN		10000
#define BUSY2_SPAWN		1000
#define STALL_NS		10000ull	/* tokio's STALL_DUR: 10 us */
#define YIELD_TASKS		200
#define NUM_YIELD		1000
#define NUM_PINGS		1000
#define CHAIN_DEPTH		1000
#define SLEEP_NS		1000000ull
#define TIMEOUT_S		5
#define BUSY2_SAMPLES		4096
/* Timed iterations stop after this much time once MIN_ITERS are done. */
#define TIME_BUDGET_MS		5000u
#define MIN_ITERS		5u

/* ---- the main thread's parker (std::thread::park), usable as a waker ---- */

enum { PARK_EMPTY = 0, PARK_NOTIFIED = 1, PARK_PARKED = 2 };
static atomic_uint park_state;

/* BENCH_RT_PHASES: sums over the timed and warm-up iterations. */
static bool phases;
static uint64_t ph_spawn_ns, ph_join_ns, ph_parks, ph_iters;

static long futex(atomic_uint *w, int op, unsigned val, const struct timespec *ts)
{
	return syscall(SYS_futex, (unsigned *)w, op, val, ts, NULL, 0);
}

static void unpark(void)
{
	/* release: publishes what the task did; pairs with park()'s acquire. */
	if (atomic_exchange_explicit(&park_state, PARK_NOTIFIED,
				     memory_order_release) == PARK_PARKED)
		futex(&park_state, FUTEX_WAKE_PRIVATE, 1, NULL);
}

/* Sleep until unpark() (a notification sent earlier counts) or `deadline`. */
static void park(uint64_t deadline)
{
	unsigned expected = PARK_EMPTY;

	/* acquire: pairs with unpark()'s release exchange. */
	if (atomic_exchange_explicit(&park_state, PARK_EMPTY,
				     memory_order_acquire) == PARK_NOTIFIED)
		return;
	if (!atomic_compare_exchange_strong_explicit(&park_state, &expected,
						     PARK_PARKED,
						     memory_order_acquire,
						     memory_order_acquire)) {
		atomic_store_explicit(&park_state, PARK_EMPTY, memory_order_relaxed);
		return;
	}
	for (;;) {
		uint64_t now = host_now_ns();
		struct timespec ts;

		if (now >= deadline)
			break;
		ts.tv_sec = (time_t)((deadline - now) / NS_PER_SEC);
		ts.tv_nsec = (long)((deadline - now) % NS_PER_SEC);
		futex(&park_state, FUTEX_WAIT_PRIVATE, PARK_PARKED, &ts);
		if (atomic_load_explicit(&park_state, memory_order_acquire) ==
		    PARK_NOTIFIED)
			break;
	}
	/* acquire: as above. */
	atomic_exchange_explicit(&park_state, PARK_EMPTY, memory_order_acquire);
}

static void parker_wake(const void *d) { (void)d; unpark(); }
static const void *parker_clone(const void *d) { return d; }
static void parker_drop(const void *d) { (void)d; }

static const struct waker_vtable parker_vt = {
	.wake = parker_wake, .wake_by_ref = parker_wake,
	.clone = parker_clone, .drop = parker_drop,
};
static const struct waker main_waker = { &parker_vt, &park_state };

/* Poll fn(arg) on the main thread until READY; false on timeout. */
bool block_on(enum poll (*fn)(void *arg, struct context *cx), void *arg)
{
	uint64_t deadline = host_now_ns() + TIMEOUT_S * NS_PER_SEC;
	struct context cx = { &main_waker };

	while (fn(arg, &cx) == POLL_PENDING) {
		if (host_now_ns() >= deadline)
			return false;
		park(deadline);
		ph_parks++;
	}
	return true;
}

/*
 * A completion flag a task raises and the main thread waits on.  The main
 * thread resets it (and the `remaining` counters) with relaxed stores
 * before it spawns: the spawn's release enqueue publishes them to the core
 * that dequeues the task.
 */
atomic_bool done_flag;

void signal_done(void)
{
	/* release: pairs with the acquire load in done_poll(). */
	atomic_store_explicit(&done_flag, true, memory_order_release);
	unpark();
}

enum poll done_poll(void *arg, struct context *cx)
{
	(void)arg;
	(void)cx;
	return atomic_load_explicit(&done_flag, memory_order_acquire) ?
	       POLL_READY : POLL_PENDING;
}

/* Join every handle in order (tokio: `for h in handles { h.await }`). */
struct join_all {
	struct join_handle *h;
	size_t n, i;
};

static enum poll join_all_poll(void *arg, struct context *cx)
{
	struct join_all *j = arg;

	for (; j->i < j->n; j->i++)
		if (join_poll(&j->h[j->i], cx, NULL, 0) == POLL_PENDING)
			return POLL_PENDING;
	return POLL_READY;
}

/* ---- the runtime on pthreads (tests/support/rt_harness.h) --------------- */

static unsigned nworkers = DEFAULT_WORKERS;
static struct harness harness;

static struct runtime *the_rt;		/* target of the workloads' spawns */
static struct join_handle handles[NUM_SPAWN];

void spawn(const struct task_vtable *vt, const void *init, size_t size,
		  struct join_handle *jh)
{
	if (rt_spawn(the_rt, vt, init, size, jh))
		abort();
}

/* tokio's stall(): spin for 10 us yielding the thread. */
static void stall(void)
{
	uint64_t t0 = host_now_ns();

	while (host_now_ns() - t0 < STALL_NS)
		sched_yield();
}

/* ---- timing ------------------------------------------------------------- */

static double scale = 1.0;
static const char *only;	/* env BENCH_RT_ONLY: run workloads matching it */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* Warm up, time `iters` iterations one by one, print the median.  False if
 * an iteration timed out (then `# NAME DNF` is printed instead). */
bool bench(const char *name, unsigned iters, iter_fn fn)
{
	uint64_t *t;
	unsigned n = (unsigned)(iters * scale);

	if (only && !strstr(name, only))
		return true;

	if (n < 1)
		n = 1;
	t = calloc(n, sizeof(*t));
	for (unsigned i = 0; i < WARMUP_ITERS; i++)
		if (!fn())
			goto dnf;
	for (unsigned i = 0, spent = 0; i < n; i++) {
		uint64_t t0 = host_now_ns();

		if (!fn())
			goto dnf;
		t[i] = host_now_ns() - t0;
		/* A slow workload stops early so `make bench` stays quick. */
		spent += (unsigned)(t[i] / 1000000u);
		if (spent > TIME_BUDGET_MS && i + 1 >= MIN_ITERS) {
			n = i + 1;
			break;
		}
	}
	qsort(t, n, sizeof(*t), cmp_u64);
	printf("%-24s %12llu ns/iter\n", name, (unsigned long long)t[n / 2]);
	fflush(stdout);
	free(t);
	return true;
dnf:
	printf("# %s DNF: an iteration did not finish within %d s\n", name,
	       TIMEOUT_S);
	fflush(stdout);
	free(t);
	return false;
}

/* ---- spawn_many_local: 10k spawns from inside a worker ------------------ */

atomic_uint remaining;

static enum poll dec_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_relaxed) == 1)
		signal_done();
	return POLL_READY;
}

static const struct task_vtable dec_vt = { .poll = dec_poll, .name = "dec" };

static enum poll spawner_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	for (unsigned i = 0; i < NUM_SPAWN; i++)
		spawn(&dec_vt, NULL, sizeof(struct task), NULL);
	return POLL_READY;
}

static const struct task_vtable spawner_vt = {
	.poll = spawner_poll, .name = "spawner",
};

static bool spawn_many_local(void)
{
	atomic_store_explicit(&remaining, NUM_SPAWN, memory_order_relaxed);
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	spawn(&spawner_vt, NULL, sizeof(struct task), NULL);
	return block_on(done_poll, NULL);
}

/* ---- spawn_many_remote_*: 10k (1k) spawns from outside, join all -------- */

static enum poll empty_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	return POLL_READY;
}

static const struct task_vtable empty_vt = {
	.poll = empty_poll, .name = "empty",
};

static bool spawn_remote_n(unsigned n)
{
	struct join_all j = { handles, n, 0 };
	uint64_t t0 = host_now_ns(), t1;
	bool done;

	for (unsigned i = 0; i < n; i++)
		spawn(&empty_vt, NULL, sizeof(struct task), &handles[i]);
	t1 = host_now_ns();
	done = block_on(join_all_poll, &j);
	ph_spawn_ns += t1 - t0;
	ph_join_ns += host_now_ns() - t1;
	ph_iters++;
	return done;
}

static void phases_reset(void)
{
	ph_spawn_ns = ph_join_ns = ph_parks = ph_iters = 0;
}

/* Print and reset the phase sums (BENCH_RT_PHASES). */
static void phases_report(const char *name)
{
	if (phases && ph_iters)
		printf("# %s phases: spawn %llu ns, join %llu ns, %.1f parks "
		       "per iteration (mean of %llu)\n", name,
		       (unsigned long long)(ph_spawn_ns / ph_iters),
		       (unsigned long long)(ph_join_ns / ph_iters),
		       (double)ph_parks / (double)ph_iters,
		       (unsigned long long)ph_iters);
	phases_reset();
}

static bool spawn_many_remote(void)
{
	return spawn_remote_n(NUM_SPAWN);
}

/* busy1: 2 x WORKERS tasks `while flag { yield; stall }`.  Relaxed: a stop
 * request, read again on every poll. */
static atomic_bool busy_flag;

struct busy_task {
	struct task task;
	unsigned pt;
};

static enum poll busy_poll(struct task *t, struct context *cx)
{
	struct busy_task *b = container_of(t, struct busy_task, task);

	TASK_BEGIN(b->pt);
	while (atomic_load_explicit(&busy_flag, memory_order_relaxed)) {
		TASK_YIELD();
		stall();
	}
	TASK_END;
}

static const struct task_vtable busy_vt = {
	.poll = busy_poll, .name = "busy",
};

/* Release the busy tasks and join them (so the next workload starts idle).
 * Also drains whatever a timed-out iteration left in the injector. */
static void busy_release(struct join_handle *bh, unsigned n)
{
	struct join_all j = { bh, n, 0 };
	struct join_all rest = { handles, NUM_SPAWN, 0 };

	atomic_store_explicit(&busy_flag, false, memory_order_relaxed);
	if (!block_on(join_all_poll, &j) || !block_on(join_all_poll, &rest)) {
		fprintf(stderr, "bench_rt: busy tasks did not stop\n");
		exit(1);
	}
}

/* busy2: per worker one self-respawning chain `if flag { stall; spawn next }`,
 * and 1k injected tasks that record how long they waited for a first poll. */
static _Atomic uint64_t max_start_ns;

struct stamp_task {
	struct task task;
	uint64_t spawned_ns;
};

static enum poll stamp_poll(struct task *t, struct context *cx)
{
	struct stamp_task *s = container_of(t, struct stamp_task, task);
	uint64_t d = host_now_ns() - s->spawned_ns;
	uint64_t m = atomic_load_explicit(&max_start_ns, memory_order_relaxed);

	(void)cx;
	while (d > m && !atomic_compare_exchange_weak_explicit(
			&max_start_ns, &m, d, memory_order_relaxed,
			memory_order_relaxed))
		;
	return POLL_READY;
}

static const struct task_vtable stamp_vt = {
	.poll = stamp_poll, .name = "stamp",
};

static enum poll chain_busy_poll(struct task *t, struct context *cx);
static const struct task_vtable chain_busy_vt = {
	.poll = chain_busy_poll, .name = "chain-busy",
};

static enum poll chain_busy_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	if (atomic_load_explicit(&busy_flag, memory_order_relaxed)) {
		stall();
		spawn(&chain_busy_vt, NULL, sizeof(struct task), NULL);
	}
	return POLL_READY;
}

static uint64_t *busy2_max;	/* per timed iteration */
static unsigned busy2_iter;

static bool spawn_many_remote_busy2(void)
{
	struct join_all j = { handles, BUSY2_SPAWN, 0 };
	bool ok;

	atomic_store_explicit(&max_start_ns, 0, memory_order_relaxed);
	for (unsigned i = 0; i < BUSY2_SPAWN; i++) {
		struct stamp_task init = { .spawned_ns = host_now_ns() };

		spawn(&stamp_vt, &init, sizeof(init), &handles[i]);
	}
	ok = block_on(join_all_poll, &j);
	if (busy2_iter < BUSY2_SAMPLES)
		busy2_max[busy2_iter++] = atomic_load_explicit(&max_start_ns,
							       memory_order_relaxed);
	return ok;
}

/* ---- yield_many: 200 tasks x 1000 yields -------------------------------- */

struct yield_task {
	struct task task;
	unsigned pt;
	unsigned i;
};

static enum poll yield_poll(struct task *t, struct context *cx)
{
	struct yield_task *y = container_of(t, struct yield_task, task);

	TASK_BEGIN(y->pt);
	for (y->i = 0; y->i < NUM_YIELD; y->i++)
		TASK_YIELD();
	if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_relaxed) == 1)
		signal_done();
	TASK_END;
}

static const struct task_vtable yield_vt = {
	.poll = yield_poll, .name = "yield",
};

static bool yield_many(void)
{
	atomic_store_explicit(&remaining, YIELD_TASKS, memory_order_relaxed);
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	for (unsigned i = 0; i < YIELD_TASKS; i++)
		spawn(&yield_vt, NULL, sizeof(struct yield_task), NULL);
	return block_on(done_poll, NULL);
}

/* ---- ping_pong: 1000 pairs exchanging two oneshot messages -------------- */

/* The two channels, shared by a pair and freed by the last of the two
 * (tokio's oneshot is an Arc'd cell in the same way). */
struct pp_chan {
	struct oneshot ping, pong;
	uint8_t ping_buf, pong_buf;
	atomic_uint refs;
};

static void pp_chan_put(struct pp_chan *c)
{
	/* acq_rel: the last owner sees the other's writes before freeing. */
	if (atomic_fetch_sub_explicit(&c->refs, 1, memory_order_acq_rel) == 1)
		kfree(c);
}

struct pp_task {
	struct task task;
	unsigned pt;
	int res;
	uint8_t v;
	struct pp_chan *c;
};

static enum poll pp_child_poll(struct task *t, struct context *cx)
{
	struct pp_task *p = container_of(t, struct pp_task, task);
	static const uint8_t one = 1;

	TASK_BEGIN(p->pt);
	TASK_AWAIT(oneshot_recv(&p->c->ping, cx, &p->v, &p->res));
	if (p->res || oneshot_send(&p->c->pong, &one, sizeof(one)))
		abort();
	pp_chan_put(p->c);
	TASK_END;
}

static const struct task_vtable pp_child_vt = {
	.poll = pp_child_poll, .name = "pp-child",
};

static enum poll pp_parent_poll(struct task *t, struct context *cx)
{
	struct pp_task *p = container_of(t, struct pp_task, task);
	static const uint8_t one = 1;

	TASK_BEGIN(p->pt);
	p->c = kmalloc(sizeof(*p->c));
	if (!p->c)
		abort();
	oneshot_init(&p->c->ping, &p->c->ping_buf, 1);
	oneshot_init(&p->c->pong, &p->c->pong_buf, 1);
	atomic_init(&p->c->refs, 2);
	spawn(&pp_child_vt, &(struct pp_task){ .c = p->c }, sizeof(*p), NULL);
	if (oneshot_send(&p->c->ping, &one, sizeof(one)))
		abort();
	TASK_AWAIT(oneshot_recv(&p->c->pong, cx, &p->v, &p->res));
	if (p->res)
		abort();
	pp_chan_put(p->c);
	if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_relaxed) == 1)
		signal_done();
	TASK_END;
}

static const struct task_vtable pp_parent_vt = {
	.poll = pp_parent_poll, .name = "pp-parent",
};

static enum poll pp_root_poll(struct task *t, struct context *cx)
{
	(void)t;
	(void)cx;
	for (unsigned i = 0; i < NUM_PINGS; i++)
		spawn(&pp_parent_vt, NULL, sizeof(struct pp_task), NULL);
	return POLL_READY;
}

static const struct task_vtable pp_root_vt = {
	.poll = pp_root_poll, .name = "pp-root",
};

static bool ping_pong(void)
{
	atomic_store_explicit(&remaining, NUM_PINGS, memory_order_relaxed);
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	spawn(&pp_root_vt, NULL, sizeof(struct task), NULL);
	return block_on(done_poll, NULL);
}

/* ---- chained_spawn: each task spawns the next, depth 1000 --------------- */

struct chain_task {
	struct task task;
	unsigned n;
};

static enum poll chain_poll(struct task *t, struct context *cx);
static const struct task_vtable chain_vt = {
	.poll = chain_poll, .name = "chain",
};

static enum poll chain_poll(struct task *t, struct context *cx)
{
	struct chain_task *c = container_of(t, struct chain_task, task);

	(void)cx;
	if (c->n == 0)
		signal_done();
	else
		spawn(&chain_vt, &(struct chain_task){ .n = c->n - 1 },
		      sizeof(*c), NULL);
	return POLL_READY;
}

static bool chained_spawn(void)
{
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	spawn(&chain_vt, &(struct chain_task){ .n = CHAIN_DEPTH },
	      sizeof(struct chain_task), NULL);
	return block_on(done_poll, NULL);
}

/* ---- sleep_10k_x_1ms: 10k tasks each sleeping 1 ms, joined -------------- */

struct sleep_task {
	struct task task;
	unsigned pt;
	struct sleep sl;
};

static enum poll sleep_task_poll(struct task *t, struct context *cx)
{
	struct sleep_task *s = container_of(t, struct sleep_task, task);

	TASK_BEGIN(s->pt);
	TASK_AWAIT(sleep_poll(&s->sl, cx));
	TASK_END;
}

static const struct task_vtable sleep_vt = {
	.poll = sleep_task_poll, .name = "sleep",
};

static bool sleep_10k(void)
{
	struct join_all j = { handles, NUM_SPAWN, 0 };

	for (unsigned i = 0; i < NUM_SPAWN; i++) {
		struct sleep_task init = { .pt = 0 };

		/* The deadline is fixed at creation, as tokio::time::sleep(). */
		if (sleep_init_duration(&init.sl, &the_rt->timer, SLEEP_NS))
			abort();
		spawn(&sleep_vt, &init, sizeof(init), &handles[i]);
	}
	return block_on(join_all_poll, &j);
}

/* ------------------------------------------------------------------------- */

static void file_write(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

/* BENCH_RT_TRACE: the trace so far, as JSON, into `path`. */
static void trace_write(const char *path)
{
	FILE *f = fopen(path, "w");
	struct fmt_out out = { file_write, f };
	struct trace_json_stats st;

	trace_set_enabled(false);
	if (f == NULL || trace_json_write(&out, &st) != 0 || fclose(f) != 0) {
		fprintf(stderr, "bench_rt: cannot write the trace to %s\n", path);
		exit(1);
	}
	printf("# trace: %llu events from %u cores (%llu lost) in %s\n",
	       (unsigned long long)st.events, st.cores,
	       (unsigned long long)st.lost, path);
}

static void file_out_stdout(const char *s, size_t n)
{
	fwrite(s, 1, n, stdout);
}

int main(void)
{
	struct join_handle busy_h[2 * MAX_CORES];
	const char *e, *trace_path = getenv("BENCH_RT_TRACE");

	setvbuf(stdout, NULL, _IOLBF, 0);
	if ((e = getenv("WORKERS")) && atoi(e) > 0)
		nworkers = (unsigned)atoi(e) < MAX_CORES ? (unsigned)atoi(e) :
			   MAX_CORES;
	if ((e = getenv("BENCH_RT_SCALE")) && atof(e) > 0)
		scale = atof(e);
	only = getenv("BENCH_RT_ONLY");
	phases = (e = getenv("BENCH_RT_PHASES")) && atoi(e) > 0;
	if ((e = getenv("BENCH_RT_TIMING")) && atoi(e) > 0)
		sched_poll_timing_set(true);
	printf("# bench_rt: %u workers, median of per-iteration times\n", nworkers);

	h_start(&harness, nworkers);
	the_rt = harness.rt;
	if (trace_path) {
		if (trace_setup(nworkers) != 0) {
			fprintf(stderr, "bench_rt: no memory for the trace rings\n");
			return 1;
		}
		trace_set_enabled(true);
	}
	bench("spawn_many_local", 200, spawn_many_local);
	phases_reset();
	bench("spawn_many_remote_idle", 200, spawn_many_remote);
	phases_report("spawn_many_remote_idle");

	atomic_store_explicit(&busy_flag, true, memory_order_relaxed);
	for (unsigned i = 0; i < 2 * nworkers; i++)
		spawn(&busy_vt, NULL, sizeof(struct busy_task), &busy_h[i]);
	phases_reset();
	bench("spawn_many_remote_busy1", 50, spawn_many_remote);
	phases_report("spawn_many_remote_busy1");
	busy_release(busy_h, 2 * nworkers);

	/*
	 * busy2 (the peer uses a second runtime; here the same one, idle
	 * again: the host arch has one wakeup word per slot index, so two
	 * live runtimes in one process would steal each other's wakeups).
	 */
	{
		uint64_t worst = 0;

		busy2_max = calloc(BUSY2_SAMPLES, sizeof(*busy2_max));
		atomic_store_explicit(&busy_flag, true, memory_order_relaxed);
		for (unsigned i = 0; i < nworkers; i++)
			spawn(&chain_busy_vt, NULL, sizeof(struct task), NULL);
		if (bench("spawn_many_remote_busy2", 50, spawn_many_remote_busy2) &&
		    busy2_iter > 0) {
			unsigned n = busy2_iter;

			for (unsigned i = 0; i < n; i++)
				worst = busy2_max[i] > worst ? busy2_max[i] : worst;
			qsort(busy2_max, n, sizeof(*busy2_max), cmp_u64);
			printf("%-24s %12llu ns max-start (median of per-iteration maxima incl. warm-up; worst %llu ns)\n",
			       "spawn_many_remote_busy2", (unsigned long long)busy2_max[n / 2],
			       (unsigned long long)worst);
		}
		busy_release(NULL, 0);
		free(busy2_max);
	}

	bench("yield_many(200x1000)", 20, yield_many);
	bench("ping_pong(1000)", 200, ping_pong);
	bench("chained_spawn(1000)", 200, chained_spawn);
	bench("sleep_10k_x_1ms", 20, sleep_10k);
	bench_rt_sync();
	if (getenv("BENCH_RT_DUMP"))
		rt_dump(the_rt, file_out_stdout);
	if (trace_path)
		trace_write(trace_path);
	h_stop(&harness);
	h_free(&harness);
	return 0;
}
