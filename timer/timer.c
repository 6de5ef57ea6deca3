/*
 * timer.c - the locked timer wheel, its turn, the global timer and dump.
 *
 * Firing is split in two: under the lock the wheel hands each due entry to
 * timer_collect(), which moves its waker (or callback) into a batch on the
 * turning core's stack; after the unlock the batch is run.  The wheel
 * marks an entry FIRED (release) only after its waker was moved out, so an
 * owner that sees FIRED (acquire) owns the entry again and may free it.
 */
#include <stdarg.h>

#include "errno.h"
#include "lib/fmt.h"
#include "lib/trace.h"
#include "panic.h"
#include "timer/timer.h"

struct timer_action {
	uint8_t kind;		/* enum timer_entry_kind */
	union {
		struct waker waker;
		struct {
			timer_callback_fn fn;
			void *arg;
		} callback;
	} u;
};

struct timer_batch {
	size_t n;
	struct timer_action a[TIMER_WAKE_BATCH];
};

static _Atomic(struct timer *) global_timer;

void timer_init(struct timer *t, const struct clock *clock)
{
	t->clock = clock;
	spin_init(&t->lock);
	timer_wheel_init(&t->wheel, clock_now(clock));
	atomic_init(&t->next_hint, TIMER_NO_DEADLINE);
}

/* The wheel's fire callback: runs under the lock, takes the action. */
static void timer_collect(struct timer_entry *e, void *arg)
{
	struct timer_batch *b = arg;
	struct timer_action *a = &b->a[b->n++];

	a->kind = e->kind;
	if (e->kind == TIMER_ENTRY_WAKER) {
		a->u.waker = e->action.waker;
		e->action.waker = WAKER_NONE;
	} else {
		/* A callback entry keeps its action so it can be re-armed. */
		a->u.callback.fn = e->action.callback.fn;
		a->u.callback.arg = e->action.callback.arg;
	}
}

static void timer_run_batch(struct timer_batch *b)
{
	for (size_t i = 0; i < b->n; i++) {
		struct timer_action *a = &b->a[i];

		if (a->kind == TIMER_ENTRY_WAKER)
			waker_wake(&a->u.waker);
		else
			a->u.callback.fn(a->u.callback.arg);
	}
}

struct timer_turn timer_turn(struct timer *t)
{
	struct timer_turn r = { 0, 0, TIMER_NO_DEADLINE, false };

	/* Nothing can be due before the hint: skip the lock, so idle loops
	 * on every core do not bounce its cache line.  relaxed: a stale
	 * (later) hint can only come from an insert on another core, whose
	 * own next turn reads its fresh value and fires it. */
	r.now = timer_clock_now(t);
	r.next_deadline = atomic_load_explicit(&t->next_hint, memory_order_relaxed);
	if (r.now < r.next_deadline)
		return r;

	for (;;) {
		struct timer_batch b;
		ticks_t now, next;

		if (!spin_trylock(&t->lock)) {
			/* Someone else is turning; it fires what is due. */
			r.busy = true;
			/* relaxed: a hint; see struct timer. */
			r.next_deadline = atomic_load_explicit(&t->next_hint,
							       memory_order_relaxed);
			return r;
		}
		b.n = 0;
		/* Read under the lock so turns are ordered like their clock
		 * readings; a clock running behind the wheel moves nothing. */
		now = timer_clock_now(t);
		if (now < t->wheel.now)
			now = t->wheel.now;
		timer_wheel_advance(&t->wheel, now, TIMER_WAKE_BATCH,
				    timer_collect, &b);
		next = timer_wheel_next_deadline(&t->wheel);
		/* relaxed: a hint; see struct timer. */
		atomic_store_explicit(&t->next_hint, next, memory_order_relaxed);
		spin_unlock(&t->lock);

		if (b.n)
			trace_event(TRACE_TIMERS, 0, b.n, 0);
		timer_run_batch(&b);
		r.now = now;
		r.fired += b.n;
		r.next_deadline = next;
		/* Again if the batch filled (more expired) or the clock passed
		 * the next deadline while we were turning and waking. */
		if (next == TIMER_NO_DEADLINE ||
		    (next > now && timer_clock_now(t) < next))
			return r;
	}
}

int timer_insert(struct timer *t, struct timer_entry *e, ticks_t deadline)
{
	int err;

	spin_lock(&t->lock);
	err = timer_wheel_insert(&t->wheel, e, deadline);
	if (!err)
		timer_publish_next_locked(t);
	spin_unlock(&t->lock);
	return err;
}

bool timer_cancel(struct timer *t, struct timer_entry *e)
{
	struct waker old = WAKER_NONE;
	bool was;

	/* FIRED or IDLE: the wheel does not hold it, nothing to undo. */
	if (timer_entry_state(e) != TIMER_ENTRY_PENDING)
		return false;
	spin_lock(&t->lock);
	was = timer_wheel_cancel(&t->wheel, e);
	if (was && e->kind == TIMER_ENTRY_WAKER) {
		old = e->action.waker;
		e->action.waker = WAKER_NONE;
	}
	spin_unlock(&t->lock);
	/* Outside the lock: dropping may free the task it names. */
	waker_drop(&old);
	return was;
}

int timer_set_global(struct timer *t)
{
	struct timer *expected = NULL;

	/* acq_rel: release publishes the initialised timer, pairs with the
	 * acquire load in timer_global(); acquire on failure reads the
	 * installed one consistently. */
	if (!atomic_compare_exchange_strong_explicit(&global_timer, &expected, t,
						     memory_order_acq_rel,
						     memory_order_acquire))
		return -EBUSY;
	return 0;
}

struct timer *timer_global(void)
{
	/* acquire: pairs with the release in timer_set_global(). */
	return atomic_load_explicit(&global_timer, memory_order_acquire);
}

static const struct timer *timer_global_or_panic(const char *who)
{
	struct timer *t = timer_global();

	if (!t)
		panic("%s: no global timer installed", who);
	return t;
}

static uint64_t ticks_to_ns_sat(const struct clock *clk, ticks_t ticks)
{
	uint64_t ns;

	return clock_ticks_to_ns(clk, ticks, &ns) ? UINT64_MAX : ns;
}

ticks_t timer_now(void)
{
	return timer_clock_now(timer_global_or_panic("timer_now"));
}

uint64_t timer_now_ns(void)
{
	const struct timer *t = timer_global_or_panic("timer_now_ns");

	return ticks_to_ns_sat(t->clock, timer_clock_now(t));
}

uint64_t timer_elapsed_ns(ticks_t since)
{
	const struct timer *t = timer_global_or_panic("timer_elapsed_ns");
	ticks_t now = timer_clock_now(t);

	return now <= since ? 0 : ticks_to_ns_sat(t->clock, now - since);
}

#define DUMP_LINE	128

static __printf(2, 3) void dump_line(void (*out)(const char *s, size_t n),
				     const char *fmt, ...)
{
	char line[DUMP_LINE];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	out(line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1);
}

void timer_dump(struct timer *t, void (*out)(const char *s, size_t n))
{
	size_t per_level[WHEEL_LEVELS + 1], total = 0;
	ticks_t wheel_now, next, now;
	unsigned level;

	spin_lock(&t->lock);
	wheel_now = t->wheel.now;
	next = timer_wheel_next_deadline(&t->wheel);
	for (level = 0; level <= WHEEL_LEVELS; level++) {
		per_level[level] = timer_wheel_pending_level(&t->wheel, level);
		total += per_level[level];
	}
	spin_unlock(&t->lock);
	now = timer_clock_now(t);

	dump_line(out, "timer: clock %s, tick %llu ns, now %llu (wheel at %llu)\n",
		  t->clock->name, (unsigned long long)t->clock->tick_ns,
		  (unsigned long long)now, (unsigned long long)wheel_now);
	dump_line(out, "timer: %zu pending:", total);
	for (level = 0; level < WHEEL_LEVELS; level++)
		dump_line(out, " L%u=%zu", level, per_level[level]);
	dump_line(out, " expired=%zu\n", per_level[WHEEL_LEVELS]);
	if (next == TIMER_NO_DEADLINE)
		dump_line(out, "timer: next deadline none\n");
	else
		dump_line(out, "timer: next deadline %llu (in %lld ticks)\n",
			  (unsigned long long)next,
			  (long long)(next - now));
}
