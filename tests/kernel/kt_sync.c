/*
 * kt_sync.c - the async sync primitives on every processor of the test
 * kernel, with the stress tests' properties: a plain counter under the
 * mutex is exact; readers never see a write in progress; permits in use
 * never exceed N; wait-map values reach the right key; every channel item
 * arrives once, in order per producer - with one producer a real
 * interrupt handler (self-IPIs on VECTOR_TEST) calling channel_try_send;
 * and the interval timer keeps its schedule on the runtime's wheel.
 *
 * Each test runs a fresh runtime on all cores (the APs join through
 * kt_aps_join(), the boot core runs its loop too) until a supervisor task
 * sees the work done or its deadline pass; then every core leaves its
 * loop and the boot core checks the books.  Tasks never KT_ASSERT (that
 * would longjmp on the wrong core): they count what they saw.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "config.h"
#include "errno.h"
#include "lib/log.h"
#include "rt/rt.h"
#include "sched/channel.h"
#include "sched/mutex.h"
#include "sched/rwlock.h"
#include "sched/semaphore.h"
#include "sched/wait_map.h"
#include "tests/kernel/kt_aps.h"
#include "tests/kernel/ktest.h"
#include "timer/interval.h"
#include "timer/sleep.h"

#define KS_LIMIT_NS	(20000 * NS_PER_MS)	/* a test's work; a core's join */
#define KS_POLL_NS	(1 * NS_PER_MS)		/* the supervisor's period */
#define KS_TASKS	48
#define KS_ROUNDS	100
#define KS_PERMITS	3
#define KS_WAITERS	16
#define KS_PRODUCERS	3
#define KS_ITEMS	2000
#define KS_IRQ_ID	KS_PRODUCERS
#define KS_CAP		16
#define KS_TICKS	20
#define KS_PERIOD_NS	(2 * NS_PER_MS)
#define CHECK_MUL	0x9e3779b97f4a7c15ull

static struct runtime ks_rt;
static struct rt_core ks_cores[MAX_CORES];
static atomic_long ks_done, ks_bad;
static long ks_want;

/* Stops the boot core's loop once ks_done reaches ks_want or time is up;
 * its own sleeps keep the timer and the idle cores' wakeups busy too. */
struct supervisor {
	struct task task;
	unsigned pt;
	uint64_t deadline;
	struct sleep sl;
};

static enum poll supervisor_poll(struct task *t, struct context *cx)
{
	struct supervisor *s = container_of(t, struct supervisor, task);

	TASK_BEGIN(s->pt);
	while (atomic_load_explicit(&ks_done, memory_order_acquire) < ks_want &&
	       kt_now_ns() < s->deadline) {
		if (sleep_init_duration(&s->sl, &ks_rt.timer, KS_POLL_NS))
			break;
		TASK_AWAIT(sleep_poll(&s->sl, cx));
	}
	rt_core_stop(&ks_cores[0]);
	TASK_END;
}

static const struct task_vtable supervisor_vt = { .poll = supervisor_poll };

/* A fresh runtime on every core; false if an AP did not join. */
static bool ks_start(long want)
{
	struct supervisor sup = { .deadline = kt_now_ns() + KS_LIMIT_NS };

	atomic_store(&ks_done, 0);
	atomic_store(&ks_bad, 0);
	ks_want = want;
	rt_init(&ks_rt, arch_clock());
	rt_core_new(&ks_cores[0], &ks_rt);
	if (!kt_aps_join(&ks_rt, ks_cores, KS_LIMIT_NS))
		return false;
	return rt_spawn(&ks_rt, &supervisor_vt, &sup, sizeof(sup), NULL) == 0;
}

/* Run the boot core's loop until the supervisor stops it, then stop the
 * APs; false if an AP did not come back. */
static bool ks_finish(void)
{
	rt_core_run(&ks_cores[0]);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
	return kt_aps_stop(KS_LIMIT_NS);
}

static void ks_spawn(const struct task_vtable *vt, const void *init, size_t size)
{
	if (rt_spawn(&ks_rt, vt, init, size, NULL))
		atomic_fetch_add(&ks_bad, 1);
}

static void task_done(void)
{
	/* release: pairs with the supervisor's and the test's acquire. */
	atomic_fetch_add_explicit(&ks_done, 1, memory_order_release);
}

/* ---- mutex and rwlock -------------------------------------------------------------- */

static struct mutex ks_mutex;
static uint64_t ks_counter;			/* under ks_mutex */
static struct rwlock ks_rw;
static uint64_t ks_pair_a, ks_pair_b;		/* under ks_rw */
static atomic_long ks_readers_in, ks_readers_max;

struct lock_task {
	struct task task;
	unsigned pt, id, r;
	bool writer;
	uint64_t seen;
	struct semaphore_waiter w;
};

static enum poll mutex_task_poll(struct task *t, struct context *cx)
{
	struct lock_task *l = container_of(t, struct lock_task, task);

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < KS_ROUNDS; l->r++) {
		TASK_AWAIT(mutex_lock(&ks_mutex, &l->w, cx));
		l->seen = ks_counter;
		if (l->r % 2 == 0)
			TASK_YIELD();
		ks_counter = l->seen + 1;
		mutex_unlock(&ks_mutex);
	}
	task_done();
	TASK_END;
}

static const struct task_vtable mutex_task_vt = { .poll = mutex_task_poll };

KTEST(sync_mutex_counter_exact_on_every_core)
{
	KT_ASSERT(smp_cpus_online() >= 2);
	mutex_init(&ks_mutex);
	ks_counter = 0;
	KT_ASSERT(ks_start(KS_TASKS));
	for (unsigned i = 0; i < KS_TASKS; i++) {
		struct lock_task init = { .id = i };

		semaphore_waiter_init(&init.w);
		ks_spawn(&mutex_task_vt, &init, sizeof(init));
	}
	KT_ASSERT(ks_finish());
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire), KS_TASKS);
	KT_ASSERT(mutex_try_lock(&ks_mutex));
	KT_ASSERT_EQ(ks_counter, (uint64_t)KS_TASKS * KS_ROUNDS);
	mutex_unlock(&ks_mutex);
}

static enum poll rw_task_poll(struct task *t, struct context *cx)
{
	struct lock_task *l = container_of(t, struct lock_task, task);
	long n, m;

	TASK_BEGIN(l->pt);
	for (l->r = 0; l->r < KS_ROUNDS; l->r++) {
		if (l->writer) {
			TASK_AWAIT(rwlock_write(&ks_rw, &l->w, cx));
			ks_pair_a++;
			TASK_YIELD();
			ks_pair_b = ks_pair_a;
			rwlock_write_unlock(&ks_rw);
		} else {
			TASK_AWAIT(rwlock_read(&ks_rw, &l->w, cx));
			n = atomic_fetch_add(&ks_readers_in, 1) + 1;
			m = atomic_load(&ks_readers_max);
			while (n > m && !atomic_compare_exchange_weak(&ks_readers_max, &m, n))
				;
			l->seen = ks_pair_a;
			TASK_YIELD();
			if (ks_pair_b != l->seen || ks_pair_a != l->seen)
				atomic_fetch_add(&ks_bad, 1);
			atomic_fetch_sub(&ks_readers_in, 1);
			rwlock_read_unlock(&ks_rw);
		}
	}
	task_done();
	TASK_END;
}

static const struct task_vtable rw_task_vt = { .poll = rw_task_poll };

KTEST(sync_rwlock_readers_never_see_a_write)
{
	unsigned writers = 0;

	rwlock_init(&ks_rw);
	ks_pair_a = ks_pair_b = 0;
	atomic_store(&ks_readers_max, 0);
	KT_ASSERT(ks_start(KS_TASKS));
	for (unsigned i = 0; i < KS_TASKS; i++) {
		struct lock_task init = { .id = i, .writer = i % 4 == 0 };

		writers += init.writer;
		semaphore_waiter_init(&init.w);
		ks_spawn(&rw_task_vt, &init, sizeof(init));
	}
	KT_ASSERT(ks_finish());
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire), KS_TASKS);
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	KT_ASSERT(rwlock_try_write(&ks_rw));
	KT_ASSERT_EQ(ks_pair_a, (uint64_t)writers * KS_ROUNDS);
	KT_ASSERT_EQ(ks_pair_b, ks_pair_a);
	rwlock_write_unlock(&ks_rw);
	KT_ASSERT(atomic_load(&ks_readers_max) > 1);
	log_info("kt_sync: rwlock: up to %ld readers at once",
		 atomic_load(&ks_readers_max));
}

/* ---- semaphore ------------------------------------------------------------------------ */

static struct semaphore ks_sem;
static atomic_long ks_in_use;

struct sem_task {
	struct task task;
	unsigned pt, id, r;
	uint64_t k;
	int res;
	struct semaphore_waiter w;
};

static enum poll sem_task_poll(struct task *t, struct context *cx)
{
	struct sem_task *s = container_of(t, struct sem_task, task);

	TASK_BEGIN(s->pt);
	for (s->r = 0; s->r < KS_ROUNDS; s->r++) {
		s->k = 1 + (s->id + s->r) % KS_PERMITS;
		TASK_AWAIT(semaphore_acquire(&ks_sem, &s->w, s->k, cx, &s->res));
		if (s->res != 0 ||
		    atomic_fetch_add(&ks_in_use, (long)s->k) + (long)s->k > KS_PERMITS)
			atomic_fetch_add(&ks_bad, 1);
		TASK_YIELD();
		atomic_fetch_sub(&ks_in_use, (long)s->k);
		if (semaphore_release(&ks_sem, s->k))
			atomic_fetch_add(&ks_bad, 1);
	}
	task_done();
	TASK_END;
}

static const struct task_vtable sem_task_vt = { .poll = sem_task_poll };

KTEST(sync_semaphore_never_over_n)
{
	semaphore_init(&ks_sem, KS_PERMITS);
	atomic_store(&ks_in_use, 0);
	KT_ASSERT(ks_start(KS_TASKS));
	for (unsigned i = 0; i < KS_TASKS; i++) {
		struct sem_task init = { .id = i };

		semaphore_waiter_init(&init.w);
		ks_spawn(&sem_task_vt, &init, sizeof(init));
	}
	KT_ASSERT(ks_finish());
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire), KS_TASKS);
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	KT_ASSERT_EQ(semaphore_available(&ks_sem), KS_PERMITS);
	KT_ASSERT_EQ(semaphore_release(&ks_sem, 1), -EOVERFLOW);
}

/* ---- wait map ------------------------------------------------------------------------ */

static struct wait_map ks_map;
static _Atomic uint64_t ks_posted[KS_WAITERS];
static atomic_long ks_answered;

static uint64_t value_of(uint64_t key)
{
	return key * CHECK_MUL + 1;
}

struct map_task {
	struct task task;
	unsigned pt, id, r;
	uint64_t key, value;
	int res;
	struct wait_map_entry e;
};

static enum poll waiter_poll(struct task *t, struct context *cx)
{
	struct map_task *w = container_of(t, struct map_task, task);

	TASK_BEGIN(w->pt);
	for (w->r = 1; w->r <= KS_ROUNDS; w->r++) {
		w->key = (uint64_t)(w->id + 1) << 32 | w->r;
		if (wait_map_subscribe(&ks_map, &w->e, w->key))
			atomic_fetch_add(&ks_bad, 1);
		/* release: the responder that sees the key finds it queued. */
		atomic_store_explicit(&ks_posted[w->id], w->key, memory_order_release);
		TASK_AWAIT(wait_map_wait(&ks_map, &w->e, w->key, cx, &w->value, &w->res));
		if (w->res != 0 || w->value != value_of(w->key))
			atomic_fetch_add(&ks_bad, 1);
	}
	task_done();
	TASK_END;
}

static const struct task_vtable waiter_vt = { .poll = waiter_poll };

/* Answers posted keys until every waiter is done; both responders may
 * answer one key: exactly one wake may succeed. */
static enum poll responder_poll(struct task *t, struct context *cx)
{
	struct map_task *r = container_of(t, struct map_task, task);

	TASK_BEGIN(r->pt);
	while (atomic_load(&ks_answered) < (long)KS_WAITERS * KS_ROUNDS) {
		for (r->r = 0; r->r < KS_WAITERS; r->r++) {
			/* acquire: pairs with the waiter's release. */
			r->key = atomic_load_explicit(&ks_posted[r->r], memory_order_acquire);
			if (r->key == 0)
				continue;
			r->res = wait_map_wake(&ks_map, r->key, value_of(r->key));
			if (r->res == 0) {
				atomic_fetch_add(&ks_answered, 1);
				if (wait_map_wake(&ks_map, r->key, 0) != -ENOENT)
					atomic_fetch_add(&ks_bad, 1);
			} else if (r->res != -ENOENT) {
				atomic_fetch_add(&ks_bad, 1);
			}
		}
		TASK_YIELD();
	}
	task_done();
	TASK_END;
}

static const struct task_vtable responder_vt = { .poll = responder_poll };

KTEST(sync_wait_map_values_reach_their_key)
{
	wait_map_init(&ks_map);
	atomic_store(&ks_answered, 0);
	for (unsigned i = 0; i < KS_WAITERS; i++)
		atomic_store(&ks_posted[i], 0);
	KT_ASSERT(ks_start(KS_WAITERS + 2));
	for (unsigned i = 0; i < KS_WAITERS; i++) {
		struct map_task init = { .id = i };

		wait_map_entry_init(&init.e);
		ks_spawn(&waiter_vt, &init, sizeof(init));
	}
	for (unsigned i = 0; i < 2; i++) {
		struct map_task init = { .id = i };

		ks_spawn(&responder_vt, &init, sizeof(init));
	}
	KT_ASSERT(ks_finish());
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire), KS_WAITERS + 2);
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	KT_ASSERT_EQ(atomic_load(&ks_answered), KS_WAITERS * KS_ROUNDS);
	KT_ASSERT_EQ(wait_map_waiters(&ks_map), 0);
}

/* ---- channel fed by tasks and an interrupt handler ----------------------------------- */

struct ks_item {
	uint32_t producer, seq;
	uint64_t check;
};

static struct channel ks_ch;
static uint64_t ks_ch_buf[CHANNEL_BUF_SIZE(sizeof(struct ks_item), KS_CAP) /
			  sizeof(uint64_t)];
static atomic_uint ks_irq_seq, ks_irq_handled, ks_irq_full, ks_senders;
static uint32_t ks_expected[KS_PRODUCERS + 1];	/* the receiver's */

static uint64_t check_of(uint32_t p, uint32_t seq)
{
	return ((uint64_t)p << 32 | seq) * CHECK_MUL;
}

/* VECTOR_TEST: send the interrupt producer's next item, or keep it for
 * the next interrupt if the channel is full. */
static void ks_irq(struct trap_frame *f)
{
	uint32_t seq = atomic_load_explicit(&ks_irq_seq, memory_order_relaxed);
	struct ks_item it = { KS_IRQ_ID, seq, check_of(KS_IRQ_ID, seq) };

	(void)f;
	if (seq < KS_ITEMS) {
		int r = channel_try_send(&ks_ch, &it);

		if (r == 0)
			atomic_store_explicit(&ks_irq_seq, seq + 1, memory_order_relaxed);
		else if (r == -EAGAIN)
			atomic_fetch_add_explicit(&ks_irq_full, 1, memory_order_relaxed);
		else
			atomic_fetch_add(&ks_bad, 1);
	}
	/* release: the next interrupt (maybe on another core) sees ks_irq_seq;
	 * pairs with the driver's acquire. */
	atomic_fetch_add_explicit(&ks_irq_handled, 1, memory_order_release);
	lapic_eoi();
}

/* The last sender gone closes the channel. */
static void sender_gone(void)
{
	if (atomic_fetch_sub(&ks_senders, 1) == 1)
		channel_close(&ks_ch);
}

struct chan_task {
	struct task task;
	unsigned pt;
	uint32_t id, seq;
	unsigned handled;
	int res;
	struct ks_item it;
	struct channel_sender w;
};

static enum poll producer_poll(struct task *t, struct context *cx)
{
	struct chan_task *p = container_of(t, struct chan_task, task);

	TASK_BEGIN(p->pt);
	for (p->seq = 0; p->seq < KS_ITEMS; p->seq++) {
		p->it = (struct ks_item){ p->id, p->seq, check_of(p->id, p->seq) };
		TASK_AWAIT(channel_send(&ks_ch, &p->w, &p->it, cx, &p->res));
		if (p->res)
			atomic_fetch_add(&ks_bad, 1);
	}
	sender_gone();
	task_done();
	TASK_END;
}

static const struct task_vtable producer_vt = { .poll = producer_poll };

/* Raises VECTOR_TEST on its own core, one interrupt at a time, until the
 * handler has sent every item. */
static enum poll irq_driver_poll(struct task *t, struct context *cx)
{
	struct chan_task *d = container_of(t, struct chan_task, task);

	TASK_BEGIN(d->pt);
	while ((d->seq = atomic_load_explicit(&ks_irq_seq, memory_order_relaxed)) <
	       KS_ITEMS) {
		/* acquire: pairs with the handler's release. */
		d->handled = atomic_load_explicit(&ks_irq_handled, memory_order_acquire);
		lapic_send_ipi(arch_cpu_hwid(), VECTOR_TEST);
		while (atomic_load_explicit(&ks_irq_handled, memory_order_acquire) ==
		       d->handled)
			arch_cpu_relax();
		/* Full (the receiver may be queued behind us on this core), or
		 * now and then: let others run. */
		if (atomic_load_explicit(&ks_irq_seq, memory_order_relaxed) == d->seq ||
		    d->seq % 8 == 0)
			TASK_YIELD();
	}
	sender_gone();
	task_done();
	TASK_END;
}

static const struct task_vtable irq_driver_vt = { .poll = irq_driver_poll };

static enum poll consumer_poll(struct task *t, struct context *cx)
{
	struct chan_task *c = container_of(t, struct chan_task, task);

	TASK_BEGIN(c->pt);
	for (;;) {
		TASK_AWAIT(channel_recv(&ks_ch, cx, &c->it, &c->res));
		if (c->res == -EPIPE)
			break;
		if (c->it.producer > KS_IRQ_ID ||
		    c->it.check != check_of(c->it.producer, c->it.seq) ||
		    c->it.seq != ks_expected[c->it.producer])
			atomic_fetch_add(&ks_bad, 1);
		else
			ks_expected[c->it.producer]++;
	}
	task_done();
	TASK_END;
}

static const struct task_vtable consumer_vt = { .poll = consumer_poll };

KTEST(sync_channel_fed_by_an_interrupt_handler)
{
	struct chan_task init = { .pt = 0 };

	KT_ASSERT_EQ(channel_init(&ks_ch, ks_ch_buf, sizeof(ks_ch_buf),
				  sizeof(struct ks_item), KS_CAP), 0);
	for (unsigned p = 0; p <= KS_IRQ_ID; p++)
		ks_expected[p] = 0;
	atomic_store(&ks_irq_seq, 0);
	atomic_store(&ks_irq_handled, 0);
	atomic_store(&ks_irq_full, 0);
	atomic_store(&ks_senders, KS_PRODUCERS + 1);
	KT_ASSERT_EQ(trap_set_handler(VECTOR_TEST, ks_irq), 0);
	KT_ASSERT(ks_start(KS_PRODUCERS + 2));
	ks_spawn(&consumer_vt, &init, sizeof(init));
	ks_spawn(&irq_driver_vt, &init, sizeof(init));
	for (uint32_t i = 0; i < KS_PRODUCERS; i++) {
		struct chan_task p = { .id = i };

		channel_sender_init(&p.w);
		ks_spawn(&producer_vt, &p, sizeof(p));
	}
	KT_ASSERT(ks_finish());
	(void)trap_set_handler(VECTOR_TEST, NULL);
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire),
		     KS_PRODUCERS + 2);
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	for (unsigned p = 0; p <= KS_IRQ_ID; p++)
		KT_ASSERT_EQ(ks_expected[p], KS_ITEMS);
	log_info("kt_sync: channel: %u items from %u interrupts (%u found it full)",
		 (unsigned)KS_ITEMS, atomic_load(&ks_irq_handled),
		 atomic_load(&ks_irq_full));
}

/* ---- interval -------------------------------------------------------------------------- */

static ticks_t ks_ticks[KS_TICKS], ks_seen[KS_TICKS];

struct tick_task {
	struct task task;
	unsigned pt, n;
	struct interval iv;
};

static enum poll tick_task_poll(struct task *t, struct context *cx)
{
	struct tick_task *k = container_of(t, struct tick_task, task);

	TASK_BEGIN(k->pt);
	if (interval_init(&k->iv, &ks_rt.timer, KS_PERIOD_NS, INTERVAL_SKIP)) {
		atomic_fetch_add(&ks_bad, 1);
		task_done();
		return POLL_READY;
	}
	for (k->n = 0; k->n < KS_TICKS; k->n++) {
		TASK_AWAIT(interval_tick(&k->iv, cx, &ks_ticks[k->n]));
		ks_seen[k->n] = timer_clock_now(&ks_rt.timer);
	}
	interval_drop(&k->iv);
	task_done();
	TASK_END;
}

static const struct task_vtable tick_task_vt = { .poll = tick_task_poll };

KTEST(sync_interval_keeps_its_schedule)
{
	struct tick_task init = { .pt = 0 };
	ticks_t period = 0;

	KT_ASSERT(ks_start(1));
	ks_spawn(&tick_task_vt, &init, sizeof(init));
	KT_ASSERT(ks_finish());
	KT_ASSERT_EQ(atomic_load_explicit(&ks_done, memory_order_acquire), 1);
	KT_ASSERT_EQ(atomic_load(&ks_bad), 0);
	KT_ASSERT_EQ(clock_ns_to_ticks(ks_rt.clock, KS_PERIOD_NS, &period), 0);
	for (unsigned n = 0; n < KS_TICKS; n++) {
		/* Never early; on the schedule (a skip keeps the phase). */
		KT_ASSERT(ks_seen[n] >= ks_ticks[n]);
		if (n > 0) {
			KT_ASSERT(ks_ticks[n] > ks_ticks[n - 1]);
			KT_ASSERT_EQ((ks_ticks[n] - ks_ticks[0]) % period, 0);
		}
	}
	log_info("kt_sync: interval: %u ticks over %llu periods", KS_TICKS,
		 (unsigned long long)((ks_ticks[KS_TICKS - 1] - ks_ticks[0]) / period));
}

/* ---- bad input -------------------------------------------------------------------------- */

/* A contract violation panics and changes nothing; expected failures are
 * errors with nothing lost. */
KTEST(sync_unlock_of_an_unlocked_mutex_panics)
{
	static struct mutex m = MUTEX_INIT;

	KT_ASSERT(mutex_try_lock(&m));
	mutex_unlock(&m);
	ktest_expect_panic("mutex_unlock: mutex");
	mutex_unlock(&m);
}

KTEST(sync_bad_input_is_refused_and_loses_nothing)
{
	static struct semaphore s = SEMAPHORE_INIT(2);
	static struct wait_map map = WAIT_MAP_INIT;
	static struct wait_map_entry e = WAIT_MAP_ENTRY_INIT;
	struct ks_item it = { 7, 0, 0 }, out;
	uint64_t v = 0;
	int r = 1;

	KT_ASSERT_EQ(semaphore_release(&s, 1), -EOVERFLOW);
	KT_ASSERT_EQ(semaphore_available(&s), 2);
	KT_ASSERT_EQ(channel_init(&ks_ch, ks_ch_buf, sizeof(ks_ch_buf),
				  sizeof(struct ks_item), KS_CAP), 0);
	KT_ASSERT_EQ(channel_try_send(&ks_ch, &it), 0);
	channel_close(&ks_ch);
	KT_ASSERT_EQ(channel_try_send(&ks_ch, &it), -EPIPE);
	KT_ASSERT_EQ(channel_try_recv(&ks_ch, &out), 0);
	KT_ASSERT_EQ(channel_try_recv(&ks_ch, &out), -EPIPE);
	KT_ASSERT_EQ(wait_map_subscribe(&map, &e, 42), 0);
	KT_ASSERT_EQ(wait_map_wake(&map, 42, 420), 0);
	KT_ASSERT_EQ(wait_map_wake(&map, 42, 421), -ENOENT);
	KT_ASSERT_EQ(wait_map_wait(&map, &e, 42, &(struct context){ NULL }, &v, &r),
		     POLL_READY);
	KT_ASSERT_EQ(r, 0);
	KT_ASSERT_EQ(v, 420);
}
