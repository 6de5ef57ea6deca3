/*
 * sem_watch.h - what a scenario's invariant sees of a semaphore's queue
 * (sched/semaphore.c): the order waiters were linked in, the handoffs, and
 * the permits, checked after every step.  Shared by scenario_mutex.c and
 * scenario_sem.c.
 *
 * The invariant runs between steps, outside the model (no scheduling
 * points, no race checks), so it reads the queue and the waiters' states
 * directly.  A waiter joins the queue under the lock and the WAITING store
 * after it is a step, so every link is seen before the next can happen;
 * a handoff (the ACQUIRED store, also a step) is seen before its owner
 * can act on it: under TSO the store reaches memory at the releaser's
 * unlock at the latest, and the owner only reads it from memory.
 *
 * Checked (sem_watch_step):
 *   - the queue is a proper list of the known waiters;
 *   - FIFO: a waiter is handed its permits only when every waiter linked
 *     before it has left the queue (served, or gone by a cancel);
 *   - only the head holds a part of its request (large requests are
 *     served first, never overtaken by small ones behind them);
 *   - no barging: while the queue is non-empty and the semaphore is not
 *     closed, no permit is available (a newcomer cannot take one);
 *   - conservation: permits available + assigned to the head + handed to
 *     waiters not yet claimed + held by the scenario's threads (`held`,
 *     kept by them) never exceed the total.  The threads lower `held`
 *     before a release and raise it after an acquire returned, and a
 *     waiter's handoff counts from the ACQUIRED store until its owner
 *     claims it (sem_watch_claim), so the sum is exact or short, never
 *     over.
 */
#ifndef HYPHAE_MODEL_SEM_WATCH_H
#define HYPHAE_MODEL_SEM_WATCH_H

#include "sched/semaphore.h"
#include "tests/model/model.h"

#define SEM_WATCH_MAX	3
/* The state word's CLOSED bit (semaphore.c's ST_CLOSED). */
#define SEM_WATCH_CLOSED	1ull

struct sem_watch {
	struct semaphore *s;
	unsigned n;
	struct semaphore_waiter *w[SEM_WATCH_MAX];
	const char *name[SEM_WATCH_MAX];
	/* Kept by the invariant. */
	long seq;			/* links seen */
	long linked[SEM_WATCH_MAX];	/* its link's number; 0: not queued */
	bool handed[SEM_WATCH_MAX];	/* seen ACQUIRED since its link */
	long handoffs;			/* waiters served from the queue */
	long queued;			/* waiters in the queue now */
	/* Kept by the waiter's owner (model_ghost_add). */
	long claimed[SEM_WATCH_MAX];	/* owner saw READY, or dropped it */
	long held;			/* permits the threads hold */
};

static inline void sem_watch_init(struct sem_watch *sw, struct semaphore *s)
{
	*sw = (struct sem_watch){ .s = s };
}

static inline void sem_watch_add(struct sem_watch *sw,
				 struct semaphore_waiter *w, const char *name)
{
	sw->w[sw->n] = w;
	sw->name[sw->n] = name;
	sw->n++;
}

static inline int sem_watch_index(const struct sem_watch *sw,
				  const struct semaphore_waiter *w)
{
	for (unsigned i = 0; i < sw->n; i++)
		if (sw->w[i] == w)
			return (int)i;
	return -1;
}

/* The owner of waiter `i` is done with a handoff (it polled READY, or it
 * dropped the waiter). */
static inline void sem_watch_claim(struct sem_watch *sw, unsigned i)
{
	model_ghost_add(&sw->claimed[i], 1);
}

/* The invariant: after every step. */
static inline void sem_watch_step(struct sem_watch *sw)
{
	struct semaphore *s = sw->s;
	uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	uint64_t avail = st >> SEMAPHORE_STATE_SHIFT, tokens;
	bool in_list[SEM_WATCH_MAX] = { false };
	unsigned len = 0;

	for (struct semaphore_waiter *p = s->head; p; p = p->next) {
		int i = sem_watch_index(sw, p);

		model_check(i >= 0, "an unknown waiter %p in the queue",
			    (void *)p);
		model_check(!in_list[i] && ++len <= sw->n,
			    "the queue is not a list (%s twice)", sw->name[i]);
		in_list[i] = true;
		model_check(p == s->head || p->needed == p->want,
			    "%s, not the head, holds %llu of its %llu permits",
			    sw->name[i],
			    (unsigned long long)(p->want - p->needed),
			    (unsigned long long)p->want);
	}
	sw->queued = len;
	/* A link the invariant sees for the first time. */
	for (unsigned i = 0; i < sw->n; i++)
		if (in_list[i] && sw->linked[i] == 0) {
			sw->linked[i] = ++sw->seq;
			sw->handed[i] = false;
			sw->claimed[i] = 0;
		}
	for (unsigned i = 0; i < sw->n; i++) {
		int ws = atomic_load_explicit(&sw->w[i]->state,
					      memory_order_relaxed);

		if (ws != SEM_WAITER_ACQUIRED || sw->linked[i] == 0 ||
		    sw->handed[i])
			continue;
		sw->handed[i] = true;
		sw->handoffs++;
		for (unsigned j = 0; j < sw->n; j++)
			model_check(!(in_list[j] && sw->linked[j] < sw->linked[i]),
				    "not FIFO: %s was handed the permits while "
				    "%s, queued before it, still waits",
				    sw->name[i], sw->name[j]);
	}
	/* A waiter that left the queue and went IDLE may queue again. */
	for (unsigned i = 0; i < sw->n; i++)
		if (!in_list[i] && sw->linked[i] &&
		    atomic_load_explicit(&sw->w[i]->state, memory_order_relaxed)
		    == SEM_WAITER_IDLE && (!sw->handed[i] || sw->claimed[i]))
			sw->linked[i] = 0;
	if (s->head != NULL && !(st & SEM_WATCH_CLOSED))
		model_check(avail == 0, "barging possible: %llu permits "
			    "available while %s waits", (unsigned long long)avail,
			    sw->name[sem_watch_index(sw, s->head)]);
	tokens = avail + s->assigned + (uint64_t)sw->held;
	for (unsigned i = 0; i < sw->n; i++)
		if (sw->handed[i] && !sw->claimed[i])
			tokens += sw->w[i]->want;
	model_check(tokens <= s->max, "%llu permits exist, of %llu: %llu "
		    "available, %llu assigned, %ld held, the rest handed over",
		    (unsigned long long)tokens, (unsigned long long)s->max,
		    (unsigned long long)avail, (unsigned long long)s->assigned,
		    sw->held);
}

#endif /* HYPHAE_MODEL_SEM_WATCH_H */
