/*
 * rt_sync.c - bench_rt's tokio::sync workloads, the shapes of the tokio
 * peer's (bench/peers/tokio/src/main.rs), same names:
 *   mutex_handoff(200x100)       200 tasks x 100 rounds of lock, yield while
 *                                holding, +1, unlock; the count is checked
 *   semaphore_8(200x100)         200 tasks x 100 rounds of acquire one of 8
 *                                permits, yield, release
 *   rwlock_read_mostly(200x100)  as the mutex, but round r of task t writes
 *                                (+1) when (t + r) % 10 == 0, else reads
 *   channel_1x100k(cap1024)      one task sends 0..99,999, one receives and
 *                                sums them (checked); the sender closes
 *   channel_16x10k(cap1024)      16 tasks send 10,000 each, one task counts
 *                                them (checked); the last sender closes
 *                                (tokio: the last Sender dropped)
 * Every task is spawned from the main thread (tokio's rt.spawn), which
 * then waits for the last one to finish.  A wrong count aborts.
 */
#include <stdio.h>
#include <stdlib.h>

#include "bench/bench_rt.h"
#include "errno.h"
#include "sched/channel.h"
#include "sched/mutex.h"
#include "sched/rwlock.h"
#include "sched/semaphore.h"

#define SYNC_TASKS	200
#define SYNC_ROUNDS	100
#define SEM_PERMITS	8
#define RW_WRITE_EVERY	10
#define CHAN_CAP	1024
#define CHAN_1_N	100000ull
#define CHAN_16_P	16
#define CHAN_16_N	10000ull

/* A task of the lock workloads: its index, round and waiter. */
struct lock_task {
	struct task task;
	unsigned pt;
	unsigned t, r;
	int res;
	struct semaphore_waiter w;
};

/* The last task to finish wakes the main thread.  acq_rel: the release
 * sequence on `remaining` carries every task's work to signal_done(). */
static void task_finished(void)
{
	if (atomic_fetch_sub_explicit(&remaining, 1, memory_order_acq_rel) == 1)
		signal_done();
}

static bool spawn_lock_tasks(const struct task_vtable *vt)
{
	atomic_store_explicit(&remaining, SYNC_TASKS, memory_order_relaxed);
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	for (unsigned i = 0; i < SYNC_TASKS; i++) {
		struct lock_task init = { .t = i };

		semaphore_waiter_init(&init.w);
		spawn(vt, &init, sizeof(init), NULL);
	}
	return block_on(done_poll, NULL);
}

/* ---- mutex_handoff --------------------------------------------------------- */

static struct mutex bmutex __cacheline_aligned;
static uint64_t bmutex_count;		/* under bmutex */

static enum poll mutex_task_poll(struct task *t, struct context *cx)
{
	struct lock_task *l = container_of(t, struct lock_task, task);

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < SYNC_ROUNDS; l->r++) {
		TASK_AWAIT(mutex_lock(&bmutex, &l->w, cx));
		TASK_YIELD();
		bmutex_count++;
		mutex_unlock(&bmutex);
	}
	task_finished();
	TASK_END;
}

static const struct task_vtable mutex_task_vt = { .poll = mutex_task_poll };

static bool mutex_handoff(void)
{
	bool ok;

	mutex_init(&bmutex);
	bmutex_count = 0;
	ok = spawn_lock_tasks(&mutex_task_vt);
	/* tokio: assert_eq!(*m.lock(), TASKS * ROUNDS) */
	if (ok) {
		if (!mutex_try_lock(&bmutex) ||
		    bmutex_count != (uint64_t)SYNC_TASKS * SYNC_ROUNDS) {
			fprintf(stderr, "mutex_handoff: count %llu\n",
				(unsigned long long)bmutex_count);
			abort();
		}
		mutex_unlock(&bmutex);
	}
	return ok;
}

/* ---- semaphore_8 ----------------------------------------------------------- */

static struct semaphore bsem __cacheline_aligned;

static enum poll sem_task_poll(struct task *t, struct context *cx)
{
	struct lock_task *l = container_of(t, struct lock_task, task);

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < SYNC_ROUNDS; l->r++) {
		TASK_AWAIT(semaphore_acquire(&bsem, &l->w, 1, cx, &l->res));
		if (l->res)
			abort();
		TASK_YIELD();
		if (semaphore_release(&bsem, 1))
			abort();
	}
	task_finished();
	TASK_END;
}

static const struct task_vtable sem_task_vt = { .poll = sem_task_poll };

static bool semaphore_8(void)
{
	bool ok;

	semaphore_init(&bsem, SEM_PERMITS);
	ok = spawn_lock_tasks(&sem_task_vt);
	if (ok && semaphore_available(&bsem) != SEM_PERMITS)
		abort();
	return ok;
}

/* ---- rwlock_read_mostly ---------------------------------------------------- */

static struct rwlock brw __cacheline_aligned;
static uint64_t brw_count;		/* under brw */
static volatile uint64_t brw_sink;	/* std::hint::black_box */

static enum poll rw_task_poll(struct task *t, struct context *cx)
{
	struct lock_task *l = container_of(t, struct lock_task, task);

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < SYNC_ROUNDS; l->r++) {
		if ((l->t + l->r) % RW_WRITE_EVERY == 0) {
			TASK_AWAIT(rwlock_write(&brw, &l->w, cx));
			TASK_YIELD();
			brw_count++;
			rwlock_write_unlock(&brw);
		} else {
			TASK_AWAIT(rwlock_read(&brw, &l->w, cx));
			TASK_YIELD();
			brw_sink = brw_count;
			rwlock_read_unlock(&brw);
		}
	}
	task_finished();
	TASK_END;
}

static const struct task_vtable rw_task_vt = { .poll = rw_task_poll };

static bool rwlock_read_mostly(void)
{
	bool ok;

	rwlock_init(&brw);
	brw_count = 0;
	ok = spawn_lock_tasks(&rw_task_vt);
	if (ok) {
		if (!rwlock_try_write(&brw) ||
		    brw_count != (uint64_t)SYNC_TASKS * SYNC_ROUNDS / RW_WRITE_EVERY)
			abort();
		rwlock_write_unlock(&brw);
	}
	return ok;
}

/* ---- channels ---------------------------------------------------------------- */

static struct channel bch;
static uint64_t bch_buf[CHANNEL_BUF_SIZE(sizeof(uint64_t), CHAN_CAP) /
			sizeof(uint64_t)];
static uint64_t bch_result;		/* published by signal_done() */
static atomic_uint bch_senders;

struct rx_task {
	struct task task;
	unsigned pt;
	int res;
	bool sum;			/* sum the values, else count them */
	uint64_t v, acc;
};

static enum poll rx_task_poll(struct task *t, struct context *cx)
{
	struct rx_task *c = container_of(t, struct rx_task, task);

	TASK_BEGIN(c->pt);
	for (;;) {
		TASK_AWAIT(channel_recv(&bch, cx, &c->v, &c->res));
		if (c->res == -EPIPE)
			break;
		c->acc += c->sum ? c->v : 1;
	}
	bch_result = c->acc;
	signal_done();
	TASK_END;
}

static const struct task_vtable rx_task_vt = { .poll = rx_task_poll };

struct tx_task {
	struct task task;
	unsigned pt;
	int res;
	uint64_t i, n;
	struct channel_sender w;
};

static enum poll tx_task_poll(struct task *t, struct context *cx)
{
	struct tx_task *p = container_of(t, struct tx_task, task);

	TASK_BEGIN(p->pt);
	for (p->i = 0; p->i < p->n; p->i++) {
		TASK_AWAIT(channel_send(&bch, &p->w, &p->i, cx, &p->res));
		if (p->res)
			abort();
	}
	/* The last sender gone closes the channel (tokio: drop(tx)). */
	if (atomic_fetch_sub_explicit(&bch_senders, 1, memory_order_relaxed) == 1)
		channel_close(&bch);
	TASK_END;
}

static const struct task_vtable tx_task_vt = { .poll = tx_task_poll };

static bool channel_run(unsigned senders, uint64_t n, bool sum, uint64_t want)
{
	struct rx_task rx = { .sum = sum };
	bool ok;

	if (channel_init(&bch, bch_buf, sizeof(bch_buf), sizeof(uint64_t), CHAN_CAP))
		abort();
	atomic_store_explicit(&bch_senders, senders, memory_order_relaxed);
	atomic_store_explicit(&done_flag, false, memory_order_relaxed);
	spawn(&rx_task_vt, &rx, sizeof(rx), NULL);
	for (unsigned i = 0; i < senders; i++) {
		struct tx_task tx = { .n = n };

		channel_sender_init(&tx.w);
		spawn(&tx_task_vt, &tx, sizeof(tx), NULL);
	}
	ok = block_on(done_poll, NULL);
	if (ok && bch_result != want) {
		fprintf(stderr, "channel: got %llu, want %llu\n",
			(unsigned long long)bch_result, (unsigned long long)want);
		abort();
	}
	return ok;
}

static bool channel_1x100k(void)
{
	return channel_run(1, CHAN_1_N, true, CHAN_1_N * (CHAN_1_N - 1) / 2);
}

static bool channel_16x10k(void)
{
	return channel_run(CHAN_16_P, CHAN_16_N, false, CHAN_16_P * CHAN_16_N);
}

void bench_rt_sync(void)
{
	bench("mutex_handoff(200x100)", 20, mutex_handoff);
	bench("semaphore_8(200x100)", 20, semaphore_8);
	bench("rwlock_read_mostly(200x100)", 20, rwlock_read_mostly);
	bench("channel_1x100k(cap1024)", 20, channel_1x100k);
	bench("channel_16x10k(cap1024)", 20, channel_16x10k);
}
