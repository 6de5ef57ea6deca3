/*
 * semaphore.h - an async counting semaphore with FIFO waiters; the base of
 * the async mutex (sched/mutex.h) and read-write lock (sched/rwlock.h).
 *
 * N permits.  acquire(k) takes k at once or waits in a FIFO queue; permits
 * a release frees go to the queue's head first, even a part of what it
 * asked for, so a large request is never overtaken by small ones and a
 * released permit is handed to the next waiter, never barged by a newcomer.
 * close() fails every waiter, present and future, with -EPIPE.
 *
 * Design (tokio's batch_semaphore, maitake's Semaphore): one atomic word
 * holds the available permits, a WAITERS bit and a CLOSED bit.  While the
 * queue is non-empty WAITERS is set and the available count is 0 (every
 * freed permit is assigned to a waiter), so the lock-free try_acquire
 * cannot jump the queue.  try_acquire and a release with nobody queued are
 * one compare-and-swap; queueing and handing permits to waiters take an
 * IRQ-safe spin lock, and wakers are woken after it is dropped.
 *
 * Concurrency: any core may call anything; release and try_acquire are
 * also IRQ-safe (no waiting beyond the spin lock, no allocation).  A
 * waiter (struct semaphore_waiter, embedded in the waiting task's state)
 * is polled and dropped by its owner only.
 *
 * Waiter states (the owner reads them without the lock):
 *   IDLE      not queued; the next acquire poll starts over
 *   WAITING   queued, holding `want - needed` permits assigned so far
 *   ACQUIRED  every permit assigned, unlinked; the next poll is READY 0
 *   CLOSED    unlinked by close(); the next poll is READY -EPIPE
 * A waiter dropped while WAITING or ACQUIRED gives back what it was
 * assigned (semaphore_waiter_drop), so cancelling never loses permits.
 * Reference: tokio sync/batch_semaphore.rs, maitake-sync semaphore.rs.
 */
#ifndef HYPHAE_SCHED_SEMAPHORE_H
#define HYPHAE_SCHED_SEMAPHORE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/waker.h"
#include "spinlock.h"

/* Most permits a semaphore may be created with (fits the state word). */
#define SEMAPHORE_MAX_PERMITS	(UINT64_MAX >> 3)

enum semaphore_waiter_state {
	SEM_WAITER_IDLE = 0,
	SEM_WAITER_WAITING,
	SEM_WAITER_ACQUIRED,
	SEM_WAITER_CLOSED,
};

struct semaphore_waiter {
	/* Under the semaphore's lock while WAITING (prev: exact for all
	 * but the head; see unlink() in semaphore.c): */
	struct semaphore_waiter *next, *prev;
	struct waker waker;
	uint64_t needed;	/* permits still to be assigned */
	/* Set by the poll that queues it; read by the owner afterwards. */
	uint64_t want;
	/* Written under the lock; read by the owner without it. */
	_Atomic int state;
};

#define SEMAPHORE_WAITER_INIT { NULL, NULL, { NULL, NULL }, 0, 0, SEM_WAITER_IDLE }

struct semaphore {
	/* available << 2 | WAITERS | CLOSED; see semaphore.c. */
	_Atomic uint64_t state;
	struct spinlock lock;
	/* Under lock: */
	struct semaphore_waiter *head, *tail;
	uint64_t assigned;	/* permits assigned to queued waiters */
	/* Constant: the permits it was created with. */
	uint64_t max;
};

#define SEMAPHORE_STATE_SHIFT	2
#define SEMAPHORE_INIT(n) \
	{ (uint64_t)(n) << SEMAPHORE_STATE_SHIFT, SPINLOCK_INIT, NULL, NULL, 0, (n) }

/* `n` permits, all available (n <= SEMAPHORE_MAX_PERMITS).  Once. */
void semaphore_init(struct semaphore *s, uint64_t n);
void semaphore_waiter_init(struct semaphore_waiter *w);

/*
 * Take `k` permits (0 < k <= the semaphore's total) if that many are
 * available and nobody is queued.  0; -EAGAIN if not; -EPIPE if closed.
 * Any context, IRQ-safe; lock-free.
 */
int __must_check semaphore_try_acquire(struct semaphore *s, uint64_t k);

/*
 * Acquire `k` permits with waiter `w`: READY with *result 0 (the caller
 * now holds k permits) or -EPIPE (closed; holds none); else PENDING, w
 * queued, cx's waker woken once the permits were assigned or the
 * semaphore closed.  Poll again with the same w and k.  Task context,
 * w's owner.
 */
enum poll semaphore_acquire(struct semaphore *s, struct semaphore_waiter *w,
			    uint64_t k, struct context *cx, int *result);

/*
 * Give back `k` permits: to the queue's head first (waking each waiter
 * served in full), the rest become available.  0, or -EOVERFLOW if more
 * than are held would come back (nothing changes).  Also after close.
 * Any context, IRQ-safe.
 */
int __must_check semaphore_release(struct semaphore *s, uint64_t k);

/*
 * The owner gives up waiting (its task is cancelled): unlinks w and gives
 * back what it was assigned (all k if it was ACQUIRED but not yet polled
 * READY).  True if permits went back.  Afterwards w is IDLE and may be
 * freed.  Task context, w's owner.
 */
bool semaphore_waiter_drop(struct semaphore *s, struct semaphore_waiter *w);

/*
 * Close: set CLOSED, then wake each queued waiter with -EPIPE (what they
 * were assigned becomes available); acquires from now on fail with
 * -EPIPE.  Releases still count.  Any context, IRQ-safe (it takes the
 * lock once per waiter).
 */
void semaphore_close(struct semaphore *s);
bool semaphore_is_closed(const struct semaphore *s);

/* Permits available now (a snapshot; 0 while anyone waits).  Any context. */
uint64_t semaphore_available(const struct semaphore *s);

/* Waiters queued now (under the lock).  Any context; for tests, dumps. */
size_t semaphore_waiters(struct semaphore *s);

/*
 * Verify every invariant under the lock, O(waiters): WAITERS set exactly
 * while the queue is non-empty, no permit available while anyone waits
 * (unless closed), only the head holds part of its request and `assigned`
 * is that part, links and waiter states consistent, available + assigned
 * <= total.  Panics naming the first broken one.  Any context; tests.
 */
void semaphore_check(struct semaphore *s);

#endif /* HYPHAE_SCHED_SEMAPHORE_H */
