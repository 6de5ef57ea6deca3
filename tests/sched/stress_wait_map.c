/*
 * stress_wait_map.c - the wait map under threads (three stealing cores,
 * stress_cores.h): request/response matching.
 *
 * Waiter tasks each take a fresh key per round, subscribe (or, every
 * other round, just wait), post the key where two "interrupt" threads look
 * for requests, and wait; the responders wake each posted key with a value
 * derived from it - both may try the same key, so keys are woken twice.
 * Waiters are cancelled at random moments and replaced (a new incarnation
 * with new keys in the same slot); a few others wait on keys
 * nobody answers until the map is closed.  Checks: every value reaches the
 * waiter of its key (a wrong or missing value fails), of two wakes of one
 * key exactly one succeeds, every successful wake's value is received or
 * reported by the cancelled entry's drop (nothing lost), the unanswered
 * waiters end with -EPIPE, and the map ends empty.
 */
#include "errno.h"
#include "sched/wait_map.h"
#include "stress_cores.h"

#define WAITERS		32
#define IDLERS		4
#define BASE_ROUNDS	400
#define RESPONDERS	2
#define BASE_CANCELS	300
#define VALUE_MUL	0x9e3779b97f4a7c15ull

static struct wait_map map = WAIT_MAP_INIT;
static unsigned long n_rounds, n_cancels;
static _Atomic uint64_t posted[WAITERS];	/* a key to answer, or 0 */
static atomic_long done, idlers_closed, wakes_ok, received, dropped_value,
		   wrong, resp_stop;

/* What each incarnation of a waiter did, for the dump of a stuck run. */
#define MAX_INCS	(WAITERS + IDLERS + BASE_CANCELS * SOAK_FACTOR)
static struct {
	atomic_ulong polls, round;
	atomic_int done, cancelled;
	unsigned slot;
	struct task *task;	/* while its join handle is held */
	struct task *ptr;	/* alive while !done (drop_state not run) */
} incs[MAX_INCS];
static struct join_handle jh[WAITERS + IDLERS];

static uint64_t value_of(uint64_t key)
{
	return key * VALUE_MUL + 1;
}

static unsigned epoch_of(uint64_t key)
{
	return (unsigned)(key >> 24) & 0xffffffu;
}

/*
 * Post `key` for the responders, unless a newer incarnation of the slot
 * posted its own: a cancelled waiter's poll may still be running on one
 * core while its successor, spawned at once, polls on another, and a late
 * post of the old key (which the old waiter's drop then clears) would
 * leave the successor's key unposted and it waiting forever.
 */
static void post_key(unsigned id, uint64_t key)
{
	uint64_t cur = atomic_load_explicit(&posted[id], memory_order_relaxed);

	do {
		if (epoch_of(cur) > epoch_of(key))
			return;
		/* release: the responder that sees the key sees it queued
		 * (subscribed, or registered by the PENDING poll). */
	} while (!atomic_compare_exchange_weak_explicit(&posted[id], &cur, key,
							memory_order_release,
							memory_order_relaxed));
}

struct waiter {
	struct task task;
	unsigned pt;
	unsigned id, epoch;		/* slot, incarnation in it */
	unsigned inc;			/* index into incs[] */
	bool idle;			/* waits on a key nobody answers */
	unsigned long r;
	uint64_t key, value;
	int res;
	struct wait_map_entry e;
};

static enum poll waiter_poll(struct task *t, struct context *cx)
{
	struct waiter *w = container_of(t, struct waiter, task);

	atomic_fetch_add(&incs[w->inc].polls, 1);
	TASK_BEGIN(w->pt);
	if (w->idle) {
		TASK_AWAIT(wait_map_wait(&map, &w->e, ~(uint64_t)w->id, cx,
					 &w->value, &w->res));
		if (w->res == -EPIPE)
			atomic_fetch_add(&idlers_closed, 1);
		return POLL_READY;
	}
	for (w->r = 1; w->r <= n_rounds; w->r++) {
		w->key = (uint64_t)(w->id + 1) << 48 | (uint64_t)w->epoch << 24 | w->r;
		if (w->r % 2 == 0)
			STRESS_CHECK(wait_map_subscribe(&map, &w->e, w->key) == 0,
				     "subscribe");
		else
			STRESS_CHECK(wait_map_wait(&map, &w->e, w->key, cx, &w->value,
						   &w->res) == POLL_PENDING, "wait");
		post_key(w->id, w->key);
		TASK_AWAIT(wait_map_wait(&map, &w->e, w->key, cx, &w->value, &w->res));
		STRESS_CHECK(w->res == 0, "wait: %d", w->res);
		if (w->value != value_of(w->key))
			atomic_fetch_add(&wrong, 1);
		atomic_fetch_add(&received, 1);
		atomic_store(&incs[w->inc].round, w->r);
	}
	TASK_END;
}

static void waiter_drop_state(struct task *t)
{
	struct waiter *w = container_of(t, struct waiter, task);

	if (!w->idle) {
		/* Unpost its key (a new incarnation may have posted its own). */
		uint64_t k = w->key;

		atomic_compare_exchange_strong(&posted[w->id], &k, 0);
	}
	if (wait_map_entry_drop(&map, &w->e)) {
		/* Answered, cancelled before it looked: the value is here. */
		if (w->e.value != value_of(w->e.key))
			atomic_fetch_add(&wrong, 1);
		atomic_fetch_add(&dropped_value, 1);
	}
	atomic_store(&incs[w->inc].done, 1);
	atomic_fetch_add(&done, 1);
}

static const struct task_vtable waiter_vt = {
	.poll = waiter_poll, .drop_state = waiter_drop_state,
};

/* Answer posted keys; both responders may answer the same one. */
static void *responder(void *arg)
{
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 2654435761u * (unsigned)(uintptr_t)(arg));

	while (!atomic_load(&resp_stop)) {
		unsigned i = xoro_below(&rng, WAITERS);
		/* acquire: pairs with the waiter's release of the key. */
		uint64_t key = atomic_load_explicit(&posted[i], memory_order_acquire);
		int r, again;

		if (key == 0) {
			sched_yield();
			continue;
		}
		r = wait_map_wake(&map, key, value_of(key));
		STRESS_CHECK(r == 0 || r == -ENOENT, "wake: %d", r);
		if (r != 0)
			continue;
		atomic_fetch_add(&wakes_ok, 1);
		/* The same key again: nobody waits on it any more. */
		again = wait_map_wake(&map, key, value_of(key));
		STRESS_CHECK(again == -ENOENT, "second wake of a key: %d", again);
		{
			uint64_t k = key;

			atomic_compare_exchange_strong(&posted[i], &k, 0);
		}
	}
	return NULL;
}

static void spawn_waiter(struct join_handle *h, unsigned i, unsigned epoch)
{
	unsigned inc = epoch ? WAITERS + IDLERS + epoch - 1 : i;
	struct waiter init = { .id = i, .epoch = epoch, .inc = inc,
			       .idle = i >= WAITERS };

	wait_map_entry_init(&init.e);
	sc_spawn(i, &waiter_vt, &init, sizeof(init), h);
	incs[inc].task = incs[inc].ptr = h->task;
	incs[inc].slot = i;
}

/* On a timeout: the incarnations that never finished, and what they did. */
static void dump_stuck(void)
{
	unsigned n = WAITERS + IDLERS + (unsigned)n_cancels;

	for (unsigned k = 0; k < n; k++) {
		unsigned slot = incs[k].slot;
		struct task *t = incs[k].ptr;

		if (atomic_load(&incs[k].done))
			continue;
		fprintf(stderr, "incarnation %u: polls %lu round %lu cancelled %d"
			" posted[%u] %#llx state %#llx\n", k,
			atomic_load(&incs[k].polls), atomic_load(&incs[k].round),
			atomic_load(&incs[k].cancelled), slot,
			(unsigned long long)atomic_load(&posted[slot % WAITERS]),
			t ? (unsigned long long)atomic_load(&t->state) : 0ull);
	}
	fprintf(stderr, "map: %zu waiting, wakes_ok %ld received %ld\n",
		wait_map_waiters(&map), atomic_load(&wakes_ok),
		atomic_load(&received));
	for (unsigned c = 0; c < SC_CORES; c++)
		fprintf(stderr, "core %u: queued %zu\n", c,
			sched_queued(&sc_scheds[c]));
}

int main(void)
{
	pthread_t resp[RESPONDERS];
	struct xoroshiro128pp rng;

	test_rng_init(&rng, 2654435761u * 17);

	n_rounds = stress_scale(BASE_ROUNDS);
	n_cancels = stress_scale(BASE_CANCELS);
	sc_on_timeout = dump_stuck;
	sc_start();
	for (unsigned i = 0; i < RESPONDERS; i++)
		pthread_create(&resp[i], NULL, responder, (void *)(uintptr_t)(i + 1));
	for (unsigned i = 0; i < WAITERS + IDLERS; i++)
		spawn_waiter(&jh[i], i, 0);
	for (unsigned long c = 1; c <= n_cancels; c++) {
		unsigned i = xoro_below(&rng, WAITERS);

		for (unsigned k = xoro_below(&rng, 64); k > 0; k--)
			sched_yield();
		for (unsigned k = 0; k < MAX_INCS; k++)
			if (incs[k].task == jh[i].task && jh[i].task) {
				atomic_store(&incs[k].cancelled, 1);
				incs[k].task = NULL;
			}
		(void)join_cancel(&jh[i]);
		join_drop(&jh[i]);
		spawn_waiter(&jh[i], i, (unsigned)c);
	}
	sc_wait(&done, (long)(WAITERS + n_cancels), "waiters");
	atomic_store(&resp_stop, 1);
	for (unsigned i = 0; i < RESPONDERS; i++)
		pthread_join(resp[i], NULL);
	STRESS_CHECK(wait_map_waiters(&map) == IDLERS, "%zu waiting, want %d",
		     wait_map_waiters(&map), IDLERS);
	wait_map_close(&map);
	sc_wait(&done, (long)(WAITERS + IDLERS + n_cancels), "idle waiters after close");
	sc_stop_all();
	for (unsigned i = 0; i < WAITERS + IDLERS; i++)
		join_drop(&jh[i]);
	STRESS_CHECK(atomic_load(&wrong) == 0, "%ld values reached the wrong key",
		     atomic_load(&wrong));
	STRESS_CHECK(atomic_load(&wakes_ok) ==
		     atomic_load(&received) + atomic_load(&dropped_value),
		     "%ld wakes, %ld received, %ld held by cancelled entries",
		     atomic_load(&wakes_ok), atomic_load(&received),
		     atomic_load(&dropped_value));
	STRESS_CHECK(atomic_load(&idlers_closed) == IDLERS, "%ld idle waiters "
		     "saw the close", atomic_load(&idlers_closed));
	wait_map_check(&map);
	STRESS_CHECK(wait_map_waiters(&map) == 0, "map not empty");
	printf("stress_wait_map: %ld values delivered (%ld to cancelled waiters)\n",
	       atomic_load(&wakes_ok), atomic_load(&dropped_value));
	printf("1 passed, 0 failed\n");
	return 0;
}
