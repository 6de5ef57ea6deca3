/*
 * mutex.c - the async mutex: a one-permit FIFO semaphore (mutex.h).
 */
#include "errno.h"
#include "panic.h"
#include "sched/mutex.h"

void mutex_init(struct mutex *m)
{
	semaphore_init(&m->sem, 1);
}

enum poll mutex_lock(struct mutex *m, struct semaphore_waiter *w,
		     struct context *cx)
{
	int r = 0;
	enum poll p = semaphore_acquire(&m->sem, w, 1, cx, &r);

	/* Nobody closes a mutex's semaphore. */
	kassert(r == 0);
	return p;
}

bool mutex_try_lock(struct mutex *m)
{
	return semaphore_try_acquire(&m->sem, 1) == 0;
}

void mutex_unlock(struct mutex *m)
{
	if (semaphore_release(&m->sem, 1) != 0)
		panic("mutex_unlock: mutex %p is not locked", (void *)m);
}

void mutex_waiter_drop(struct mutex *m, struct semaphore_waiter *w)
{
	(void)semaphore_waiter_drop(&m->sem, w);
}

bool mutex_is_locked(const struct mutex *m)
{
	/* The permit is either available or held (handed to a waiter). */
	return semaphore_available(&m->sem) == 0;
}
