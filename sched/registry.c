/*
 * registry.c - the registry of live tasks: one list per scheduler.
 *
 * Every task is linked, from its spawn until its storage is freed, into
 * the list of one scheduler, its home: the scheduler ticking on the
 * spawning core, else the one it was spawned onto; a task spawned into
 * the injector gets the first scheduler that dequeues it.  The home never
 * changes (stealing moves a task between queues, not lists).  A list is a
 * circular doubly linked list under its own spinlock, so insert and remove
 * are O(1) and no lock is shared by every core.
 *
 * The lock is taken once per batch on the hot paths: a poll's spawns onto
 * its own scheduler wait in reg_born (not yet queued, so nobody else can
 * run or free them) and are linked and queued together when the poll
 * returns, or every SCHED_REG_BATCH spawns; heap tasks freed during a tick
 * wait in reg_dead (nobody references them any more) and are unlinked,
 * grouped by home, and freed when the tick ends.  Everything else (spawns
 * outside a tick, caller storage, frees from other threads or interrupt
 * handlers) takes the home's lock at once.  Each hold disables interrupts:
 * an interrupt handler may free a task (dropping the last waker).
 *
 * A walk (`tasks`) holds a list's lock for at most `max` tasks and leaves a
 * cursor link in the list between steps, so a list of 100,000 tasks never
 * holds a core's frees back for long; tasks cannot be freed while linked,
 * so what the walk reads stays valid under the lock.
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
	s->reg_nborn = s->reg_ndead = 0;
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

static void link_task(struct scheduler *s, struct task *t)
{
	t->home = s;
	link_tail(s, &t->reg);
	count_add(s, 1);
}

static void link_one(struct scheduler *s, struct task *t)
{
	unsigned long flags = spin_lock_irqsave(&s->reg_lock);

	link_task(s, t);
	spin_unlock_irqrestore(&s->reg_lock, flags);
}

/* ---- spawns -------------------------------------------------------------- */

bool registry_spawned(struct scheduler *target, struct task *t, bool heap)
{
	struct scheduler *cur = arch_cpu_sched();

	if (cur && arch_in_interrupt())
		cur = NULL;
	if (heap && cur == target) {
		/* The poll's own spawns: linked and queued as a batch. */
		t->home = target;
		cur->reg_born[cur->reg_nborn++] = t;
		if (cur->reg_nborn == SCHED_REG_BATCH)
			registry_flush_born(cur);
		return true;
	}
	link_one(cur ? cur : target, t);
	return false;
}

void registry_flush_born(struct scheduler *s)
{
	unsigned n = s->reg_nborn;
	unsigned long flags;
	struct mpsc_node *first, *last;

	if (n == 0)
		return;
	flags = spin_lock_irqsave(&s->reg_lock);
	for (unsigned i = 0; i < n; i++) {
		link_tail(s, &s->reg_born[i]->reg);
	}
	count_add(s, (long)n);
	spin_unlock_irqrestore(&s->reg_lock, flags);
	/* One chain, one exchange: plain links, published by the enqueue. */
	first = &s->reg_born[0]->run_node;
	last = &s->reg_born[n - 1]->run_node;
	for (unsigned i = 0; i + 1 < n; i++)
		atomic_store_explicit(&s->reg_born[i]->run_node.next,
				      &s->reg_born[i + 1]->run_node,
				      memory_order_relaxed);
	s->reg_nborn = 0;
	/* Counted before queued, so `queued` never undercounts the queue. */
	atomic_fetch_add_explicit(&s->queued, n, memory_order_relaxed);
	mpsc_enqueue_chain(&s->queue, first, last);
	if (s->hooks.notify)
		s->hooks.notify(s->hooks.arg);
}

void registry_adopt(struct scheduler *s, struct mpsc_node **batch, unsigned n)
{
	unsigned long flags = 0;
	bool locked = false;

	for (unsigned i = 0; i < n; i++) {
		struct task *t = container_of(batch[i], struct task, run_node);

		if (t->home)
			continue;
		if (!locked) {
			flags = spin_lock_irqsave(&s->reg_lock);
			locked = true;
		}
		link_task(s, t);
	}
	if (locked)
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
	struct scheduler *home = t->home, *cur;
	unsigned long flags;

	if (home == NULL) {
		finish_free(t, state);
		return;
	}
	cur = arch_cpu_sched();
	if (cur && (state & TASK_HEAP) && !arch_in_interrupt()) {
		cur->reg_dead[cur->reg_ndead++] = t;
		if (cur->reg_ndead == SCHED_REG_BATCH)
			registry_flush_dead(cur);
		return;
	}
	flags = spin_lock_irqsave(&home->reg_lock);
	unlink(&t->reg);
	count_add(home, -1);
	spin_unlock_irqrestore(&home->reg_lock, flags);
	finish_free(t, state);
}

void registry_flush_dead(struct scheduler *s)
{
	unsigned n = s->reg_ndead;
	bool done[SCHED_REG_BATCH] = { false };
	struct task *dead[SCHED_REG_BATCH];

	/* Grouped by home: one hold of each home's lock (usually one). */
	for (unsigned i = 0; i < n; i++) {
		struct scheduler *home;
		unsigned long flags;
		long count = 0;

		if (done[i])
			continue;
		home = s->reg_dead[i]->home;
		flags = spin_lock_irqsave(&home->reg_lock);
		for (unsigned j = i; j < n; j++) {
			if (done[j] || s->reg_dead[j]->home != home)
				continue;
			unlink(&s->reg_dead[j]->reg);
			done[j] = true;
			count--;
		}
		count_add(home, count);
		spin_unlock_irqrestore(&home->reg_lock, flags);
	}
	/* A deallocate hook may free more tasks (into reg_dead again). */
	for (unsigned i = 0; i < n; i++)
		dead[i] = s->reg_dead[i];
	s->reg_ndead = 0;
	for (unsigned i = 0; i < n; i++) {
		struct task *t = dead[i];

		/* relaxed: the final state; the last reference's acquire
		 * ordered every earlier change. */
		finish_free(t, atomic_load_explicit(&t->state,
						    memory_order_relaxed));
	}
}

/* ---- walks --------------------------------------------------------------- */

bool task_info_of(struct task *t, struct task_info *ti)
{
	uint64_t state = task_state_load(t);
	struct scheduler *sc;

	if (state & TASK_COMPLETED)
		return false;
	ti->id = t->id;
	ti->name = t->name;
	ti->site = t->site;
	if (state & TASK_POLLING)
		ti->state = TASK_INFO_RUNNING;
	else if (state & TASK_WOKEN)
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
	ti->busy = atomic_load_explicit(&t->busy, memory_order_relaxed);
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
