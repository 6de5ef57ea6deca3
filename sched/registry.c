/*
 * registry.c - the registry of live tasks: one list per scheduler.
 *
 * Every task that outlives its first poll is linked, until its storage
 * is freed, into the list of one scheduler, its home: the scheduler whose
 * poll of it first returns PENDING links it before that poll ends
 * (registry_link), while the run queue's reference keeps it ours.  A task
 * that completes in its first poll, as most short ones do, never touches
 * a list; until its first poll `tasks` does not list it (the injector's
 * and the queues' counts cover it).  The home never changes (stealing
 * moves a task between queues, not lists).  A list is a circular doubly
 * linked list under its own spinlock, so insert and remove are O(1) and
 * no lock is shared by every core.
 *
 * On the hot paths the lock is taken once per batch of unlinks: tasks
 * freed during a tick wait in reg_dead (nobody references them any more),
 * completed tasks that others still hold in reg_done, and one hold of the
 * lock unlinks them (registry_flush; a task of another home takes that
 * home's lock), then the dead are freed.  That happens when a buffer is
 * full and when the tick ends.  Frees outside a tick (another thread, an
 * interrupt handler) take the home's lock at once.  Each hold disables
 * interrupts: an interrupt handler may free a task (its last waker).
 *
 * A walk (`tasks`) holds a list's lock for at most `max` tasks and leaves a
 * cursor link in the list between steps, so a list of 100,000 tasks never
 * holds a core's frees back for long; tasks cannot be freed while linked,
 * so what the walk reads stays valid under the lock.  A task whose last
 * reference went stays listed until its home's flush: a visit that keeps
 * it takes task_ref_unless_zero(), never task_ref().
 */
#include "arch.h"
#include "panic.h"
#include "sched/sched_internal.h"

/* Links sched_registry_check() walks beyond the count before it calls
 * the list a cycle (cursors are not counted). */
#define REG_CHECK_SLACK		64

void registry_init(struct scheduler *s)
{
	spin_init(&s->reg_lock);
	s->reg_head.next = s->reg_head.prev = &s->reg_head;
	s->reg_head.cursor = false;
	atomic_init(&s->reg_count, 0);
	s->reg_ndead = s->reg_ndone = 0;
}

/* ---- list operations, under s->reg_lock --------------------------------- */

static void link_tail(struct scheduler *s, struct task_reg *l)
{
	struct task_reg *last = s->reg_head.prev;

	l->next = &s->reg_head;
	l->prev = last;
	last->next = l;
	s->reg_head.prev = l;
}

static void unlink(struct task_reg *l)
{
	l->prev->next = l->next;
	l->next->prev = l->prev;
	l->next = l->prev = NULL;
}

/* relaxed: the count changes under the lock; readers take a snapshot. */
static void count_add(struct scheduler *s, long n)
{
	atomic_store_explicit(&s->reg_count,
			      atomic_load_explicit(&s->reg_count,
						   memory_order_relaxed) + (size_t)n,
			      memory_order_relaxed);
}

/* ---- spawns -------------------------------------------------------------- */

void registry_completed(struct scheduler *s, struct task *t)
{
	s->reg_done[s->reg_ndone++] = t;
	if (s->reg_ndone == SCHED_REG_BATCH)
		registry_flush(s);
}

void registry_link(struct scheduler *s, struct task *t)
{
	unsigned long flags = spin_lock_irqsave(&s->reg_lock);

	t->home = s;
	t->reg.cursor = false;
	link_tail(s, &t->reg);
	count_add(s, 1);
	spin_unlock_irqrestore(&s->reg_lock, flags);
}

/* ---- frees --------------------------------------------------------------- */

/* After the unlink: the deallocate hook, then the storage. */
static void finish_free(struct task *t, uint64_t state)
{
	if (t->vtable->deallocate)
		t->vtable->deallocate(t);
	if (state & TASK_HEAP)
		sched_free_task(t, state);
}

void registry_release(struct task *t, uint64_t state)
{
	struct scheduler *home = t->home;
	unsigned long flags;

	if (home) {
		flags = spin_lock_irqsave(&home->reg_lock);
		unlink(&t->reg);
		count_add(home, -1);
		spin_unlock_irqrestore(&home->reg_lock, flags);
	}
	finish_free(t, state);
}

/* Unlink dead tasks whose home is not s: one hold per run of a home. */
static void unlink_foreign(struct scheduler *s, struct task **dead, unsigned n)
{
	struct scheduler *held = NULL;
	unsigned long flags = 0;
	long count = 0;

	for (unsigned i = 0; i < n; i++) {
		struct task *t = dead[i];

		if (t->home == s || t->home == NULL)
			continue;
		if (t->home != held) {
			if (held) {
				count_add(held, count);
				spin_unlock_irqrestore(&held->reg_lock, flags);
			}
			held = t->home;
			count = 0;
			flags = spin_lock_irqsave(&held->reg_lock);
		}
		unlink(&t->reg);
		count--;
	}
	if (held) {
		count_add(held, count);
		spin_unlock_irqrestore(&held->reg_lock, flags);
	}
}

void registry_flush(struct scheduler *s)
{
	unsigned nd = s->reg_ndead, nc = s->reg_ndone;
	struct task *dead[SCHED_REG_BATCH], *done[SCHED_REG_BATCH];
	bool foreign = false;
	long count = 0;
	unsigned long flags;

	/* One hold of our own lock: our dead and done out. */
	flags = spin_lock_irqsave(&s->reg_lock);
	for (unsigned i = 0; i < nd; i++) {
		struct task *t = s->reg_dead[i];

		dead[i] = t;
		if (t->home == s) {
			unlink(&t->reg);
			count--;
		} else {
			foreign = true;
		}
	}
	for (unsigned i = 0; i < nc; i++) {
		struct task *t = s->reg_done[i];

		done[i] = t;
		if (t->home == s) {
			unlink(&t->reg);
			t->home = NULL;
			count--;
		} else {
			foreign = true;
		}
	}
	count_add(s, count);
	spin_unlock_irqrestore(&s->reg_lock, flags);
	if (foreign) {
		unlink_foreign(s, dead, nd);
		unlink_foreign(s, done, nc);
		for (unsigned i = 0; i < nc; i++)
			done[i]->home = NULL;
	}
	/* Emptied before the frees: a deallocate hook may free more tasks
	 * (into reg_dead again). */
	s->reg_ndead = s->reg_ndone = 0;
	/* Unlinked (home NULL): their last owner frees them listless.  The
	 * reference the poll kept goes now, maybe the last one. */
	for (unsigned i = 0; i < nc; i++)
		task_unref(done[i]);
	for (unsigned i = 0; i < nd; i++)
		/* relaxed: the final state; the last reference's acquire
		 * ordered every earlier change. */
		finish_free(dead[i], atomic_load_explicit(&dead[i]->state,
							  memory_order_relaxed));
}

/* ---- walks --------------------------------------------------------------- */

bool task_info_of(struct task *t, struct task_info *ti)
{
	uint64_t state = task_state_load(t);
	struct scheduler *sc;

	if (state & TASK_COMPLETED)
		return false;
	ti->id = t->id;
	ti->name = task_name(t);
	ti->site = t->site;
	/* A task held since its yield is POLLING on its way to a queue. */
	if ((state & TASK_POLLING) &&
	    !atomic_load_explicit(&t->held, memory_order_relaxed))
		ti->state = TASK_INFO_RUNNING;
	else if (state & (TASK_WOKEN | TASK_POLLING))
		ti->state = TASK_INFO_QUEUED;
	else if (atomic_load_explicit(&t->wait, memory_order_relaxed) ==
		 TASK_WAIT_SLEEP)
		ti->state = TASK_INFO_SLEEPING;
	else
		ti->state = TASK_INFO_WAITING;
	/* relaxed: a snapshot; the binding may change right after. */
	sc = atomic_load_explicit(&t->sched, memory_order_relaxed);
	ti->core = sc ? (int)sc->index : -1;
	ti->polls = atomic_load_explicit(&t->polls, memory_order_relaxed);
	/* acquire: pairs with task_first_run()'s release; a task not run
	 * yet has no busy time to read. */
	ti->busy = atomic_load_explicit(&t->fresh, memory_order_acquire) ? 0 :
		   atomic_load_explicit(&t->busy, memory_order_relaxed);
	ti->born = t->born;
	return true;
}

bool sched_registry_walk(struct scheduler *s, struct sched_reg_cursor *cur,
			 size_t max,
			 void (*visit)(const struct task_info *ti,
				       struct task *t, void *arg),
			 void *arg)
{
	unsigned long flags = spin_lock_irqsave(&s->reg_lock);
	struct task_reg *l;
	size_t steps = 0;
	bool more;

	if (!cur->started) {
		cur->started = true;
		cur->link = (struct task_reg){ NULL, NULL, true };
		l = s->reg_head.next;
	} else if (cur->link.next == NULL) {
		l = &s->reg_head;	/* ended already */
	} else {
		l = cur->link.next;
		unlink(&cur->link);
	}
	for (; l != &s->reg_head && steps < max; l = l->next) {
		struct task_info ti;
		struct task *t;

		if (l->cursor)
			continue;	/* another walk's */
		t = container_of(l, struct task, reg);
		steps++;
		if (task_info_of(t, &ti))
			visit(&ti, t, arg);
	}
	more = l != &s->reg_head;
	if (more) {
		/* Park the cursor before l: the next step starts at l. */
		cur->link.next = l;
		cur->link.prev = l->prev;
		l->prev->next = &cur->link;
		l->prev = &cur->link;
	}
	spin_unlock_irqrestore(&s->reg_lock, flags);
	return more;
}

void sched_registry_walk_end(struct scheduler *s, struct sched_reg_cursor *cur)
{
	unsigned long flags;

	if (!cur->started)
		return;
	/* Under the lock: unlinking a neighbour rewrites the cursor's links. */
	flags = spin_lock_irqsave(&s->reg_lock);
	if (cur->link.next)
		unlink(&cur->link);
	spin_unlock_irqrestore(&s->reg_lock, flags);
}

size_t sched_registry_check(struct scheduler *s)
{
	unsigned long flags = spin_lock_irqsave(&s->reg_lock);
	size_t n = 0, limit = sched_registry_count(s) + REG_CHECK_SLACK;
	struct task_reg *l = &s->reg_head;

	do {
		if (l->next->prev != l)
			panic("sched_registry_check: scheduler %u: broken links after %zu tasks",
			      s->index, n);
		l = l->next;
		if (l != &s->reg_head && !l->cursor) {
			struct task *t = container_of(l, struct task, reg);

			if (t->home != s)
				panic("sched_registry_check: task %llu in scheduler %u's list has another home",
				      (unsigned long long)t->id, s->index);
			n++;
		}
		if (n > limit)
			panic("sched_registry_check: scheduler %u: more tasks than counted (a cycle?)",
			      s->index);
	} while (l != &s->reg_head);
	if (n != sched_registry_count(s))
		panic("sched_registry_check: scheduler %u: %zu tasks linked, count says %zu",
		      s->index, n, sched_registry_count(s));
	spin_unlock_irqrestore(&s->reg_lock, flags);
	return n;
}
