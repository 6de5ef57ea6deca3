/*
 * bench_timer.c - the timer wheel against a binary heap (heap_timer.h), in
 * the same run: ns per insert, per cancel, per fire and per turn with 10^3
 * and 10^6 timers pending, deadlines spread uniformly over 2^30 ticks or
 * clustered (16 deadlines 256 ticks wide, like many tasks using the same
 * timeout); the locked timer's insert/cancel; bytes per pending timer.
 * Each figure is the median of BENCH_REPS runs.  Output: `NAME  NS ns/iter`
 * (bytes: `NAME  N bytes`); lines starting with '#' are commentary.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "heap_timer.h"
#include "tests/support/host_clock.h"
#include "tests/support/rng.h"
#include "timer/timer.h"
#include "timer/wheel.h"

#define BENCH_REPS	5
#define UNIFORM_SPAN	(1ull << 30)
#define CLUSTERS	16
#define CLUSTER_WIDTH	256
#define CLUSTER_GAP	(1ull << 22)
#define MIN_OPS		2000000ul
/* Expiry benches turn the clock to the last deadline in n / this steps. */
#define FIRES_PER_TURN	100ul
#define IDLE_TURNS	1000000ul

enum dist { UNIFORM, CLUSTERED };
static const char *const dist_name[] = { "uniform", "clustered" };

/* Deadlines and cancel orders, outside the timed loops; seeded in main(). */
static struct xoroshiro128pp rng;
static volatile size_t sink;

static ticks_t deadline(enum dist d, ticks_t now)
{
	if (d == UNIFORM)
		return now + 1 + xoro_below(&rng, UNIFORM_SPAN);
	return now + CLUSTER_GAP * (1 + xoro_below(&rng, CLUSTERS)) +
	       xoro_below(&rng, CLUSTER_WIDTH);
}

static ticks_t *make_deadlines(size_t n, enum dist d)
{
	ticks_t *dl = malloc(n * sizeof(*dl));

	if (!dl)
		abort();
	for (size_t i = 0; i < n; i++)
		dl[i] = deadline(d, 0);
	return dl;
}

static size_t *make_shuffle(size_t n)
{
	size_t *p = malloc(n * sizeof(*p));

	if (!p)
		abort();
	for (size_t i = 0; i < n; i++)
		p[i] = i;
	for (size_t i = n; i > 1; i--) {
		size_t j = xoro_below(&rng, i), t = p[i - 1];

		p[i - 1] = p[j];
		p[j] = t;
	}
	return p;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, BENCH_REPS, sizeof(*v), cmp_double);
	return v[BENCH_REPS / 2];
}

static void report(const char *what, size_t n, enum dist d, double *runs)
{
	char name[96];

	snprintf(name, sizeof(name), "%s_%s_%s", what,
		 n >= 1000000 ? "1e6" : "1e3", dist_name[d]);
	printf("%-40s %8.1f ns/iter\n", name, median(runs));
	fflush(stdout);
}

/* ---- the wheel ---------------------------------------------------------- */

static struct timer_wheel wheel;

static void wheel_fire_count(struct timer_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
}

static struct timer_entry *wheel_fill(size_t n, size_t extra, ticks_t *dl)
{
	struct timer_entry *e = malloc((n + extra) * sizeof(*e));

	if (!e)
		abort();
	timer_wheel_init(&wheel, 0);
	for (size_t i = 0; i < n + extra; i++)
		timer_entry_init(&e[i]);
	for (size_t i = 0; i < n; i++)
		if (timer_wheel_insert(&wheel, &e[i], dl[i]))
			abort();
	return e;
}

/*
 * Insert k more on top of n pending, then cancel them in random order (each
 * cancel touches an entry and list neighbours long out of cache); and
 * insert+cancel pairs of one entry at a time, the pattern of a timeout
 * whose operation completes quickly (*pair, per pair).
 */
static void wheel_insert_cancel(size_t n, enum dist d, double *ins, double *can,
				double *pair)
{
	size_t k = n / 10 > 100 ? n / 10 : 100;
	ticks_t *dl = make_deadlines(n + k, d);
	size_t *order = make_shuffle(k);
	struct timer_entry *e = wheel_fill(n, k, dl), *x = e + n;
	double ti = 0, tc = 0;
	size_t ops = 0;

	while (ops < MIN_OPS) {
		double t0 = host_now_ns(), t1, t2;

		for (size_t i = 0; i < k; i++)
			if (timer_wheel_insert(&wheel, &x[i], dl[n + i]))
				abort();
		t1 = host_now_ns();
		for (size_t i = 0; i < k; i++)
			sink += timer_wheel_cancel(&wheel, &x[order[i]]);
		t2 = host_now_ns();
		ti += t1 - t0;
		tc += t2 - t1;
		ops += k;
	}
	*ins = ti / (double)ops;
	*can = tc / (double)ops;
	ti = host_now_ns();
	for (size_t i = 0; i < MIN_OPS; i++) {
		if (timer_wheel_insert(&wheel, &x[i % k], dl[n + i % k]))
			abort();
		sink += timer_wheel_cancel(&wheel, &x[i % k]);
	}
	*pair = (host_now_ns() - ti) / (double)MIN_OPS;
	free(e);
	free(order);
	free(dl);
}

/* n pending, turned to the last deadline in n / FIRES_PER_TURN steps. */
static double wheel_fire(size_t n, enum dist d)
{
	ticks_t *dl = make_deadlines(n, d), last = 0;
	struct timer_entry *e = wheel_fill(n, 0, dl);
	size_t fired = 0;
	double t0, t1;

	for (size_t i = 0; i < n; i++)
		last = dl[i] > last ? dl[i] : last;
	t0 = host_now_ns();
	for (size_t s = 1, turns = n / FIRES_PER_TURN; s <= turns; s++)
		timer_wheel_advance(&wheel, s == turns ? last : last / turns * s,
				    SIZE_MAX, wheel_fire_count, &fired);
	t1 = host_now_ns();
	if (fired != n)
		abort();
	free(e);
	free(dl);
	return (t1 - t0) / (double)n;
}

/* n pending, IDLE_TURNS turns of one tick each (mostly nothing due). */
static double wheel_turn(size_t n, enum dist d)
{
	ticks_t *dl = make_deadlines(n, d);
	struct timer_entry *e = wheel_fill(n, 0, dl);
	size_t fired = 0;
	double t0, t1;

	t0 = host_now_ns();
	for (ticks_t t = 1; t <= IDLE_TURNS; t++) {
		timer_wheel_advance(&wheel, t, SIZE_MAX, wheel_fire_count, &fired);
		sink += timer_wheel_next_deadline(&wheel);
	}
	t1 = host_now_ns();
	free(e);
	free(dl);
	return (t1 - t0) / (double)IDLE_TURNS;
}

/* ---- the heap ----------------------------------------------------------- */

static struct heap_timer heap;

static void heap_fire_count(struct heap_entry *e, void *arg)
{
	(void)e;
	(*(size_t *)arg)++;
}

static struct heap_entry *heap_fill(size_t n, size_t extra, ticks_t *dl)
{
	struct heap_entry *e = malloc((n + extra) * sizeof(*e));

	if (!e || heap_init(&heap, n + extra, 0))
		abort();
	for (size_t i = 0; i < n + extra; i++)
		e[i].index = HEAP_NOT_QUEUED;
	for (size_t i = 0; i < n; i++)
		if (heap_insert(&heap, &e[i], dl[i]))
			abort();
	return e;
}

static void heap_insert_cancel(size_t n, enum dist d, double *ins, double *can,
			       double *pair)
{
	size_t k = n / 10 > 100 ? n / 10 : 100;
	ticks_t *dl = make_deadlines(n + k, d);
	size_t *order = make_shuffle(k);
	struct heap_entry *e = heap_fill(n, k, dl), *x = e + n;
	double ti = 0, tc = 0;
	size_t ops = 0;

	while (ops < MIN_OPS) {
		double t0 = host_now_ns(), t1, t2;

		for (size_t i = 0; i < k; i++)
			if (heap_insert(&heap, &x[i], dl[n + i]))
				abort();
		t1 = host_now_ns();
		for (size_t i = 0; i < k; i++)
			sink += heap_cancel(&heap, &x[order[i]]);
		t2 = host_now_ns();
		ti += t1 - t0;
		tc += t2 - t1;
		ops += k;
	}
	*ins = ti / (double)ops;
	*can = tc / (double)ops;
	ti = host_now_ns();
	for (size_t i = 0; i < MIN_OPS; i++) {
		if (heap_insert(&heap, &x[i % k], dl[n + i % k]))
			abort();
		sink += heap_cancel(&heap, &x[i % k]);
	}
	*pair = (host_now_ns() - ti) / (double)MIN_OPS;
	heap_destroy(&heap);
	free(e);
	free(order);
	free(dl);
}

static double heap_fire(size_t n, enum dist d)
{
	ticks_t *dl = make_deadlines(n, d), last = 0;
	struct heap_entry *e = heap_fill(n, 0, dl);
	size_t fired = 0;
	double t0, t1;

	for (size_t i = 0; i < n; i++)
		last = dl[i] > last ? dl[i] : last;
	t0 = host_now_ns();
	for (size_t s = 1, turns = n / FIRES_PER_TURN; s <= turns; s++)
		heap_advance(&heap, s == turns ? last : last / turns * s,
			     heap_fire_count, &fired);
	t1 = host_now_ns();
	if (fired != n)
		abort();
	heap_destroy(&heap);
	free(e);
	free(dl);
	return (t1 - t0) / (double)n;
}

static double heap_turn(size_t n, enum dist d)
{
	ticks_t *dl = make_deadlines(n, d);
	struct heap_entry *e = heap_fill(n, 0, dl);
	size_t fired = 0;
	double t0, t1;

	t0 = host_now_ns();
	for (ticks_t t = 1; t <= IDLE_TURNS; t++) {
		heap_advance(&heap, t, heap_fire_count, &fired);
		sink += heap.n ? heap.a[0]->deadline : 0;
	}
	t1 = host_now_ns();
	heap_destroy(&heap);
	free(e);
	free(dl);
	return (t1 - t0) / (double)IDLE_TURNS;
}

/* ---- the locked timer (uncontended spin lock around the wheel) ----------- */

static struct mock_clock mclk;
static struct timer tmr;

static void timer_insert_cancel(size_t n, enum dist d, double *ins, double *can)
{
	size_t k = n / 10 > 100 ? n / 10 : 100;
	ticks_t *dl = make_deadlines(n + k, d);
	size_t *order = make_shuffle(k);
	struct timer_entry *e = malloc((n + k) * sizeof(*e)), *x = e + n;
	double ti = 0, tc = 0;
	size_t ops = 0;

	if (!e)
		abort();
	mock_clock_init(&mclk, "bench", 1, 0);
	timer_init(&tmr, &mclk.clock);
	for (size_t i = 0; i < n + k; i++)
		timer_entry_init(&e[i]);
	for (size_t i = 0; i < n; i++)
		if (timer_insert(&tmr, &e[i], dl[i]))
			abort();
	while (ops < MIN_OPS) {
		double t0 = host_now_ns(), t1, t2;

		for (size_t i = 0; i < k; i++)
			if (timer_insert(&tmr, &x[i], dl[n + i]))
				abort();
		t1 = host_now_ns();
		for (size_t i = 0; i < k; i++)
			sink += timer_cancel(&tmr, &x[order[i]]);
		t2 = host_now_ns();
		ti += t1 - t0;
		tc += t2 - t1;
		ops += k;
	}
	*ins = ti / (double)ops;
	*can = tc / (double)ops;
	free(e);
	free(order);
	free(dl);
}

static void noop_callback(void *arg)
{
	(void)arg;
}

/* timer_turn() on a locked timer with n pending, the clock one tick on
 * per turn: the main loop's cost when (almost) nothing is due. */
static double timer_turn_idle(size_t n, enum dist d)
{
	ticks_t *dl = make_deadlines(n, d);
	struct timer_entry *e = malloc(n * sizeof(*e));
	double t0, t1;

	if (!e)
		abort();
	mock_clock_init(&mclk, "bench", 1, 0);
	timer_init(&tmr, &mclk.clock);
	for (size_t i = 0; i < n; i++) {
		timer_entry_init_callback(&e[i], noop_callback, NULL);
		if (timer_insert(&tmr, &e[i], dl[i]))
			abort();
	}
	t0 = host_now_ns();
	for (size_t t = 0; t < IDLE_TURNS; t++) {
		mock_clock_advance(&mclk, 1);
		sink += timer_turn(&tmr).next_deadline;
	}
	t1 = host_now_ns();
	free(e);
	free(dl);
	return (t1 - t0) / (double)IDLE_TURNS;
}

int main(void)
{
	static const size_t sizes[] = { 1000, 1000000 };

	test_rng_init(&rng, 0x2545f4914f6cdd1dull);
	printf("# bench_timer: median of %d runs; wheel = timer/wheel.c, heap = bench/heap_timer.h\n",
	       BENCH_REPS);
	printf("%-40s %8zu bytes\n", "wheel_bytes_per_pending",
	       sizeof(struct timer_entry));
	printf("%-40s %8zu bytes\n", "wheel_fixed_bytes", sizeof(struct timer_wheel));
	printf("%-40s %8zu bytes\n", "heap_bytes_per_pending",
	       sizeof(struct heap_entry) + sizeof(struct heap_entry *));
	for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
		for (int d = UNIFORM; d <= CLUSTERED; d++) {
			size_t n = sizes[si];
			double wi[BENCH_REPS], wc[BENCH_REPS], hi[BENCH_REPS],
			       hc[BENCH_REPS], ti[BENCH_REPS], tc[BENCH_REPS];
			double wf[BENCH_REPS], hf[BENCH_REPS], wt[BENCH_REPS],
			       ht[BENCH_REPS], tt[BENCH_REPS], wp[BENCH_REPS],
			       hp[BENCH_REPS];

			for (int r = 0; r < BENCH_REPS; r++) {
				wheel_insert_cancel(n, d, &wi[r], &wc[r], &wp[r]);
				heap_insert_cancel(n, d, &hi[r], &hc[r], &hp[r]);
				timer_insert_cancel(n, d, &ti[r], &tc[r]);
				wf[r] = wheel_fire(n, d);
				hf[r] = heap_fire(n, d);
				wt[r] = wheel_turn(n, d);
				ht[r] = heap_turn(n, d);
				tt[r] = timer_turn_idle(n, d);
			}
			report("wheel_insert", n, d, wi);
			report("heap_insert", n, d, hi);
			report("timer_insert_locked", n, d, ti);
			report("wheel_cancel", n, d, wc);
			report("heap_cancel", n, d, hc);
			report("timer_cancel_locked", n, d, tc);
			report("wheel_insert_cancel_pair", n, d, wp);
			report("heap_insert_cancel_pair", n, d, hp);
			report("wheel_fire", n, d, wf);
			report("heap_fire", n, d, hf);
			report("wheel_turn_1tick", n, d, wt);
			report("heap_turn_1tick", n, d, ht);
			report("timer_turn_idle", n, d, tt);
		}
	}
	return 0;
}
