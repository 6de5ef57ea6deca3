/*
 * scenario_sem.c - the FIFO async semaphore (sched/semaphore.c): a large
 * request against small ones, and close and cancel against acquire.
 *
 *   sem        two permits, both held at the start by `releaser`, which
 *              gives them back one at a time; `big` acquires 2 (polling
 *              until READY) and `small` acquires 1, each releasing what it
 *              got; whichever queues first is served first, and a big
 *              request at the head takes each freed permit (a part of what
 *              it asked for) until it has both
 *   sem_close  two permits, both held at the start by `closer`, which
 *              releases one, closes the semaphore and releases the other
 *              (releases still count after a close); acq1 acquires 1
 *              until READY (0: it releases the permit; or -EPIPE); acq2
 *              asks for 2 and is cancelled if its first poll is PENDING
 *              (semaphore_waiter_drop: while it waits, maybe at the head
 *              holding one permit, which then goes to acq1 behind it; or
 *              after it was served, or closed)
 *
 * Along the way (sem_watch.h, after every step): permits are handed in
 * the order the waiters queued; only the head holds part of its request;
 * no permit is available while anyone waits (unless closed); the permits
 * available, assigned, handed over and held never exceed the total, and
 * a thread that acquires checks the holders never exceed it either; no
 * access to a waiter after its owner freed it (each frees its own).  In
 * sem_close: -EPIPE only once the close began, and every acquire that
 * begins after the close returned fails with -EPIPE.  At the end: every
 * permit is back and available, nobody is queued (semaphore_check), the
 * waiters are IDLE, every waker reference came back once; in sem both
 * requests were served, in sem_close acq1 finished with 0 or -EPIPE and
 * the semaphore is closed.
 */
#include "errno.h"
#include "sched/semaphore.h"
#include "tests/model/model.h"
#include "tests/model/sem_watch.h"
#include "tests/model/waiter.h"

static struct {
	struct semaphore s;
	struct semaphore_waiter w1, w2;
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	struct sem_watch sw;
	struct waiter k1, k2;
	long got1, got2, epipe1, epipe2, cancelled2;
	long close_began, close_done;
} G;

static void hold(const char *who, uint64_t k)
{
	model_ghost_add(&G.sw.held, (long)k);
	model_check((uint64_t)G.sw.held <= S.s.max, "%s took %llu: %ld "
		    "permits held, of %llu", who, (unsigned long long)k,
		    G.sw.held, (unsigned long long)S.s.max);
}

static void give_back(uint64_t k)
{
	model_ghost_add(&G.sw.held, -(long)k);
	model_check(semaphore_release(&S.s, k) == 0, "release of %llu "
		    "refused: more permits came back than were taken",
		    (unsigned long long)k);
}

/* Acquire k with waiter i until READY; its result. */
static int acquire_until_ready(unsigned i, struct semaphore_waiter *w,
			       struct waiter *k, uint64_t n)
{
	struct waker wk;
	struct context cx = waiter_context(k, &wk);
	int r = 1;

	while (semaphore_acquire(&S.s, w, n, &cx, &r) == POLL_PENDING) {
		model_check(waiter_wait(k), "%s: PENDING, and the wake never "
			    "came (permits lost)", G.sw.name[i]);
		waiter_rearm(k);
	}
	sem_watch_claim(&G.sw, i);
	return r;
}

static void common_setup(uint64_t permits, const char *n1, const char *n2)
{
	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	semaphore_init(&S.s, permits);
	semaphore_waiter_init(&S.w1);
	semaphore_waiter_init(&S.w2);
	waiter_init(&G.k1, n1);
	waiter_init(&G.k2, n2);
	sem_watch_init(&G.sw, &S.s);
	sem_watch_add(&G.sw, &S.w1, n1);
	sem_watch_add(&G.sw, &S.w2, n2);
	/* Every permit starts held (by the releaser, the closer). */
	if (semaphore_try_acquire(&S.s, permits) != 0)
		model_fail("setup: a new semaphore has no %llu permits",
			   (unsigned long long)permits);
	G.sw.held = (long)permits;
	model_track(&S.s, sizeof(S.s), "sem");
	model_name(&S.s.state, sizeof(S.s.state), "sem.state");
	model_name(&S.s.lock, sizeof(S.s.lock), "sem.lock");
	model_track(&S.w1, sizeof(S.w1), n1);
	model_name(&S.w1.state, sizeof(S.w1.state), "waiter1.state");
	model_track(&S.w2, sizeof(S.w2), n2);
	model_name(&S.w2.state, sizeof(S.w2.state), "waiter2.state");
}

static void invariant(void)
{
	sem_watch_step(&G.sw);
}

/* Every permit back and available, nobody queued, waiters IDLE. */
static void common_check(bool closed)
{
	uint64_t st = atomic_load_explicit(&S.s.state, memory_order_relaxed);

	model_check(G.sw.held == 0, "%ld permits still held", G.sw.held);
	model_check(st >> SEMAPHORE_STATE_SHIFT == S.s.max && S.s.assigned == 0,
		    "%llu of %llu permits available at the end (%llu assigned)",
		    (unsigned long long)(st >> SEMAPHORE_STATE_SHIFT),
		    (unsigned long long)S.s.max,
		    (unsigned long long)S.s.assigned);
	model_check(S.s.head == NULL && semaphore_is_closed(&S.s) == closed,
		    "head %p, closed %d at the end", (void *)S.s.head,
		    semaphore_is_closed(&S.s));
	semaphore_check(&S.s);
	model_check(atomic_load_explicit(&S.w1.state, memory_order_relaxed) ==
		    SEM_WAITER_IDLE &&
		    atomic_load_explicit(&S.w2.state, memory_order_relaxed) ==
		    SEM_WAITER_IDLE, "a waiter is not IDLE at the end");
	waiter_check_refs(&G.k1);
	waiter_check_refs(&G.k2);
}

/* ---- sem: a large request and a small one ---------------------------------- */

static void releaser(void *arg)
{
	(void)arg;
	give_back(1);
	give_back(1);
}

static void big(void *arg)
{
	(void)arg;
	model_check(acquire_until_ready(0, &S.w1, &G.k1, 2) == 0,
		    "big: acquire failed");
	model_ghost_add(&G.got1, 1);
	hold("big", 2);
	give_back(2);
	model_free(&S.w1);
}

static void small(void *arg)
{
	(void)arg;
	model_check(acquire_until_ready(1, &S.w2, &G.k2, 1) == 0,
		    "small: acquire failed");
	model_ghost_add(&G.got2, 1);
	hold("small", 1);
	give_back(1);
	model_free(&S.w2);
}

static void sem_setup(void)
{
	common_setup(2, "big", "small");
	model_spawn("releaser", releaser, NULL);
	model_spawn("big", big, NULL);
	model_spawn("small", small, NULL);
}

static void sem_check(void)
{
	model_check(G.got1 == 1 && G.got2 == 1, "big served %ld times, "
		    "small %ld", G.got1, G.got2);
	common_check(false);
}

/* ---- sem_close: release, cancel and close against acquire --------------------- */

/* A result of acquire: 0 (the caller holds the permit) or -EPIPE. */
static void acquired(const char *who, uint64_t k, int r, bool began_closed,
		     long *got, long *epipe)
{
	if (r == 0) {
		model_check(!began_closed, "%s began after the close returned, "
			    "and got permits", who);
		model_ghost_add(got, 1);
		hold(who, k);
		give_back(k);
	} else {
		model_check(r == -EPIPE, "%s: acquire returned %d", who, r);
		model_check(G.close_began, "%s: -EPIPE before the close", who);
		model_ghost_add(epipe, 1);
	}
}

static void acq1(void *arg)
{
	bool began_closed = G.close_done;

	(void)arg;
	acquired("acq1", 1, acquire_until_ready(0, &S.w1, &G.k1, 1),
		 began_closed, &G.got1, &G.epipe1);
	model_free(&S.w1);
}

static void acq2(void *arg)
{
	bool began_closed = G.close_done;
	struct waker wk;
	struct context cx = waiter_context(&G.k2, &wk);
	int r = 1;

	(void)arg;
	if (semaphore_acquire(&S.s, &S.w2, 2, &cx, &r) == POLL_READY) {
		sem_watch_claim(&G.sw, 1);
		acquired("acq2", 2, r, began_closed, &G.got2, &G.epipe2);
	} else {
		/* Cancelled: maybe holding a part, served, or closed. */
		sem_watch_claim(&G.sw, 1);
		(void)semaphore_waiter_drop(&S.s, &S.w2);
		model_ghost_add(&G.cancelled2, 1);
	}
	model_free(&S.w2);
}

static void closer(void *arg)
{
	(void)arg;
	give_back(1);
	model_ghost_add(&G.close_began, 1);
	semaphore_close(&S.s);
	model_ghost_add(&G.close_done, 1);
	give_back(1);
}

static void close_setup(void)
{
	common_setup(2, "acq1", "acq2");
	model_spawn("closer", closer, NULL);
	model_spawn("acq1", acq1, NULL);
	model_spawn("acq2", acq2, NULL);
}

static void close_check(void)
{
	model_check(G.got1 + G.epipe1 == 1, "acq1 finished %ld times",
		    G.got1 + G.epipe1);
	model_check(G.got2 + G.epipe2 + G.cancelled2 == 1, "acq2 finished "
		    "%ld times", G.got2 + G.epipe2 + G.cancelled2);
	common_check(true);
}

/* ---- scenarios and their mutations ------------------------------------------- */

static const struct model_mutation sem_mutations[] = {
	{
		.name = "try_acquire_split",
		.what = "try_acquire's CAS becomes a load and a store (two "
			"acquirers take the same permits)",
		.kind = MUT_SPLIT, .file = "sched/semaphore.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&s->state, &cur,",
		.func = "semaphore_try_acquire",
	},
	{
		.name = "queue_split",
		.what = "a waiter's queueing CAS (take what is there, set "
			"WAITERS) becomes a load and a store (a lock-free "
			"release in between is lost)",
		.kind = MUT_SPLIT, .file = "sched/semaphore.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&s->state, &cur, next,",
	},
};

static const struct model_mutation close_mutations[] = {
	{
		.name = "close_unmarked",
		.what = "close wakes the queued waiters but never sets CLOSED "
			"(a later acquire succeeds)",
		.kind = MUT_SKIP, .file = "sched/semaphore.c",
		.text = "atomic_fetch_or_explicit(&s->state, ST_CLOSED, memory_order_relaxed);",
	},
	{
		.name = "closed_relaxed",
		.what = "close marks a waiter CLOSED with a relaxed store (its "
			"owner may free it while close still writes it)",
		.kind = MUT_WEAKEN, .file = "sched/semaphore.c",
		.text = "atomic_store_explicit(&w->state, SEM_WAITER_CLOSED,",
		.order = memory_order_relaxed,
	},
};

const struct model_scenario scenario_sem = {
	.name = "sem",
	.what = "a request for 2 of 2 permits and one for 1, against "
		"releases one at a time",
	.setup = sem_setup, .check = sem_check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = sem_mutations, .n_mutations = ARRAY_SIZE(sem_mutations),
};

const struct model_scenario scenario_sem_close = {
	.name = "sem_close",
	.what = "an acquirer and a cancelled large request against "
		"releases and a close",
	.setup = close_setup, .check = close_check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = close_mutations,
	.n_mutations = ARRAY_SIZE(close_mutations),
};
