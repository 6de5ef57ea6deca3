/*
 * sleep.c - sleeps and timeouts on a struct timer (see sleep.h for the
 * state protocol).
 *
 * Every change to a sleep's entry happens under the timer lock; the
 * owner's fast paths only read the state with acquire.  Waker references
 * dropped by a poll or a cancel are released after the unlock, because
 * dropping the last reference may free a task.
 */
#include "errno.h"
#include "sched/task.h"
#include "timer/sleep.h"

int sleep_init_duration(struct sleep *s, struct timer *t, uint64_t ns)
{
	ticks_t deadline;
	int err = clock_deadline_after(t->clock, timer_clock_now(t), ns,
				       &deadline);

	if (err)
		return err;
	sleep_init_deadline(s, t, deadline);
	return 0;
}

void sleep_init_deadline(struct sleep *s, struct timer *t, ticks_t deadline)
{
	timer_entry_init(&s->entry);
	s->entry.deadline = deadline;
	s->timer = t;
}

/* Tell `tasks` what the polling task now waits for. */
static void mark_wait(uint8_t what)
{
	struct task *cur = task_current();

	if (cur)
		atomic_store_explicit(&cur->wait, what, memory_order_relaxed);
}

enum poll sleep_poll(struct sleep *s, struct context *cx)
{
	struct timer *t = s->timer;
	struct timer_entry *e = &s->entry;
	struct waker old = WAKER_NONE;
	enum poll r = POLL_PENDING;

	/* acquire (in timer_entry_state): pairs with the release store of
	 * FIRED in the wheel; the wheel is done with the entry. */
	if (timer_entry_state(e) == TIMER_ENTRY_FIRED)
		return POLL_READY;
	if (timer_clock_now(t) >= e->deadline) {
		/* Due but not fired yet: take it out so it never wakes. */
		sleep_cancel(s);
		return POLL_READY;
	}
	spin_lock(&t->lock);
	/* relaxed: under the lock, which orders every state write. */
	switch (atomic_load_explicit(&e->state, memory_order_relaxed)) {
	case TIMER_ENTRY_FIRED:
		r = POLL_READY;
		break;
	case TIMER_ENTRY_PENDING:
		/* Polled again: keep the registration, refresh the waker if
		 * the task is now a different one (or moved cores). */
		if (!waker_will_wake(&e->action.waker, cx->waker)) {
			old = e->action.waker;
			e->action.waker = waker_clone(cx->waker);
		}
		break;
	default:
		e->action.waker = waker_clone(cx->waker);
		if (timer_wheel_insert(&t->wheel, e, e->deadline) == -ETIMEDOUT) {
			/* Another core turned past the deadline since we read
			 * the clock: done, nobody to wake. */
			old = e->action.waker;
			e->action.waker = WAKER_NONE;
			r = POLL_READY;
		} else {
			timer_publish_next_locked(t);
		}
		break;
	}
	spin_unlock(&t->lock);
	waker_drop(&old);
	if (r == POLL_PENDING)
		mark_wait(TASK_WAIT_SLEEP);
	return r;
}

bool sleep_cancel(struct sleep *s)
{
	return timer_cancel(s->timer, &s->entry);
}

void sleep_drop(struct sleep *s)
{
	(void)sleep_cancel(s);
}

int timeout_init(struct timeout *to, struct timer *t, uint64_t ns,
		 timer_poll_fn poll, void *arg)
{
	to->poll = poll;
	to->arg = arg;
	to->result = TIMEOUT_PENDING;
	return sleep_init_duration(&to->sleep, t, ns);
}

enum timeout_result timeout_poll(struct timeout *to, struct context *cx)
{
	if (to->result != TIMEOUT_PENDING)
		return to->result;
	if (to->poll(to->arg, cx) == POLL_READY) {
		sleep_cancel(&to->sleep);
		to->result = TIMEOUT_COMPLETED;
	} else if (sleep_poll(&to->sleep, cx) == POLL_READY) {
		to->result = TIMEOUT_ELAPSED;
	} else {
		/* Waiting for to->poll's event; the sleep only bounds it. */
		mark_wait(TASK_WAIT_ANY);
	}
	return to->result;
}

void timeout_drop(struct timeout *to)
{
	sleep_drop(&to->sleep);
}
