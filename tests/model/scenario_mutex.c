/*
 * scenario_mutex.c - the async mutex (sched/mutex.c: a one-permit FIFO
 * semaphore, sched/semaphore.c) between its holder and two waiters.
 *
 * The lock starts held by `holder`, which increments the counter, unlocks,
 * and then comes back as a newcomer with mutex_try_lock (taking the lock
 * again only if it is free and nobody waits).  waiter1 locks (polling
 * until READY), increments, unlocks.  waiter2 locks; if its first poll is
 * PENDING its task is cancelled (mutex_waiter_drop) - before or after the
 * unlock handed it the lock, so a handoff it never claims must go on to
 * waiter1, or leave the lock free.  Each waiter frees its semaphore_waiter
 * when done.
 *
 * Along the way (sem_watch.h, after every step): the lock is handed to
 * the waiters in the order they queued; no permit is free while anyone
 * waits (no barging); the lock exists once (free, or handed to a waiter
 * not yet polled, or held); two holders are never in the critical section
 * together; the holder's try_lock never succeeds while a waiter queues;
 * the counter's plain accesses are ordered by the lock (the race
 * checker: the handoff's release/acquire); no access to a waiter after its
 * owner freed it.  At the end: waiter1 held the lock; the counter counts
 * every critical section; the mutex is free with nobody queued
 * (semaphore_check); both waiters IDLE; every reference to each waiter's
 * waker came back once.
 */
#include "sched/mutex.h"
#include "tests/model/model.h"
#include "tests/model/sem_watch.h"
#include "tests/model/waiter.h"

static struct {
	struct mutex m;
	struct semaphore_waiter w1, w2;
	long counter;		/* plain: under the mutex */
} S;

/* Bookkeeping: no scheduling points, no race checks. */
static struct {
	struct sem_watch sw;
	struct waiter k1, k2;
	long sections, got1, got2, cancelled2, barged;
} G;

/* Enter the critical section (the caller holds the lock). */
static void section(const char *who)
{
	model_check(G.sw.held == 0, "%s holds the mutex while another "
		    "holder is inside", who);
	model_ghost_add(&G.sw.held, 1);
	S.counter++;
	model_ghost_add(&G.sections, 1);
}

static void unlock(void)
{
	model_ghost_add(&G.sw.held, -1);
	mutex_unlock(&S.m);
}

static void holder(void *arg)
{
	(void)arg;
	/* setup took the lock for it. */
	model_ghost_add(&G.sw.held, -1);
	section("holder");
	unlock();
	if (mutex_try_lock(&S.m)) {
		model_check(G.sw.queued == 0, "holder barged: its try_lock "
			    "took the mutex while %ld waiter(s) queued",
			    G.sw.queued);
		model_ghost_add(&G.barged, 1);
		section("holder (try_lock)");
		unlock();
	}
}

static void waiter1(void *arg)
{
	struct waker wk;
	struct context cx = waiter_context(&G.k1, &wk);

	(void)arg;
	while (mutex_lock(&S.m, &S.w1, &cx) == POLL_PENDING) {
		model_check(waiter_wait(&G.k1), "waiter1: PENDING, and the "
			    "wake never came (the lock was lost)");
		waiter_rearm(&G.k1);
	}
	sem_watch_claim(&G.sw, 0);
	model_ghost_add(&G.got1, 1);
	section("waiter1");
	unlock();
	model_free(&S.w1);
}

static void waiter2(void *arg)
{
	struct waker wk;
	struct context cx = waiter_context(&G.k2, &wk);
	enum poll p;

	(void)arg;
	p = mutex_lock(&S.m, &S.w2, &cx);
	sem_watch_claim(&G.sw, 1);
	if (p == POLL_READY) {
		model_ghost_add(&G.got2, 1);
		section("waiter2");
		unlock();
	} else {
		/* Cancelled while in mutex_lock(): maybe already handed it. */
		mutex_waiter_drop(&S.m, &S.w2);
		model_ghost_add(&G.cancelled2, 1);
	}
	model_free(&S.w2);
}

static void setup(void)
{
	memset(&S, 0, sizeof(S));
	memset(&G, 0, sizeof(G));
	mutex_init(&S.m);
	semaphore_waiter_init(&S.w1);
	semaphore_waiter_init(&S.w2);
	waiter_init(&G.k1, "waiter1.woken");
	waiter_init(&G.k2, "waiter2.woken");
	sem_watch_init(&G.sw, &S.m.sem);
	sem_watch_add(&G.sw, &S.w1, "waiter1");
	sem_watch_add(&G.sw, &S.w2, "waiter2");
	if (!mutex_try_lock(&S.m))	/* the holder's, from the start */
		model_fail("setup: a new mutex is locked");
	G.sw.held = 1;
	model_track(&S.m, sizeof(S.m), "mutex");
	model_name(&S.m.sem.state, sizeof(S.m.sem.state), "mutex.state");
	model_name(&S.m.sem.lock, sizeof(S.m.sem.lock), "mutex.lock");
	model_track(&S.w1, sizeof(S.w1), "waiter1");
	model_name(&S.w1.state, sizeof(S.w1.state), "waiter1.state");
	model_track(&S.w2, sizeof(S.w2), "waiter2");
	model_name(&S.w2.state, sizeof(S.w2.state), "waiter2.state");
	model_track(&S.counter, sizeof(S.counter), "counter");
	model_spawn("holder", holder, NULL);
	model_spawn("waiter1", waiter1, NULL);
	model_spawn("waiter2", waiter2, NULL);
}

static void invariant(void)
{
	sem_watch_step(&G.sw);
}

static void check(void)
{
	uint64_t st = atomic_load_explicit(&S.m.sem.state, memory_order_relaxed);

	model_check(G.got1 == 1, "waiter1 never held the mutex");
	model_check(S.counter == G.sections, "counter %ld after %ld critical "
		    "sections (an increment was lost)", S.counter, G.sections);
	model_check(G.got2 + G.cancelled2 == 1, "waiter2 neither held the "
		    "mutex nor was cancelled");
	model_check(G.sw.held == 0, "%ld holders left", G.sw.held);
	model_check(st == 1ull << SEMAPHORE_STATE_SHIFT && S.m.sem.head == NULL,
		    "the mutex is not free at the end: state %#llx, head %p",
		    (unsigned long long)st, (void *)S.m.sem.head);
	semaphore_check(&S.m.sem);
	model_check(atomic_load_explicit(&S.w1.state, memory_order_relaxed) ==
		    SEM_WAITER_IDLE &&
		    atomic_load_explicit(&S.w2.state, memory_order_relaxed) ==
		    SEM_WAITER_IDLE, "a waiter is not IDLE at the end");
	waiter_check_refs(&G.k1);
	waiter_check_refs(&G.k2);
}

static const struct model_mutation mutations[] = {
	{
		.name = "release_split",
		.what = "an unlock's lock-free CAS of the state word becomes a "
			"load and a store (it can overwrite the WAITERS bit a "
			"waiter set meanwhile: the permit is freed under it)",
		.kind = MUT_SPLIT, .file = "sched/semaphore.c",
		.text = "if (atomic_compare_exchange_weak_explicit(&s->state, &cur,",
		.func = "semaphore_release",
	},
	{
		.name = "handoff_relaxed",
		.what = "the handoff marks the waiter ACQUIRED with a relaxed "
			"store (the new holder does not see the old one's "
			"critical section)",
		.kind = MUT_WEAKEN, .file = "sched/semaphore.c",
		.text = "atomic_store_explicit(&w->state, SEM_WAITER_ACQUIRED,",
		.order = memory_order_relaxed,
	},
	{
		.name = "drop_unlocked",
		.what = "a cancelled waiter unlinks itself without the "
			"semaphore's lock (against an unlock handing it the "
			"lock)",
		.kind = MUT_NOLOCK, .file = "sched/semaphore.c",
		.text = "flags = spin_lock_irqsave(&s->lock);",
		.func = "semaphore_waiter_drop",
	},
};

const struct model_scenario scenario_mutex = {
	.name = "mutex",
	.what = "the holder's unlock and try_lock against a waiter and a "
		"cancelled one",
	.setup = setup, .check = check, .invariant = invariant,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = mutations, .n_mutations = ARRAY_SIZE(mutations),
};
