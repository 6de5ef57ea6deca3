/*
 * semaphore.c - the FIFO async semaphore of semaphore.h.
 *
 * The state word: bits 2..63 the available permits, bit 1 WAITERS (the
 * queue is non-empty), bit 0 CLOSED.  Invariants, under the lock:
 * WAITERS is set exactly while the queue is non-empty, and then the
 * available count is 0 unless CLOSED; only the head waiter has permits
 * assigned (`assigned` of them) short of its `want`.  Lock-free callers
 * (try_acquire, a release that sees no WAITERS) only compare-and-swap the
 * count; WAITERS and CLOSED change under the lock.  So a lock-free release
 * whose CAS succeeded saw no queue, and a queued waiter cannot miss a
 * permit: the CAS that queues it sets WAITERS, which sends every later
 * release through the lock, where permits go to the head.
 *
 * Permits held by their owners = max - available - assigned; a release of
 * more is refused with -EOVERFLOW, before anything changes.
 * Reference: tokio sync/batch_semaphore.rs (add_permits_locked,
 * poll_acquire), maitake-sync semaphore.rs.
 */
#include "errno.h"
#include "panic.h"
#include "sched/semaphore.h"
#include "sched/sync_internal.h"

#define ST_CLOSED	1ull
#define ST_WAITERS	2ull
#define ST_SHIFT	SEMAPHORE_STATE_SHIFT
#define ST_FLAGS	(ST_CLOSED | ST_WAITERS)

static inline uint64_t st_permits(uint64_t st)
{
	return st >> ST_SHIFT;
}

void semaphore_init(struct semaphore *s, uint64_t n)
{
	kassert(n <= SEMAPHORE_MAX_PERMITS);
	atomic_init(&s->state, n << ST_SHIFT);
	spin_init(&s->lock);
	s->head = s->tail = NULL;
	s->assigned = 0;
	s->max = n;
}

void semaphore_waiter_init(struct semaphore_waiter *w)
{
	w->next = w->prev = NULL;
	w->waker = WAKER_NONE;
	w->needed = w->want = 0;
	atomic_init(&w->state, SEM_WAITER_IDLE);
}

int semaphore_try_acquire(struct semaphore *s, uint64_t k)
{
	uint64_t cur = atomic_load_explicit(&s->state, memory_order_relaxed);

	kassert(k > 0 && k <= s->max);
	for (;;) {
		if (cur & ST_CLOSED)
			return -EPIPE;
		/* While anyone waits the count is 0: no barging. */
		if (st_permits(cur) < k)
			return -EAGAIN;
		/* acquire: pairs with the release CAS/store that made the
		 * permits available, so the last holder's writes are seen. */
		if (atomic_compare_exchange_weak_explicit(&s->state, &cur,
							  cur - (k << ST_SHIFT),
							  memory_order_acquire,
							  memory_order_relaxed))
			return 0;
	}
}

/* Lock held. */
static void link_tail(struct semaphore *s, struct semaphore_waiter *w)
{
	w->next = NULL;
	w->prev = s->tail;
	if (s->tail)
		s->tail->next = w;
	else
		s->head = w;
	s->tail = w;
}

/*
 * Lock held.  The head's `prev` is not kept: taking the head off (what a
 * release does) then writes nothing in the next waiter, whose line is
 * usually another core's, inside the critical section every core
 * contends for.  Every other waiter's `prev` is exact, so a waiter
 * dropped from the middle is unlinked in O(1) as before.
 */
static void unlink(struct semaphore *s, struct semaphore_waiter *w)
{
	if (s->head == w) {
		s->head = w->next;
		if (w->next == NULL)
			s->tail = NULL;
	} else {
		w->prev->next = w->next;
		if (w->next)
			w->next->prev = w->prev;
		else
			s->tail = w->prev;
	}
	w->next = w->prev = NULL;
}

/*
 * Lock held, queue now empty: clear WAITERS and make `extra` permits
 * available.  Only lock holders change the word while WAITERS is set
 * (lock-free CASes fail on a count of 0 or go to the lock), but a plain
 * CAS loop keeps that reasoning local.
 */
static void queue_emptied(struct semaphore *s, uint64_t extra)
{
	uint64_t cur = atomic_load_explicit(&s->state, memory_order_relaxed);

	/* release: publishes the releaser's critical section to whoever
	 * takes these permits lock-free; pairs with try_acquire's CAS. */
	while (!atomic_compare_exchange_weak_explicit(&s->state, &cur,
			((cur & ~ST_WAITERS) + (extra << ST_SHIFT)),
			memory_order_release, memory_order_relaxed))
		;
}

/* Lock held, CLOSED: permits come back as available (nobody is served). */
static void add_available(struct semaphore *s, uint64_t k)
{
	/* release: as in queue_emptied(). */
	atomic_fetch_add_explicit(&s->state, k << ST_SHIFT, memory_order_release);
}

/*
 * Lock held, not CLOSED: hand `k` permits to the queue in FIFO order.
 * Each waiter served in full is unlinked and marked ACQUIRED, its waker
 * put in `b`.  Stops when the queue empties (the rest become available;
 * returns 0) or `b` is full (returns the permits not yet handed out; the
 * caller wakes `b`, takes the lock again and goes on).
 */
static uint64_t assign(struct semaphore *s, uint64_t k, struct wake_batch *b)
{
	while (k > 0 && s->head != NULL) {
		struct semaphore_waiter *w = s->head;
		uint64_t give;

		if (wake_batch_full(b))
			return k;
		give = MIN(k, w->needed);
		w->needed -= give;
		k -= give;
		s->assigned += give;
		if (w->needed > 0)
			break;		/* k is 0: the head keeps waiting */
		s->assigned -= w->want;
		unlink(s, w);
		wake_batch_add(b, sync_take_waker(&w->waker));
		/* release: the permits (and the releaser's critical section)
		 * are the owner's once it sees ACQUIRED; pairs with the
		 * acquire load in semaphore_acquire()/waiter_drop().  The
		 * entry is not touched after this store. */
		atomic_store_explicit(&w->state, SEM_WAITER_ACQUIRED,
				      memory_order_release);
	}
	if (s->head == NULL)
		queue_emptied(s, k);
	else
		kassert(k == 0);
	return 0;
}

/* Lock held: hand out `k` permits, waking in batches; returns with the
 * lock held and the batch possibly non-empty. */
static unsigned long give_back(struct semaphore *s, uint64_t k,
			       struct wake_batch *b, unsigned long flags)
{
	for (;;) {
		uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);

		if (st & ST_CLOSED) {
			add_available(s, k);
			return flags;
		}
		if (!(st & ST_WAITERS)) {
			queue_emptied(s, k);
			return flags;
		}
		k = assign(s, k, b);
		if (k == 0)
			return flags;
		spin_unlock_irqrestore(&s->lock, flags);
		wake_batch_wake(b);
		flags = spin_lock_irqsave(&s->lock);
	}
}

int semaphore_release(struct semaphore *s, uint64_t k)
{
	uint64_t cur = atomic_load_explicit(&s->state, memory_order_relaxed);
	struct wake_batch b;
	unsigned long flags;

	for (;;) {
		while (!(cur & ST_WAITERS)) {
			if (k > s->max - st_permits(cur))
				return -EOVERFLOW;
			/* release: publishes the holder's critical section;
			 * pairs with the acquire CAS in try_acquire(). */
			if (atomic_compare_exchange_weak_explicit(&s->state, &cur,
					cur + (k << ST_SHIFT), memory_order_release,
					memory_order_relaxed))
				return 0;
		}
		flags = spin_lock_irqsave(&s->lock);
		cur = atomic_load_explicit(&s->state, memory_order_relaxed);
		if (cur & ST_WAITERS)
			break;
		/* The queue emptied meanwhile: the lock-free path again. */
		spin_unlock_irqrestore(&s->lock, flags);
	}
	if (k > s->max - st_permits(cur) - s->assigned) {
		spin_unlock_irqrestore(&s->lock, flags);
		return -EOVERFLOW;
	}
	wake_batch_init(&b);
	flags = give_back(s, k, &b, flags);
	spin_unlock_irqrestore(&s->lock, flags);
	wake_batch_wake(&b);
	return 0;
}

static inline int waiter_state(struct semaphore_waiter *w)
{
	/* acquire: pairs with the release stores of ACQUIRED in assign()
	 * and of CLOSED in semaphore_close(). */
	return atomic_load_explicit(&w->state, memory_order_acquire);
}

/* The owner saw ACQUIRED or CLOSED: the waiter is IDLE again. */
static int finish(struct semaphore_waiter *w, int st)
{
	atomic_store_explicit(&w->state, SEM_WAITER_IDLE, memory_order_relaxed);
	return st == SEM_WAITER_ACQUIRED ? 0 : -EPIPE;
}

enum poll semaphore_acquire(struct semaphore *s, struct semaphore_waiter *w,
			    uint64_t k, struct context *cx, int *result)
{
	struct waker old = WAKER_NONE;
	unsigned long flags;
	uint64_t cur, got;
	int st = waiter_state(w);

	if (st == SEM_WAITER_ACQUIRED || st == SEM_WAITER_CLOSED) {
		*result = finish(w, st);
		return POLL_READY;
	}
	if (st == SEM_WAITER_IDLE) {
		int r = semaphore_try_acquire(s, k);

		if (r != -EAGAIN) {
			*result = r;
			return POLL_READY;
		}
	}
	flags = spin_lock_irqsave(&s->lock);
	st = waiter_state(w);
	if (st == SEM_WAITER_ACQUIRED || st == SEM_WAITER_CLOSED) {
		spin_unlock_irqrestore(&s->lock, flags);
		*result = finish(w, st);
		return POLL_READY;
	}
	if (st == SEM_WAITER_WAITING) {
		kassert(w->want == k);
		old = sync_register_waker(&w->waker, cx);
		spin_unlock_irqrestore(&s->lock, flags);
		waker_drop(&old);
		return POLL_PENDING;
	}
	/* IDLE: take what is there and queue for the rest, in one CAS. */
	cur = atomic_load_explicit(&s->state, memory_order_relaxed);
	for (;;) {
		uint64_t next;

		if (cur & ST_CLOSED) {
			spin_unlock_irqrestore(&s->lock, flags);
			*result = -EPIPE;
			return POLL_READY;
		}
		got = MIN(st_permits(cur), k);
		/* Queued behind others: nothing to take, WAITERS already set. */
		if (got == 0 && (cur & ST_WAITERS))
			break;
		next = got == k ? cur - (k << ST_SHIFT) :
		       (cur & ST_FLAGS) | ST_WAITERS;
		/* acquire: as in try_acquire(), for the permits taken. */
		if (atomic_compare_exchange_weak_explicit(&s->state, &cur, next,
							  memory_order_acquire,
							  memory_order_relaxed))
			break;
	}
	if (got == k) {
		spin_unlock_irqrestore(&s->lock, flags);
		*result = 0;
		return POLL_READY;
	}
	/* Only an empty queue lets permits sit available: w is the head. */
	kassert(got == 0 || s->head == NULL);
	w->want = k;
	w->needed = k - got;
	s->assigned += got;
	w->waker = waker_clone(cx->waker);
	link_tail(s, w);
	atomic_store_explicit(&w->state, SEM_WAITER_WAITING, memory_order_relaxed);
	spin_unlock_irqrestore(&s->lock, flags);
	return POLL_PENDING;
}

bool semaphore_waiter_drop(struct semaphore *s, struct semaphore_waiter *w)
{
	struct waker old = WAKER_NONE;
	struct wake_batch b;
	unsigned long flags;
	uint64_t back = 0;
	int st = waiter_state(w);

	if (st == SEM_WAITER_IDLE)
		return false;
	if (st == SEM_WAITER_WAITING) {
		flags = spin_lock_irqsave(&s->lock);
		st = waiter_state(w);
		if (st == SEM_WAITER_WAITING) {
			back = w->want - w->needed;
			s->assigned -= back;
			unlink(s, w);
			old = sync_take_waker(&w->waker);
			atomic_store_explicit(&w->state, SEM_WAITER_IDLE,
					      memory_order_relaxed);
			wake_batch_init(&b);
			if (s->head == NULL) {
				queue_emptied(s, back);
			} else if (back > 0) {
				/* Its permits go to the waiters behind it. */
				flags = give_back(s, back, &b, flags);
			}
			spin_unlock_irqrestore(&s->lock, flags);
			waker_drop(&old);
			wake_batch_wake(&b);
			return back > 0;
		}
		spin_unlock_irqrestore(&s->lock, flags);
	}
	/* ACQUIRED (the permits are ours, unclaimed) or CLOSED. */
	atomic_store_explicit(&w->state, SEM_WAITER_IDLE, memory_order_relaxed);
	if (st != SEM_WAITER_ACQUIRED)
		return false;
	if (semaphore_release(s, w->want) != 0)
		panic("semaphore_waiter_drop: %llu permits did not fit back",
		      (unsigned long long)w->want);
	return true;
}

void semaphore_close(struct semaphore *s)
{
	unsigned long flags = spin_lock_irqsave(&s->lock);

	atomic_fetch_or_explicit(&s->state, ST_CLOSED, memory_order_relaxed);
	spin_unlock_irqrestore(&s->lock, flags);
	/* One waiter per lock hold: bounded time with interrupts off. */
	for (;;) {
		struct semaphore_waiter *w;
		struct waker wk;
		uint64_t back;

		flags = spin_lock_irqsave(&s->lock);
		w = s->head;
		if (w == NULL) {
			spin_unlock_irqrestore(&s->lock, flags);
			return;
		}
		back = w->want - w->needed;
		s->assigned -= back;
		unlink(s, w);
		wk = sync_take_waker(&w->waker);
		/* While CLOSED the count may be non-zero with waiters queued:
		 * no acquire looks at it any more. */
		if (s->head == NULL)
			queue_emptied(s, back);
		else
			add_available(s, back);
		/* release: pairs with the acquire in waiter_state(); the entry
		 * is not touched after this store. */
		atomic_store_explicit(&w->state, SEM_WAITER_CLOSED,
				      memory_order_release);
		spin_unlock_irqrestore(&s->lock, flags);
		waker_wake(&wk);
	}
}

bool semaphore_is_closed(const struct semaphore *s)
{
	return atomic_load_explicit(&((struct semaphore *)s)->state,
				    memory_order_relaxed) & ST_CLOSED;
}

uint64_t semaphore_available(const struct semaphore *s)
{
	return st_permits(atomic_load_explicit(&((struct semaphore *)s)->state,
					       memory_order_relaxed));
}

size_t semaphore_waiters(struct semaphore *s)
{
	unsigned long flags = spin_lock_irqsave(&s->lock);
	size_t n = 0;

	for (struct semaphore_waiter *w = s->head; w; w = w->next)
		n++;
	spin_unlock_irqrestore(&s->lock, flags);
	return n;
}

void semaphore_check(struct semaphore *s)
{
	unsigned long flags = spin_lock_irqsave(&s->lock);
	uint64_t st = atomic_load_explicit(&s->state, memory_order_relaxed);
	struct semaphore_waiter *prev = NULL;
	uint64_t partial = 0;

	if (!!(st & ST_WAITERS) != (s->head != NULL))
		panic("semaphore_check: WAITERS %d with head %p",
		      !!(st & ST_WAITERS), (void *)s->head);
	if ((st & ST_WAITERS) && !(st & ST_CLOSED) && st_permits(st) != 0)
		panic("semaphore_check: %llu permits available while waiters queue",
		      (unsigned long long)st_permits(st));
	for (struct semaphore_waiter *w = s->head; w; prev = w, w = w->next) {
		if (w != s->head && w->prev != prev)
			panic("semaphore_check: waiter %p: prev link broken", (void *)w);
		if (atomic_load_explicit(&w->state, memory_order_relaxed) !=
		    SEM_WAITER_WAITING)
			panic("semaphore_check: queued waiter %p not WAITING", (void *)w);
		if (w->needed == 0 || w->needed > w->want)
			panic("semaphore_check: waiter %p needs %llu of %llu", (void *)w,
			      (unsigned long long)w->needed,
			      (unsigned long long)w->want);
		if (w != s->head && w->needed != w->want)
			panic("semaphore_check: waiter %p behind the head holds permits",
			      (void *)w);
		partial += w->want - w->needed;
	}
	if (s->tail != prev)
		panic("semaphore_check: tail %p, last waiter %p", (void *)s->tail,
		      (void *)prev);
	if (partial != s->assigned)
		panic("semaphore_check: assigned %llu, waiters hold %llu",
		      (unsigned long long)s->assigned, (unsigned long long)partial);
	if (st_permits(st) + s->assigned > s->max)
		panic("semaphore_check: %llu available + %llu assigned > %llu",
		      (unsigned long long)st_permits(st),
		      (unsigned long long)s->assigned, (unsigned long long)s->max);
	spin_unlock_irqrestore(&s->lock, flags);
}
