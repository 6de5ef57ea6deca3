/*
 * wait_map.c - the keyed wait map of wait_map.h: hash chains of entries
 * under an IRQ-safe spin lock.
 *
 * A wake moves the value in and the waker out under the lock, stores
 * WOKEN with release and never touches the entry again, so its owner may
 * reuse or free it as soon as it reads WOKEN (acquire) - without the lock.
 * Keys are spread over the buckets by a multiplicative (Fibonacci) hash.
 * Reference: maitake-sync wait_map.rs.
 */
#include "errno.h"
#include "panic.h"
#include "sched/sync_internal.h"
#include "sched/wait_map.h"

#define FIB_HASH	0x9e3779b97f4a7c15ull

static inline struct wait_map_entry **bucket(struct wait_map *m, uint64_t key)
{
	return &m->buckets[(key * FIB_HASH) >> (64 - WAIT_MAP_BUCKET_BITS)];
}

void wait_map_init(struct wait_map *m)
{
	spin_init(&m->lock);
	m->closed = false;
	m->waiters = 0;
	for (unsigned i = 0; i < WAIT_MAP_BUCKETS; i++)
		m->buckets[i] = NULL;
}

void wait_map_entry_init(struct wait_map_entry *e)
{
	e->next = NULL;
	e->pprev = NULL;
	e->waker = WAKER_NONE;
	e->key = 0;
	e->value = 0;
	atomic_init(&e->state, WAIT_MAP_IDLE);
}

static inline int entry_state(struct wait_map_entry *e)
{
	/* acquire: pairs with the release stores of WOKEN / CLOSED. */
	return atomic_load_explicit(&e->state, memory_order_acquire);
}

/* Lock held. */
static struct wait_map_entry *find(struct wait_map *m, uint64_t key)
{
	struct wait_map_entry *e = *bucket(m, key);

	while (e && e->key != key)
		e = e->next;
	return e;
}

/* Lock held, e IDLE: link it under `key`, or -EEXIST / -EPIPE. */
static int insert(struct wait_map *m, struct wait_map_entry *e, uint64_t key)
{
	struct wait_map_entry **b = bucket(m, key);

	if (m->closed)
		return -EPIPE;
	if (find(m, key))
		return -EEXIST;
	e->key = key;
	e->next = *b;
	if (*b)
		(*b)->pprev = &e->next;
	e->pprev = b;
	*b = e;
	m->waiters++;
	atomic_store_explicit(&e->state, WAIT_MAP_WAITING, memory_order_relaxed);
	return 0;
}

/* Lock held. */
static void unlink(struct wait_map *m, struct wait_map_entry *e)
{
	*e->pprev = e->next;
	if (e->next)
		e->next->pprev = e->pprev;
	e->next = NULL;
	e->pprev = NULL;
	m->waiters--;
}

int wait_map_subscribe(struct wait_map *m, struct wait_map_entry *e,
		       uint64_t key)
{
	unsigned long flags;
	int r;

	kassert(entry_state(e) == WAIT_MAP_IDLE);
	flags = spin_lock_irqsave(&m->lock);
	r = insert(m, e, key);
	spin_unlock_irqrestore(&m->lock, flags);
	return r;
}

/* The owner saw WOKEN or CLOSED: e is IDLE again. */
static enum poll finish(struct wait_map_entry *e, int st, uint64_t *value,
			int *result)
{
	if (st == WAIT_MAP_WOKEN) {
		*value = e->value;
		*result = 0;
	} else {
		*result = -EPIPE;
	}
	atomic_store_explicit(&e->state, WAIT_MAP_IDLE, memory_order_relaxed);
	return POLL_READY;
}

enum poll wait_map_wait(struct wait_map *m, struct wait_map_entry *e,
			uint64_t key, struct context *cx, uint64_t *value,
			int *result)
{
	struct waker old = WAKER_NONE;
	unsigned long flags;
	int st = entry_state(e);

	if (st == WAIT_MAP_WOKEN || st == WAIT_MAP_CLOSED)
		return finish(e, st, value, result);
	kassert(cx->waker != NULL);
	flags = spin_lock_irqsave(&m->lock);
	st = entry_state(e);
	if (st == WAIT_MAP_WAITING) {
		kassert(e->key == key);
		old = sync_register_waker(&e->waker, cx);
	} else if (st == WAIT_MAP_IDLE) {
		int r = insert(m, e, key);

		if (r) {
			spin_unlock_irqrestore(&m->lock, flags);
			*result = r;
			return POLL_READY;
		}
		e->waker = waker_clone(cx->waker);
	} else {
		spin_unlock_irqrestore(&m->lock, flags);
		return finish(e, st, value, result);
	}
	spin_unlock_irqrestore(&m->lock, flags);
	waker_drop(&old);
	return POLL_PENDING;
}

int wait_map_wake(struct wait_map *m, uint64_t key, uint64_t value)
{
	unsigned long flags = spin_lock_irqsave(&m->lock);
	struct wait_map_entry *e;
	struct waker w;

	if (m->closed) {
		spin_unlock_irqrestore(&m->lock, flags);
		return -EPIPE;
	}
	e = find(m, key);
	if (e == NULL) {
		spin_unlock_irqrestore(&m->lock, flags);
		return -ENOENT;
	}
	unlink(m, e);
	e->value = value;
	w = sync_take_waker(&e->waker);
	/* release: publishes the value (and the waker's writes before the
	 * wake); pairs with the acquire in entry_state().  The entry is not
	 * touched after this store. */
	atomic_store_explicit(&e->state, WAIT_MAP_WOKEN, memory_order_release);
	spin_unlock_irqrestore(&m->lock, flags);
	/* A subscribed entry not yet polled has no waker: its first poll
	 * finds WOKEN. */
	waker_wake(&w);
	return 0;
}

void wait_map_close(struct wait_map *m)
{
	unsigned long flags = spin_lock_irqsave(&m->lock);

	m->closed = true;
	spin_unlock_irqrestore(&m->lock, flags);
	for (unsigned i = 0; i < WAIT_MAP_BUCKETS; i++) {
		for (;;) {
			struct wait_map_entry *e;
			struct waker w;

			flags = spin_lock_irqsave(&m->lock);
			e = m->buckets[i];
			if (e == NULL) {
				spin_unlock_irqrestore(&m->lock, flags);
				break;
			}
			unlink(m, e);
			w = sync_take_waker(&e->waker);
			/* release: as in wait_map_wake(). */
			atomic_store_explicit(&e->state, WAIT_MAP_CLOSED,
					      memory_order_release);
			spin_unlock_irqrestore(&m->lock, flags);
			waker_wake(&w);
		}
	}
}

bool wait_map_is_closed(struct wait_map *m)
{
	unsigned long flags = spin_lock_irqsave(&m->lock);
	bool closed = m->closed;

	spin_unlock_irqrestore(&m->lock, flags);
	return closed;
}

bool wait_map_entry_drop(struct wait_map *m, struct wait_map_entry *e)
{
	struct waker w = WAKER_NONE;
	unsigned long flags;
	int st = entry_state(e);

	if (st == WAIT_MAP_WAITING) {
		flags = spin_lock_irqsave(&m->lock);
		st = entry_state(e);
		if (st == WAIT_MAP_WAITING) {
			unlink(m, e);
			w = sync_take_waker(&e->waker);
		}
		spin_unlock_irqrestore(&m->lock, flags);
		waker_drop(&w);
	}
	atomic_store_explicit(&e->state, WAIT_MAP_IDLE, memory_order_relaxed);
	return st == WAIT_MAP_WOKEN;
}

size_t wait_map_waiters(struct wait_map *m)
{
	unsigned long flags = spin_lock_irqsave(&m->lock);
	size_t n = m->waiters;

	spin_unlock_irqrestore(&m->lock, flags);
	return n;
}

void wait_map_check(struct wait_map *m)
{
	unsigned long flags = spin_lock_irqsave(&m->lock);
	size_t n = 0;

	for (unsigned i = 0; i < WAIT_MAP_BUCKETS; i++) {
		struct wait_map_entry **link = &m->buckets[i];

		for (struct wait_map_entry *e = *link; e; link = &e->next, e = e->next) {
			if (e->pprev != link)
				panic("wait_map_check: entry %p: pprev link broken",
				      (void *)e);
			if (bucket(m, e->key) != &m->buckets[i])
				panic("wait_map_check: key %llu in chain %u",
				      (unsigned long long)e->key, i);
			if (atomic_load_explicit(&e->state, memory_order_relaxed) !=
			    WAIT_MAP_WAITING)
				panic("wait_map_check: entry %p in the map not WAITING",
				      (void *)e);
			for (struct wait_map_entry *o = e->next; o; o = o->next)
				if (o->key == e->key)
					panic("wait_map_check: key %llu twice",
					      (unsigned long long)e->key);
			n++;
		}
	}
	if (n != m->waiters)
		panic("wait_map_check: %zu entries, count %zu", n, m->waiters);
	spin_unlock_irqrestore(&m->lock, flags);
}
