/*
 * bench_sync.c - the `bench` rows of the sync primitives (bench_sync.h).
 *
 *   mutex handoff    SYNC_TASKS tasks x SYNC_ROUNDS rounds of lock, yield
 *                    while holding, unlock: nearly every lock is handed
 *                    over by an unlock to a queued waiter (bench_rt's
 *                    mutex_handoff, smaller); per lock
 *   semaphore        the same with SYNC_PERMITS permits; per acquire
 *   channel          one task sends SYNC_ITEMS integers through a channel
 *                    of SYNC_CAP slots, another receives them; per item
 */
#include "errno.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "panic.h"
#include "sched/channel.h"
#include "sched/mutex.h"
#include "sched/semaphore.h"
#include "sched/sync.h"
#include "shell/bench_sync.h"

#define SYNC_TASKS	8u
#define SYNC_ROUNDS	250u
#define SYNC_PERMITS	2u
#define SYNC_ITEMS	20000u
#define SYNC_CAP	256u

struct shell_sync_bench {
	/* Constant after start. */
	struct runtime *rt;
	enum shell_sync_kind kind;

	/* Any holder. */
	atomic_uint refs;
	atomic_bool cancel;		/* relaxed: a stop request */
	atomic_uint remaining;		/* helpers not finished */
	struct wait_cell done;		/* woken by the last helper */
	struct mutex mutex;
	struct semaphore sem;
	struct channel ch;
	uint64_t ch_buf[CHANNEL_BUF_SIZE(sizeof(uint64_t), SYNC_CAP) /
			sizeof(uint64_t)];
};

static void put(struct shell_sync_bench *b)
{
	/* acq_rel: the last holder sees every other holder's writes. */
	if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) == 1)
		kfree(b);
}

/* A helper is done: the last one wakes the job. */
static void helper_done(struct shell_sync_bench *b)
{
	/* acq_rel: the job (after `done`) sees every helper's work. */
	if (atomic_fetch_sub_explicit(&b->remaining, 1, memory_order_acq_rel) == 1)
		(void)wait_cell_wake(&b->done);
}

struct helper {
	struct task task;
	unsigned pt;
	struct shell_sync_bench *b;
	unsigned r;
	bool holding, sender;
	int res;
	uint64_t v;
	struct semaphore_waiter w;
	struct channel_sender s;
};

static bool cancelled(struct shell_sync_bench *b)
{
	return atomic_load_explicit(&b->cancel, memory_order_relaxed);
}

/* The protothread macros cannot sit inside a switch: if/else by kind. */
static enum poll helper_poll(struct task *t, struct context *cx)
{
	struct helper *h = container_of(t, struct helper, task);
	struct shell_sync_bench *b = h->b;

	TASK_BEGIN(h->pt);
	if (b->kind == SHELL_SYNC_MUTEX) {
		for (h->r = 0; h->r < SYNC_ROUNDS && !cancelled(b); h->r++) {
			TASK_AWAIT(mutex_lock(&b->mutex, &h->w, cx));
			h->holding = true;
			TASK_YIELD();
			h->holding = false;
			mutex_unlock(&b->mutex);
		}
	} else if (b->kind == SHELL_SYNC_SEMAPHORE) {
		for (h->r = 0; h->r < SYNC_ROUNDS && !cancelled(b); h->r++) {
			TASK_AWAIT(semaphore_acquire(&b->sem, &h->w, 1, cx, &h->res));
			if (h->res)
				break;		/* closed by a cancel */
			h->holding = true;
			TASK_YIELD();
			h->holding = false;
			if (semaphore_release(&b->sem, 1))
				panic("bench_sync: a held permit did not fit back");
		}
	} else if (h->sender) {
		for (h->v = 0; h->v < SYNC_ITEMS; h->v++) {
			TASK_AWAIT(channel_send(&b->ch, &h->s, &h->v, cx, &h->res));
			if (h->res)
				break;		/* closed by a cancel */
		}
		channel_close(&b->ch);
	} else {
		do {
			TASK_AWAIT(channel_recv(&b->ch, cx, &h->v, &h->res));
		} while (h->res == 0);
	}
	TASK_END;
}

/* Completion or cancellation: give back what is held, then the books. */
static void helper_drop_state(struct task *t)
{
	struct helper *h = container_of(t, struct helper, task);
	struct shell_sync_bench *b = h->b;

	switch (b->kind) {
	case SHELL_SYNC_MUTEX:
		if (h->holding)
			mutex_unlock(&b->mutex);
		else
			mutex_waiter_drop(&b->mutex, &h->w);
		break;
	case SHELL_SYNC_SEMAPHORE:
		if (h->holding && semaphore_release(&b->sem, 1))
			panic("bench_sync: a held permit did not fit back");
		else if (!h->holding)
			(void)semaphore_waiter_drop(&b->sem, &h->w);
		break;
	default:
		if (h->sender)
			channel_sender_drop(&b->ch, &h->s);
		else
			channel_recv_drop(&b->ch);
		channel_close(&b->ch);
		break;
	}
	helper_done(b);
	put(b);
}

static const struct task_vtable helper_vt = {
	.poll = helper_poll,
	.drop_state = helper_drop_state,
	.name = "bench-sync",
};

struct shell_sync_bench *shell_sync_bench_start(struct runtime *rt,
						enum shell_sync_kind kind)
{
	struct shell_sync_bench *b = kmalloc(sizeof(*b));
	unsigned n = kind == SHELL_SYNC_CHANNEL ? 2 : SYNC_TASKS;

	if (b == NULL)
		return NULL;
	memset(b, 0, sizeof(*b));
	b->rt = rt;
	b->kind = kind;
	atomic_init(&b->refs, 1 + n);
	atomic_init(&b->cancel, false);
	atomic_init(&b->remaining, n);
	wait_cell_init(&b->done);
	mutex_init(&b->mutex);
	semaphore_init(&b->sem, SYNC_PERMITS);
	if (channel_init(&b->ch, b->ch_buf, sizeof(b->ch_buf), sizeof(uint64_t),
			 SYNC_CAP))
		panic("shell_sync_bench_start: channel_init refused its buffer");
	for (unsigned i = 0; i < n; i++) {
		struct helper init = { .b = b, .sender = i == 1 };

		semaphore_waiter_init(&init.w);
		channel_sender_init(&init.s);
		if (rt_spawn(rt, &helper_vt, &init, sizeof(init), NULL) != 0) {
			/* The ones never spawned hold no reference. */
			atomic_store_explicit(&b->cancel, true, memory_order_relaxed);
			channel_close(&b->ch);
			semaphore_close(&b->sem);
			for (unsigned k = i; k < n; k++) {
				helper_done(b);
				put(b);
			}
			break;
		}
	}
	return b;
}

enum poll shell_sync_bench_poll(struct shell_sync_bench *b, struct context *cx)
{
	/* acquire: pairs with helper_done()'s acq_rel. */
	if (atomic_load_explicit(&b->remaining, memory_order_acquire) == 0)
		return POLL_READY;
	if (wait_cell_poll(&b->done, cx) == POLL_READY &&
	    atomic_load_explicit(&b->remaining, memory_order_acquire) == 0)
		return POLL_READY;
	return POLL_PENDING;
}

uint64_t shell_sync_bench_ops(const struct shell_sync_bench *b)
{
	if (b->kind == SHELL_SYNC_CHANNEL)
		return SYNC_ITEMS;
	return (uint64_t)SYNC_TASKS * SYNC_ROUNDS;
}

const char *shell_sync_bench_name(enum shell_sync_kind kind)
{
	static const char *const names[SHELL_SYNC_KINDS] = {
		"mutex handoff", "semaphore (2 permits)", "channel send+recv",
	};

	return names[kind];
}

const char *shell_sync_bench_unit(enum shell_sync_kind kind)
{
	static const char *const units[SHELL_SYNC_KINDS] = {
		"/lock", "/acquire", "/item",
	};

	return units[kind];
}

void shell_sync_bench_release(struct shell_sync_bench *b, bool cancel)
{
	if (cancel) {
		atomic_store_explicit(&b->cancel, true, memory_order_relaxed);
		semaphore_close(&b->sem);
		channel_close(&b->ch);
	}
	wait_cell_unregister(&b->done);
	put(b);
}
