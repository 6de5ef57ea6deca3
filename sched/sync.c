/*
 * sync.c - wait cell, wait queue and oneshot channel over spinlocks.
 *
 * Each primitive keeps a handful of fields under an IRQ-safe spinlock; a
 * waker to wake or drop is moved out under the lock and used after it is
 * released, so nothing a waker does can deadlock on the primitive.  A
 * wait_entry's state is also read without the lock by its owner: a wake
 * moves the waker out first and then stores WOKEN (release), and never
 * touches the entry again.
 * Reference: Mycelium maitake sync/wait_cell.rs, sync/wait_queue.rs.
 */
#include <string.h>

#include "errno.h"
#include "panic.h"
#include "sched/sync.h"

/* Store a clone of cx's waker in *slot unless it already wakes the same;
 * returns the waker the caller must drop after unlocking. */
static struct waker register_waker(struct waker *slot, struct context *cx)
{
	struct waker old = WAKER_NONE;

	/* Unlike join_poll(), waiting here needs someone to wake. */
	kassert(cx->waker != NULL);
	if (!waker_will_wake(slot, cx->waker)) {
		old = *slot;
		*slot = waker_clone(cx->waker);
	}
	return old;
}

static struct waker take_waker(struct waker *slot)
{
	struct waker w = *slot;

	*slot = WAKER_NONE;
	return w;
}

/* ---- wait cell ---------------------------------------------------------- */

void wait_cell_init(struct wait_cell *c)
{
	spin_init(&c->lock);
	c->waker = WAKER_NONE;
	c->notified = false;
	c->closed = false;
}

enum poll wait_cell_poll(struct wait_cell *c, struct context *cx)
{
	unsigned long flags = spin_lock_irqsave(&c->lock);
	struct waker old = WAKER_NONE;
	enum poll p = POLL_PENDING;

	if (c->notified || c->closed) {
		c->notified = false;
		old = take_waker(&c->waker);
		p = POLL_READY;
	} else {
		old = register_waker(&c->waker, cx);
	}
	spin_unlock_irqrestore(&c->lock, flags);
	waker_drop(&old);
	return p;
}

bool wait_cell_wake(struct wait_cell *c)
{
	unsigned long flags = spin_lock_irqsave(&c->lock);
	struct waker w = take_waker(&c->waker);

	c->notified = true;
	spin_unlock_irqrestore(&c->lock, flags);
	if (!waker_is_some(&w))
		return false;
	waker_wake(&w);
	return true;
}

void wait_cell_close(struct wait_cell *c)
{
	unsigned long flags = spin_lock_irqsave(&c->lock);
	struct waker w = take_waker(&c->waker);

	c->closed = true;
	spin_unlock_irqrestore(&c->lock, flags);
	waker_wake(&w);
}

bool wait_cell_is_closed(struct wait_cell *c)
{
	unsigned long flags = spin_lock_irqsave(&c->lock);
	bool closed = c->closed;

	spin_unlock_irqrestore(&c->lock, flags);
	return closed;
}

void wait_cell_unregister(struct wait_cell *c)
{
	unsigned long flags = spin_lock_irqsave(&c->lock);
	struct waker w = take_waker(&c->waker);

	spin_unlock_irqrestore(&c->lock, flags);
	waker_drop(&w);
}

/* ---- wait queue --------------------------------------------------------- */

void wait_queue_init(struct wait_queue *wq)
{
	spin_init(&wq->lock);
	wq->head = wq->tail = NULL;
	wq->generation = 0;
	wq->waiters = 0;
	wq->pending = false;
	wq->closed = false;
}

void wait_entry_init(struct wait_entry *e)
{
	e->next = e->prev = NULL;
	e->waker = WAKER_NONE;
	e->generation = 0;
	atomic_init(&e->state, WAIT_ENTRY_IDLE);
}

static inline int entry_state(struct wait_entry *e)
{
	/* acquire: pairs with the release store of WOKEN in wake_entry(). */
	return atomic_load_explicit(&e->state, memory_order_acquire);
}

/* Lock held. */
static void unlink_entry(struct wait_queue *wq, struct wait_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		wq->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		wq->tail = e->prev;
	e->next = e->prev = NULL;
	wq->waiters--;
}

/* Lock held: unlink the head entry and return its waker to wake. */
static struct waker wake_entry(struct wait_queue *wq, struct wait_entry *e)
{
	struct waker w;

	unlink_entry(wq, e);
	w = take_waker(&e->waker);
	/* release: the entry is finished with before its owner sees WOKEN;
	 * pairs with the acquire in entry_state(). */
	atomic_store_explicit(&e->state, WAIT_ENTRY_WOKEN, memory_order_release);
	return w;
}

enum poll wait_queue_poll(struct wait_queue *wq, struct wait_entry *e,
			  struct context *cx)
{
	struct waker old = WAKER_NONE;
	unsigned long flags;
	enum poll p = POLL_PENDING;

	if (entry_state(e) == WAIT_ENTRY_WOKEN) {
		atomic_store_explicit(&e->state, WAIT_ENTRY_IDLE, memory_order_relaxed);
		return POLL_READY;
	}
	flags = spin_lock_irqsave(&wq->lock);
	if (entry_state(e) == WAIT_ENTRY_WOKEN) {
		atomic_store_explicit(&e->state, WAIT_ENTRY_IDLE, memory_order_relaxed);
		p = POLL_READY;
	} else if (wq->closed) {
		if (entry_state(e) == WAIT_ENTRY_WAITING) {
			unlink_entry(wq, e);
			old = take_waker(&e->waker);
			atomic_store_explicit(&e->state, WAIT_ENTRY_IDLE,
					      memory_order_relaxed);
		}
		p = POLL_READY;
	} else if (entry_state(e) == WAIT_ENTRY_WAITING) {
		old = register_waker(&e->waker, cx);
	} else if (wq->pending) {
		wq->pending = false;
		p = POLL_READY;
	} else {
		e->next = NULL;
		e->prev = wq->tail;
		if (wq->tail)
			wq->tail->next = e;
		else
			wq->head = e;
		wq->tail = e;
		wq->waiters++;
		e->generation = wq->generation;
		e->waker = waker_clone(cx->waker);
		atomic_store_explicit(&e->state, WAIT_ENTRY_WAITING,
				      memory_order_relaxed);
	}
	spin_unlock_irqrestore(&wq->lock, flags);
	waker_drop(&old);
	return p;
}

bool wait_queue_wake_one(struct wait_queue *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	struct waker w = WAKER_NONE;
	bool woke = wq->head != NULL;

	if (woke)
		w = wake_entry(wq, wq->head);
	else
		wq->pending = true;
	spin_unlock_irqrestore(&wq->lock, flags);
	waker_wake(&w);
	return woke;
}

/* Wake the waiters queued before generation `gen` began, one per lock hold
 * (bounded IRQ-off time). */
static size_t wake_before(struct wait_queue *wq, uint64_t gen)
{
	size_t n = 0;

	for (;;) {
		unsigned long flags = spin_lock_irqsave(&wq->lock);
		struct wait_entry *e = wq->head;
		struct waker w;

		if (e == NULL || e->generation >= gen) {
			spin_unlock_irqrestore(&wq->lock, flags);
			return n;
		}
		w = wake_entry(wq, e);
		spin_unlock_irqrestore(&wq->lock, flags);
		waker_wake(&w);
		n++;
	}
}

size_t wait_queue_wake_all(struct wait_queue *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	uint64_t gen = ++wq->generation;

	spin_unlock_irqrestore(&wq->lock, flags);
	return wake_before(wq, gen);
}

void wait_queue_close(struct wait_queue *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	uint64_t gen = ++wq->generation;

	wq->closed = true;
	spin_unlock_irqrestore(&wq->lock, flags);
	wake_before(wq, gen);
}

bool wait_queue_is_closed(struct wait_queue *wq)
{
	unsigned long flags = spin_lock_irqsave(&wq->lock);
	bool closed = wq->closed;

	spin_unlock_irqrestore(&wq->lock, flags);
	return closed;
}

void wait_entry_drop(struct wait_queue *wq, struct wait_entry *e)
{
	struct waker w = WAKER_NONE;
	unsigned long flags;

	if (entry_state(e) != WAIT_ENTRY_WAITING) {
		/* IDLE, or WOKEN: the waker already left the entry. */
		atomic_store_explicit(&e->state, WAIT_ENTRY_IDLE, memory_order_relaxed);
		return;
	}
	flags = spin_lock_irqsave(&wq->lock);
	if (entry_state(e) == WAIT_ENTRY_WAITING) {
		unlink_entry(wq, e);
		w = take_waker(&e->waker);
	}
	atomic_store_explicit(&e->state, WAIT_ENTRY_IDLE, memory_order_relaxed);
	spin_unlock_irqrestore(&wq->lock, flags);
	waker_drop(&w);
}

/* ---- oneshot ------------------------------------------------------------ */

void oneshot_init(struct oneshot *o, void *buf, size_t size)
{
	spin_init(&o->lock);
	o->state = ONESHOT_EMPTY;
	o->rx_waker = WAKER_NONE;
	o->buf = buf;
	o->size = size;
}

int oneshot_send(struct oneshot *o, const void *val, size_t size)
{
	unsigned long flags;
	struct waker w;
	int ret = 0;

	if (size != o->size)
		panic("oneshot_send: %zu bytes into a %zu-byte channel", size, o->size);
	flags = spin_lock_irqsave(&o->lock);
	switch (o->state) {
	case ONESHOT_EMPTY:
		memcpy(o->buf, val, size);
		o->state = ONESHOT_FULL;
		break;
	case ONESHOT_RX_CLOSED:
		ret = -ECANCELED;
		break;
	default:
		ret = -EBUSY;
		break;
	}
	w = ret == 0 ? take_waker(&o->rx_waker) : WAKER_NONE;
	spin_unlock_irqrestore(&o->lock, flags);
	waker_wake(&w);
	return ret;
}

enum poll oneshot_recv(struct oneshot *o, struct context *cx, void *out,
		       int *result)
{
	unsigned long flags = spin_lock_irqsave(&o->lock);
	struct waker old = WAKER_NONE;
	enum poll p = POLL_READY;

	switch (o->state) {
	case ONESHOT_FULL:
		memcpy(out, o->buf, o->size);
		o->state = ONESHOT_DONE;
		*result = 0;
		break;
	case ONESHOT_TX_CLOSED:
		*result = -ECANCELED;
		break;
	case ONESHOT_EMPTY:
		old = register_waker(&o->rx_waker, cx);
		p = POLL_PENDING;
		break;
	default:
		spin_unlock_irqrestore(&o->lock, flags);
		panic("oneshot_recv: receive in state %d", (int)o->state);
	}
	if (p == POLL_READY)
		old = take_waker(&o->rx_waker);
	spin_unlock_irqrestore(&o->lock, flags);
	waker_drop(&old);
	return p;
}

void oneshot_close_tx(struct oneshot *o)
{
	unsigned long flags = spin_lock_irqsave(&o->lock);
	struct waker w = WAKER_NONE;

	if (o->state == ONESHOT_EMPTY) {
		o->state = ONESHOT_TX_CLOSED;
		w = take_waker(&o->rx_waker);
	}
	spin_unlock_irqrestore(&o->lock, flags);
	waker_wake(&w);
}

void oneshot_close_rx(struct oneshot *o)
{
	unsigned long flags = spin_lock_irqsave(&o->lock);
	struct waker w = take_waker(&o->rx_waker);

	if (o->state == ONESHOT_EMPTY || o->state == ONESHOT_FULL)
		o->state = ONESHOT_RX_CLOSED;
	spin_unlock_irqrestore(&o->lock, flags);
	waker_drop(&w);
}
