/*
 * stress_timer.c - several threads poll, cancel, free and turn sleeps on
 * one timer at once (built with ASan and with TSan by `make test`).
 *
 * Every thread is both an owner and a turner: it advances a shared mock
 * clock a little, calls timer_turn(), and works on a window of its own
 * sleeps, each kmalloc'd and freed as soon as its owner is done, with its
 * waker naming a record that outlives it.  A sleep is polled once, then
 * either waited for (its waker must fire, then poll is READY) or cancelled
 * (cancel true: it must never fire; false: it fired, exactly once).  At
 * the end every record must show exactly that and no waker reference
 * leaked.  HYPHAE_SOAK=1 runs 50x longer.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kmalloc.h"
#include "tests/support/rng.h"
#include "tests/support/stress_util.h"
#include "tests/support/waker_counter.h"
#include "timer/sleep.h"

#define THREADS		4
#define ITERATIONS	60000
#define WINDOW		16
/* How long a worker waits for its last sleeps to fire. */
#define DRAIN_SECONDS	60

#define CHECK(...)	STRESS_CHECK(__VA_ARGS__)

enum outcome { O_NONE, O_READY_AT_POLL, O_WAITED, O_CANCELLED, O_CANCEL_LOST };

struct record {
	struct waker_counter wc;	/* the sleep's waker */
	enum outcome outcome;		/* owner's only */
};

struct worker {
	pthread_t thread;
	unsigned id;
	struct xoroshiro128pp rng;
	size_t nrec;
	struct record *rec;
	struct sleep *live[WINDOW];
	struct record *live_rec[WINDOW];
};

static struct mock_clock clk;
static struct timer tmr;
static unsigned long iterations;
static atomic_size_t total_fired, total_busy;

/* Returns true if the turn found the lock taken. */
static bool turn(void)
{
	struct timer_turn r = timer_turn(&tmr);

	atomic_fetch_add(&total_fired, r.fired);
	if (r.busy)
		atomic_fetch_add(&total_busy, 1);
	return r.busy;
}

static double seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Create, poll once. */
static void start_sleep(struct worker *w, unsigned i)
{
	static const ticks_t spans[] = { 8, 64, 300, 5000, 1u << 20 };
	struct record *r = &w->rec[w->nrec++];
	struct waker wk = counter_waker(&r->wc);
	struct context cx = { &wk };
	struct sleep *s = kmalloc(sizeof(*s));
	ticks_t span = spans[xoro_below(&w->rng, ARRAY_SIZE(spans))];

	CHECK(s != NULL, "out of memory");
	sleep_init_deadline(s, &tmr,
			    clock_now(&clk.clock) + 1 + xoro_below(&w->rng, span));
	if (sleep_poll(s, &cx) == POLL_READY) {
		r->outcome = O_READY_AT_POLL;
		sleep_drop(s);
		kfree(s);
		return;
	}
	w->live[i] = s;
	w->live_rec[i] = r;
}

static void finish(struct worker *w, unsigned i)
{
	kfree(w->live[i]);
	w->live[i] = NULL;
	w->live_rec[i] = NULL;
}

static void work_on(struct worker *w, unsigned i, bool may_cancel)
{
	struct sleep *s = w->live[i];
	struct record *r = w->live_rec[i];

	if (!s) {
		start_sleep(w, i);
	} else if (atomic_load(&r->wc.wakes) > 0) {
		struct waker wk = counter_waker(&r->wc);
		struct context cx = { &wk };

		CHECK(sleep_poll(s, &cx) == POLL_READY, "woken sleep not ready");
		r->outcome = O_WAITED;
		sleep_drop(s);
		finish(w, i);
	} else if (may_cancel &&
		   /* mostly right at the deadline, racing the turns */
		   (clock_now(&clk.clock) + 1 >= sleep_deadline(s) ?
		    xoro_below(&w->rng, 2) == 0 :
		    xoro_below(&w->rng, 16) == 0)) {
		r->outcome = sleep_cancel(s) ? O_CANCELLED : O_CANCEL_LOST;
		finish(w, i);
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	for (unsigned long n = 0; n < iterations; n++) {
		mock_clock_advance(&clk, xoro_below(&w->rng, 3));
		turn();
		work_on(w, (unsigned)xoro_below(&w->rng, WINDOW), true);
	}
	/*
	 * Drain: wait for every sleep still live (no more cancelling), for a
	 * time, not a number of rounds.  Another worker preempted while it
	 * holds the timer lock, or between a turn's unlock and the wakes it
	 * took, holds up every sleep it has for as long as it is off its CPU:
	 * 1-5 ms under make test's load, when 100,000 quick rounds were the
	 * bound here (one run in 500 failed so, 2026-12-07).  A round that
	 * moves nothing yields the CPU to it.
	 */
	double give_up = seconds() + DRAIN_SECONDS;
	unsigned long rounds = 0, busy = 0;

	for (;; rounds++) {
		bool any = false, waiting = true;

		for (unsigned i = 0; i < WINDOW; i++) {
			if (w->live[i]) {
				any = true;
				work_on(w, i, false);
				if (!w->live[i])
					waiting = false;
			}
		}
		if (!any)
			return NULL;
		mock_clock_advance(&clk, 1 + xoro_below(&w->rng, 4096));
		if (turn()) {
			busy++;
			waiting = true;
		}
		if (waiting && (rounds & 63) == 63) {
			if (seconds() > give_up)
				break;
			sched_yield();
		}
	}
	fprintf(stderr, "worker %u: %lu drain rounds in %d s, %lu found the "
		"timer lock taken; taken now: %d\n", w->id, rounds, DRAIN_SECONDS,
		busy, spin_is_locked(&tmr.lock));
	for (unsigned i = 0; i < WINDOW; i++) {
		struct sleep *s = w->live[i];

		if (s)
			fprintf(stderr, "worker %u sleep %u: deadline %llu state %u "
				"slot %u, wakes %d; clock %llu, hint %llu\n",
				w->id, i, (unsigned long long)sleep_deadline(s),
				(unsigned)atomic_load(&s->entry.state),
				(unsigned)s->entry.slot,
				atomic_load(&w->live_rec[i]->wc.wakes),
				(unsigned long long)clock_now(&clk.clock),
				(unsigned long long)timer_next_hint(&tmr));
	}
	CHECK(0, "worker %u: sleeps never fired", w->id);
	return NULL;
}

int main(void)
{
	static struct worker workers[THREADS];
	struct xoroshiro128pp rng;
	size_t counts[O_CANCEL_LOST + 1] = { 0 }, fired_expected = 0;

	iterations = stress_scale(ITERATIONS);	/* HYPHAE_SOAK=1: x SOAK_FACTOR */
	mock_clock_init(&clk, "stress", 1, 1);
	timer_init(&tmr, &clk.clock);
	test_rng_init(&rng, 0x1234567u);
	for (unsigned t = 0; t < THREADS; t++) {
		workers[t].id = t;
		test_rng_split(&rng, &workers[t].rng);
		workers[t].rec = calloc(iterations + 1, sizeof(struct record));
		CHECK(workers[t].rec != NULL, "out of memory");
		CHECK(pthread_create(&workers[t].thread, NULL, worker_main,
				     &workers[t]) == 0, "pthread_create");
	}
	for (unsigned t = 0; t < THREADS; t++)
		pthread_join(workers[t].thread, NULL);
	turn();

	for (unsigned t = 0; t < THREADS; t++) {
		for (size_t i = 0; i < workers[t].nrec; i++) {
			struct record *r = &workers[t].rec[i];
			int wakes = atomic_load(&r->wc.wakes);

			CHECK(atomic_load(&r->wc.refs) == 0,
			      "thread %u sleep %zu leaked a waker", t, i);
			switch (r->outcome) {
			case O_WAITED:
			case O_CANCEL_LOST:
				CHECK(wakes == 1, "thread %u sleep %zu (%d) woken %d times",
				      t, i, r->outcome, wakes);
				fired_expected++;
				break;
			case O_READY_AT_POLL:
			case O_CANCELLED:
				CHECK(wakes == 0, "thread %u sleep %zu (%d) woken %d times",
				      t, i, r->outcome, wakes);
				break;
			default:
				CHECK(0, "thread %u sleep %zu unfinished", t, i);
			}
			counts[r->outcome]++;
		}
		free(workers[t].rec);
	}
	CHECK(atomic_load(&total_fired) == fired_expected,
	      "turns fired %zu, expected %zu", atomic_load(&total_fired),
	      fired_expected);
	CHECK(timer_wheel_pending(&tmr.wheel) == 0, "wheel not empty");
	timer_wheel_check(&tmr.wheel);
	printf("stress_timer: %d threads: %zu waited, %zu cancelled, %zu lost the race to firing, %zu ready at first poll; %zu turns found the lock busy\n",
	       THREADS, counts[O_WAITED], counts[O_CANCELLED],
	       counts[O_CANCEL_LOST], counts[O_READY_AT_POLL],
	       atomic_load(&total_busy));
	/* The run must have exercised both outcomes of the race. */
	CHECK(counts[O_WAITED] > 0 && counts[O_CANCELLED] > 0,
	      "too few of each outcome");
	printf("1 passed, 0 failed\n");
	return 0;
}
