/*
 * test_wheel_random.c - randomized differential test of the timer wheel.
 *
 * Thousands of random insert / cancel / advance steps (advances small,
 * large, to exactly the reported next deadline, with and without a fire
 * budget) run against the wheel and against an obviously right model: an
 * array of deadlines, scanned.  After every step timer_wheel_check() runs
 * and the wheel must agree with the model on what fired (the due entries
 * in deadline order, none early, none twice, none cancelled), on what is
 * pending, and on the next deadline's bounds.  As wahern/timeout's
 * test-timeout.c does.  Run s of the three is seeded base + s, base a
 * fixed default or HYPHAE_TEST_SEED; HYPHAE_SOAK=1 runs many more steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <cmocka.h>

#include "errno.h"
#include "tests/support/rng.h"
#include "timer/wheel.h"

#define N_ENTRIES	256
#define STEPS		20000
#define SOAK_STEPS	2000000

enum model_state { M_IDLE, M_PENDING, M_FIRED };

struct model {
	struct timer_entry e;
	ticks_t deadline;
	enum model_state state;
};

struct run {
	struct timer_wheel w;
	size_t n_fired, n_cancelled, n_far;
	struct model m[N_ENTRIES];
	struct xoroshiro128pp rng;
	/* fired during the current advance, in order */
	size_t nfired;
	struct model *fired[N_ENTRIES];
};

static struct run run;

/* A distance: mostly near level boundaries, sometimes far beyond range. */
static ticks_t rnd_delta(void)
{
	unsigned kind = xoro_below(&run.rng, 8);
	unsigned level = xoro_below(&run.rng, WHEEL_LEVELS + 2);
	ticks_t b = (ticks_t)1 << (level * WHEEL_SLOT_BITS);

	switch (kind) {
	case 0:
		return 1 + xoro_below(&run.rng, 64);
	case 1:	/* just around a boundary */
		return b + xoro_below(&run.rng, 3) - 1 + (b == 1);
	case 2:
		return 1 + xoro_below(&run.rng, b * 2);
	case 3:
		return 1 + (xoro_next(&run.rng) >> (xoro_below(&run.rng, 64) | 16));
	default:
		return 1 + xoro_below(&run.rng, 5000);
	}
}

static void on_fire(struct timer_entry *e, void *arg)
{
	struct model *m = (struct model *)e;	/* e is the first member */

	(void)arg;
	assert_true(run.nfired < N_ENTRIES);
	assert_int_equal(m->state, M_PENDING);
	run.fired[run.nfired++] = m;
}

static void compare_pending(void)
{
	size_t pending = 0;
	ticks_t min = TIMER_NO_DEADLINE;
	ticks_t next = timer_wheel_next_deadline(&run.w);

	for (int i = 0; i < N_ENTRIES; i++) {
		struct model *m = &run.m[i];
		enum timer_entry_state st = timer_entry_state(&m->e);

		assert_int_equal(st, m->state == M_PENDING ? TIMER_ENTRY_PENDING :
				 m->state == M_FIRED ? TIMER_ENTRY_FIRED :
				 TIMER_ENTRY_IDLE);
		if (m->state == M_PENDING) {
			pending++;
			if (m->deadline < min)
				min = m->deadline;
		}
	}
	assert_int_equal(timer_wheel_pending(&run.w), pending);
	/* The next deadline never lies after the earliest pending one. */
	assert_true(next <= min);
	if (min == TIMER_NO_DEADLINE)
		assert_int_equal(next, TIMER_NO_DEADLINE);
	else if (timer_wheel_pending_level(&run.w, WHEEL_LEVELS) == 0)
		assert_true(next > run.w.now);
}

static void step_insert(void)
{
	struct model *m = &run.m[xoro_below(&run.rng, N_ENTRIES)];
	ticks_t d;
	int rc;

	if (m->state == M_PENDING)
		return;
	d = xoro_below(&run.rng, 16) ? run.w.now + rnd_delta() :
	    run.w.now - xoro_below(&run.rng, 3);
	if (d < run.w.now && xoro_below(&run.rng, 2))
		d = run.w.now;
	rc = timer_wheel_insert(&run.w, &m->e, d);
	if (d <= run.w.now) {
		assert_int_equal(rc, -ETIMEDOUT);
	} else {
		assert_int_equal(rc, 0);
		m->deadline = d;
		m->state = M_PENDING;
		run.n_far += d - run.w.now >= WHEEL_RANGE;
	}
}

static void step_cancel(void)
{
	unsigned i = xoro_below(&run.rng, N_ENTRIES);
	struct model *m;
	bool was;

	/* Mostly aim at a pending entry: most entries fire before they are
	 * picked at random. */
	for (unsigned k = 0; k < N_ENTRIES && xoro_below(&run.rng, 4); k++)
		if (run.m[(i + k) % N_ENTRIES].state == M_PENDING) {
			i = (i + k) % N_ENTRIES;
			break;
		}
	m = &run.m[i];
	was = m->state == M_PENDING;

	assert_int_equal(timer_wheel_cancel(&run.w, &m->e), was);
	if (was) {
		m->state = M_IDLE;
		run.n_cancelled++;
	}
}

static void step_advance(void)
{
	ticks_t target, due_min_left = TIMER_NO_DEADLINE, fired_max = 0;
	size_t n, due = 0;
	size_t max = xoro_below(&run.rng, 4) ? SIZE_MAX : xoro_below(&run.rng, 8);
	ticks_t before = run.w.now, asked;
	ticks_t next = timer_wheel_next_deadline(&run.w);

	switch (xoro_below(&run.rng, 4)) {
	case 0:
		target = next == TIMER_NO_DEADLINE ? run.w.now + 1 : next;
		break;
	case 1:
		target = next == TIMER_NO_DEADLINE || next <= run.w.now ?
			 run.w.now - (run.w.now > 0 && xoro_below(&run.rng, 2)) :
			 next - 1;
		break;
	default:
		target = run.w.now + rnd_delta();
		break;
	}
	/* An earlier target moves nothing but still fires leftovers. */
	asked = target;
	if (target < before)
		target = before;
	for (int i = 0; i < N_ENTRIES; i++)
		if (run.m[i].state == M_PENDING && run.m[i].deadline <= target)
			due++;
	run.nfired = 0;
	n = timer_wheel_advance(&run.w, asked, max, on_fire, NULL);
	assert_int_equal(n, run.nfired);
	assert_int_equal(run.nfired, due < max ? due : max);
	assert_int_equal(run.w.now, target > before ? target : before);
	for (size_t i = 0; i < run.nfired; i++) {
		struct model *m = run.fired[i];

		assert_true(m->deadline <= target);
		assert_true(m->deadline >= fired_max);	/* deadline order */
		fired_max = m->deadline;
		m->state = M_FIRED;
		run.n_fired++;
	}
	/* Whatever the budget left over is no earlier than what fired. */
	for (int i = 0; i < N_ENTRIES; i++)
		if (run.m[i].state == M_PENDING && run.m[i].deadline <= target &&
		    run.m[i].deadline < due_min_left)
			due_min_left = run.m[i].deadline;
	assert_true(due_min_left >= fired_max);
}

static void test_differential(void **state)
{
	uint64_t base = test_rng_seed(0x5eed0000u);
	long steps = getenv("HYPHAE_SOAK") ? SOAK_STEPS : STEPS;
	static const ticks_t starts[] = { 0, (1ull << 36) - 100, 1ull << 60 };

	(void)state;
	for (size_t s = 0; s < ARRAY_SIZE(starts); s++) {
		xoro_seed(&run.rng, base + s);
		printf("seed %#llx+%zu, start %llu, %ld steps\n",
		       (unsigned long long)base, s,
		       (unsigned long long)starts[s], steps);
		timer_wheel_init(&run.w, starts[s]);
		for (int i = 0; i < N_ENTRIES; i++) {
			timer_entry_init(&run.m[i].e);
			run.m[i].state = M_IDLE;
		}
		for (long i = 0; i < steps; i++) {
			unsigned op = xoro_below(&run.rng, 10);

			if (op < 5)
				step_insert();
			else if (op < 7)
				step_cancel();
			else
				step_advance();
			timer_wheel_check(&run.w);
			compare_pending();
		}
		printf("fired %zu, cancelled %zu, inserted beyond range %zu\n",
		       run.n_fired, run.n_cancelled, run.n_far);
		/* The mix must really exercise firing, cancelling, far timers. */
		assert_true(run.n_fired > (size_t)steps / 50);
		assert_true(run.n_cancelled > (size_t)steps / 50);
		assert_true(run.n_far > 0);
		run.n_fired = run.n_cancelled = run.n_far = 0;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
