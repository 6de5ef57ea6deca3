/*
 * sync.c - wait cell and wait queue over spinlocks; the oneshot channel
 * lock-free (its protocol is in sync.h).
 *
 * The cell and the queue keep a handful of fields under an IRQ-safe
 * spinlock; a waker to wake or drop is moved out under the lock and used
 * after it is released, so nothing a waker does can deadlock on the
 * primitive.  A
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

/* The protocol is in sync.h, above struct oneshot. */

static inline unsigned os_phase(unsigned s)
{
	return s & ONESHOT_PHASE_MASK;
}

void oneshot_init(struct oneshot *o, void *buf, size_t size)
{
	atomic_init(&o->state, ONESHOT_EMPTY);
	o->rx_waker = WAKER_NONE;
	o->buf = buf;
	o->size = size;
}

/*
 * The sending side: move EMPTY to CLAIMED, keeping the receiver's bit.
 * 0, or the error a send reports.
 */
static int os_claim(struct oneshot *o)
{
	/* relaxed: the claim publishes nothing; os_finish()'s acquire load
	 * is what reads the receiver's waker. */
	unsigned s = atomic_load_explicit(&o->state, memory_order_relaxed);
	unsigned claimed;

	for (;;) {
		if (os_phase(s) == ONESHOT_RX_CLOSED)
			return -ECANCELED;
		if (os_phase(s) != ONESHOT_EMPTY)
			return -EBUSY;
		claimed = ONESHOT_CLAIMED | (s & ONESHOT_RX_WAKER);
		if (atomic_compare_exchange_weak_explicit(&o->state, &s, claimed,
							  memory_order_relaxed,
							  memory_order_relaxed)) {
			/* Until os_finish() the channel is stuck in CLAIMED,
			 * and a receiver may spin on it: counted as a held
			 * lock, so a CPU fault in the window (a bad `val`)
			 * halts with a report instead of ending the task
			 * alone and leaving the channel claimed forever. */
			arch_lock_acquired();
			return 0;
		}
	}
}

/*
 * The claimant leaves CLAIMED for `phase` (FULL or TX_CLOSED), taking the
 * receiver's waker if one is registered.  While CLAIMED the receiver may
 * only set the bit, never clear it or touch a registered waker, so the
 * waker read here is the one the CAS takes.  Nothing of the channel is
 * touched after the CAS: the receiver may free it as soon as it sees
 * the phase.
 */
static struct waker os_finish(struct oneshot *o, unsigned phase)
{
	/* acquire: pairs with the receiver's release CAS that set the bit,
	 * so the waker written before it is seen. */
	unsigned s = atomic_load_explicit(&o->state, memory_order_acquire);
	struct waker w;

	for (;;) {
		w = s & ONESHOT_RX_WAKER ? o->rx_waker : WAKER_NONE;
		/* release: publishes the value (and the waker's slot as
		 * taken) to the receiver's acquire load of the phase.
		 * acquire on failure: a bit set meanwhile, with its waker
		 * (acq_rel on success: C11 wants it no weaker). */
		if (atomic_compare_exchange_weak_explicit(&o->state, &s, phase,
							  memory_order_acq_rel,
							  memory_order_acquire)) {
			arch_lock_released();	/* os_claim()'s */
			return w;
		}
	}
}

int oneshot_send(struct oneshot *o, const void *val, size_t size)
{
	struct waker w;
	int ret;

	if (size != o->size)
		panic("oneshot_send: %zu bytes into a %zu-byte channel", size, o->size);
	ret = os_claim(o);
	if (ret)
		return ret;
	memcpy(o->buf, val, size);
	w = os_finish(o, ONESHOT_FULL);
	waker_wake(&w);
	return 0;
}

void oneshot_close_tx(struct oneshot *o)
{
	struct waker w;

	if (os_claim(o))
		return;		/* sent, closed, or a send under way */
	w = os_finish(o, ONESHOT_TX_CLOSED);
	waker_wake(&w);
}

/* A final phase seen by the receiver: READY with the value or the error. */
static enum poll os_ready(struct oneshot *o, unsigned s, void *out,
			  int *result)
{
	switch (os_phase(s)) {
	case ONESHOT_FULL:
		memcpy(out, o->buf, o->size);
		/* relaxed: only the receiver leaves FULL; nothing reads the
		 * buffer after this. */
		atomic_store_explicit(&o->state, ONESHOT_DONE, memory_order_relaxed);
		*result = 0;
		return POLL_READY;
	case ONESHOT_TX_CLOSED:
		*result = -ECANCELED;
		return POLL_READY;
	default:
		panic("oneshot_recv: receive in state %u", s);
	}
}

enum poll oneshot_recv(struct oneshot *o, struct context *cx, void *out,
		       int *result)
{
	/* acquire: pairs with os_finish()'s release CAS (the value). */
	unsigned s = atomic_load_explicit(&o->state, memory_order_acquire);
	struct waker mine;
	unsigned registered;

	for (;;) {
		unsigned ph = os_phase(s);

		if (ph != ONESHOT_EMPTY && ph != ONESHOT_CLAIMED)
			return os_ready(o, s, out, result);
		/* Waiting needs someone to wake (a READY poll does not). */
		kassert(cx->waker != NULL);
		if (!(s & ONESHOT_RX_WAKER))
			break;
		/* Registered: the sender wakes it, unless it is another's. */
		if (waker_will_wake(&o->rx_waker, cx->waker))
			return POLL_PENDING;
		if (ph == ONESHOT_CLAIMED) {
			/* The claimant owns the registered waker until it
			 * leaves CLAIMED, a few stores away. */
			arch_cpu_relax();
			s = atomic_load_explicit(&o->state, memory_order_acquire);
			continue;
		}
		/* EMPTY: take the slot back to replace the waker.  acquire
		 * for a failure that finds FULL (the value); a success needs
		 * no order: in EMPTY no sender has read the slot (one reads
		 * it only while CLAIMED, which ends in a final phase). */
		if (atomic_compare_exchange_weak_explicit(&o->state, &s, ONESHOT_EMPTY,
							  memory_order_acquire,
							  memory_order_acquire)) {
			mine = take_waker(&o->rx_waker);
			waker_drop(&mine);
			s = ONESHOT_EMPTY;
			break;
		}
	}
	/* The bit is clear: the slot is ours until we set it. */
	o->rx_waker = waker_clone(cx->waker);
	for (;;) {
		unsigned ph = os_phase(s);

		if (ph != ONESHOT_EMPTY && ph != ONESHOT_CLAIMED) {
			/* Finished meanwhile: the waker was never published. */
			mine = take_waker(&o->rx_waker);
			waker_drop(&mine);
			return os_ready(o, s, out, result);
		}
		/* release: publishes the waker to os_finish()'s acquire;
		 * acquire on failure: the value, if the phase is FULL
		 * (acq_rel on success: C11 wants it no weaker). */
		registered = s | ONESHOT_RX_WAKER;
		if (atomic_compare_exchange_weak_explicit(&o->state, &s, registered,
							  memory_order_acq_rel,
							  memory_order_acquire))
			return POLL_PENDING;
	}
}

void oneshot_close_rx(struct oneshot *o)
{
	/* acquire: a registered waker is ours to drop after the CAS. */
	unsigned s = atomic_load_explicit(&o->state, memory_order_acquire);
	struct waker w;

	for (;;) {
		switch (os_phase(s)) {
		case ONESHOT_CLAIMED:
			/* A send under way: let it finish, then discard. */
			arch_cpu_relax();
			s = atomic_load_explicit(&o->state, memory_order_acquire);
			continue;
		case ONESHOT_EMPTY:
		case ONESHOT_FULL:
			if (!atomic_compare_exchange_weak_explicit(&o->state, &s,
								   ONESHOT_RX_CLOSED,
								   memory_order_acquire,
								   memory_order_acquire))
				continue;
			if (s & ONESHOT_RX_WAKER) {
				w = take_waker(&o->rx_waker);
				waker_drop(&w);
			}
			return;
		default:
			/* DONE, TX_CLOSED, RX_CLOSED: the waker, if any, was
			 * taken by whoever finished the channel. */
			return;
		}
	}
}
