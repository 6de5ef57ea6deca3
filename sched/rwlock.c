/*
 * rwlock.c - the async read-write lock: a FIFO semaphore of
 * RWLOCK_MAX_READERS permits, one per reader, all for a writer (rwlock.h).
 */
#include "errno.h"
#include "panic.h"
#include "sched/rwlock.h"

void rwlock_init(struct rwlock *l)
{
	semaphore_init(&l->sem, RWLOCK_MAX_READERS);
}

static enum poll take(struct rwlock *l, struct semaphore_waiter *w,
		      uint64_t k, struct context *cx)
{
	int r = 0;
	enum poll p = semaphore_acquire(&l->sem, w, k, cx, &r);

	/* Nobody closes a lock's semaphore. */
	kassert(r == 0);
	return p;
}

enum poll rwlock_read(struct rwlock *l, struct semaphore_waiter *w,
		      struct context *cx)
{
	return take(l, w, 1, cx);
}

enum poll rwlock_write(struct rwlock *l, struct semaphore_waiter *w,
		       struct context *cx)
{
	return take(l, w, RWLOCK_MAX_READERS, cx);
}

bool rwlock_try_read(struct rwlock *l)
{
	return semaphore_try_acquire(&l->sem, 1) == 0;
}

bool rwlock_try_write(struct rwlock *l)
{
	return semaphore_try_acquire(&l->sem, RWLOCK_MAX_READERS) == 0;
}

void rwlock_read_unlock(struct rwlock *l)
{
	if (semaphore_release(&l->sem, 1) != 0)
		panic("rwlock_read_unlock: %p is not read-locked", (void *)l);
}

void rwlock_write_unlock(struct rwlock *l)
{
	if (semaphore_release(&l->sem, RWLOCK_MAX_READERS) != 0)
		panic("rwlock_write_unlock: %p is not write-locked", (void *)l);
}

void rwlock_waiter_drop(struct rwlock *l, struct semaphore_waiter *w)
{
	(void)semaphore_waiter_drop(&l->sem, w);
}
