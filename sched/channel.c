/*
 * channel.c - the bounded MPSC channel of channel.h: Vyukov's bounded
 * queue for the items, a parked waker for the receiver and a FIFO list of
 * parked senders.
 *
 * Slot i holds a sequence number and an item.  At position p (slot
 * p & mask) the sequence is p when the slot is free for p, p + 1 once the
 * item for p is published, p + capacity once it was received (free for
 * the next lap).  Senders claim p by CAS on `tail` (which also carries the
 * CLOSED bit: a CAS fails once it is set); the receiver owns `head`.
 *
 * Wakeups are store-buffering pairs: each side writes, then reads what
 * the other writes, with seq_cst accesses (or a seq_cst fence) between,
 * so at least one side sees the other:
 *   receiver: rx_waiting = true (sc) ; load tail (sc)        (recv parks)
 *   sender:   CAS tail (sc)          ; load rx_waiting (sc)  (claim)
 * A receiver that sees a claim not yet published does not sleep: it
 * yields and looks again (the claimer may have missed its flag).  And
 *   sender:   tx_waiting += 1 (sc)   ; load slot seq (sc)    (send retry)
 *   receiver: free slot (release) ; fence (sc) ; load tx_waiting (receive)
 * Each costs the fast paths one locked instruction: the claim's CAS, the
 * receive's fence.  Locks: tx_lock and rx_lock are never held together;
 * wakers are woken after the unlock.
 */
#include <string.h>

#include "errno.h"
#include "panic.h"
#include "sched/channel.h"
#include "sched/sync_internal.h"

#define TAIL_CLOSED	1ull

struct slot {
	_Atomic uint64_t seq;
	unsigned char item[];
};

static inline struct slot *slot_at(struct channel *ch, uint64_t pos)
{
	return (struct slot *)(void *)(ch->slots + (pos & ch->mask) * ch->stride);
}

int channel_init(struct channel *ch, void *buf, size_t buf_size,
		 size_t item_size, size_t capacity)
{
	if (item_size == 0 || capacity < 2 || (capacity & (capacity - 1)) ||
	    ((uintptr_t)buf & 7) || capacity > SIZE_MAX / CHANNEL_SLOT_SIZE(item_size) ||
	    buf_size < CHANNEL_BUF_SIZE(item_size, capacity))
		return -EINVAL;
	ch->slots = buf;
	ch->item_size = item_size;
	ch->stride = CHANNEL_SLOT_SIZE(item_size);
	ch->mask = capacity - 1;
	for (size_t i = 0; i < capacity; i++)
		atomic_init(&slot_at(ch, i)->seq, i);
	atomic_init(&ch->rx_waiting, false);
	atomic_init(&ch->tx_waiting, 0);
	atomic_init(&ch->tail, 0);
	ch->head = 0;
	spin_init(&ch->rx_lock);
	ch->rx_waker = WAKER_NONE;
	spin_init(&ch->tx_lock);
	ch->tx_head = ch->tx_tail = NULL;
	return 0;
}

void channel_sender_init(struct channel_sender *w)
{
	w->next = w->prev = NULL;
	w->waker = WAKER_NONE;
	atomic_init(&w->state, CHAN_SENDER_IDLE);
}

/* ---- the ring ------------------------------------------------------------ */

/* Copy an item; the common 8-byte item without a call. */
static inline void copy_item(const struct channel *ch, void *dst, const void *src)
{
	if (ch->item_size == sizeof(uint64_t))
		memcpy(dst, src, sizeof(uint64_t));
	else
		memcpy(dst, src, ch->item_size);
}

/*
 * Claim, fill and publish a slot: 0, -EAGAIN (full), -EPIPE (closed).  On
 * 0, *notify says the receiver had parked (wake it: notify_rx()).
 */
static int push(struct channel *ch, const void *item, bool *notify)
{
	uint64_t t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
	uint64_t pos;
	struct slot *s;

	for (;;) {
		int64_t diff;

		if (t & TAIL_CLOSED)
			return -EPIPE;
		pos = t >> 1;
		s = slot_at(ch, pos);
		/* seq_cst (acquire at least): pairs with pop()'s release
		 * store freeing the slot, so its read of the old item is
		 * done; seq_cst for the tx_waiting pair (file comment). */
		diff = (int64_t)(atomic_load_explicit(&s->seq, memory_order_seq_cst) - pos);
		if (diff == 0) {
			/* seq_cst: the claim is the sender's half of the
			 * rx_waiting pair; the item is published below. */
			if (atomic_compare_exchange_weak_explicit(&ch->tail, &t, t + 2,
					memory_order_seq_cst, memory_order_relaxed))
				break;
		} else if (diff < 0) {
			return -EAGAIN;		/* holds the item of pos - cap */
		} else {
			t = atomic_load_explicit(&ch->tail, memory_order_relaxed);
		}
	}
	/* seq_cst: after the claim; see the rx_waiting pair. */
	*notify = atomic_load_explicit(&ch->rx_waiting, memory_order_seq_cst);
	copy_item(ch, s->item, item);
	/* release: publishes the item; pairs with the acquire in pop(). */
	atomic_store_explicit(&s->seq, pos + 1, memory_order_release);
	return 0;
}

/* After a publish that saw the receiver parked: wake it. */
static void notify_rx(struct channel *ch)
{
	unsigned long flags = spin_lock_irqsave(&ch->rx_lock);
	struct waker w = sync_take_waker(&ch->rx_waker);

	atomic_store_explicit(&ch->rx_waiting, false, memory_order_relaxed);
	spin_unlock_irqrestore(&ch->rx_lock, flags);
	waker_wake(&w);
}

/* Wake the first queued sender (its turn to retry), if any. */
static void wake_sender(struct channel *ch)
{
	unsigned long flags = spin_lock_irqsave(&ch->tx_lock);
	struct channel_sender *w = ch->tx_head;
	struct waker wk = WAKER_NONE;

	if (w) {
		ch->tx_head = w->next;
		if (w->next)
			w->next->prev = NULL;
		else
			ch->tx_tail = NULL;
		w->next = w->prev = NULL;
		atomic_fetch_sub_explicit(&ch->tx_waiting, 1, memory_order_relaxed);
		wk = sync_take_waker(&w->waker);
		/* release: pairs with the owner's acquire of its state; the
		 * entry is not touched after this store. */
		atomic_store_explicit(&w->state, CHAN_SENDER_WOKEN,
				      memory_order_release);
	}
	spin_unlock_irqrestore(&ch->tx_lock, flags);
	waker_wake(&wk);
}

enum pop_result {
	POP_OK,
	POP_EMPTY,	/* nothing claimed past head */
	POP_INFLIGHT,	/* a sender claimed head's slot, not yet published */
	POP_CLOSED,	/* closed, and everything claimed was received */
};

/* The receiver takes the item at head. */
static enum pop_result pop(struct channel *ch, void *out)
{
	uint64_t pos = ch->head;
	struct slot *s = slot_at(ch, pos);
	uint64_t t;

	/* acquire: pairs with push()'s release publish. */
	if (atomic_load_explicit(&s->seq, memory_order_acquire) == pos + 1) {
		copy_item(ch, out, s->item);
		/* release: the read above is done before a sender refills
		 * the slot; pairs with the acquire load in push(). */
		atomic_store_explicit(&s->seq, pos + ch->mask + 1,
				      memory_order_release);
		ch->head = pos + 1;
		/* seq_cst fence: the receive's half of the tx_waiting pair
		 * (a sender announced itself, or sees this slot free). */
		atomic_thread_fence(memory_order_seq_cst);
		if (atomic_load_explicit(&ch->tx_waiting, memory_order_relaxed))
			wake_sender(ch);
		return POP_OK;
	}
	/* seq_cst: the receiver's load in the rx_waiting pair; acquire
	 * for close()'s RMW. */
	t = atomic_load_explicit(&ch->tail, memory_order_seq_cst);
	if ((t >> 1) != pos)
		return POP_INFLIGHT;
	return (t & TAIL_CLOSED) ? POP_CLOSED : POP_EMPTY;
}

static int pop_errno(enum pop_result r)
{
	return r == POP_OK ? 0 : r == POP_CLOSED ? -EPIPE : -EAGAIN;
}

/* ---- senders ------------------------------------------------------------- */

int channel_try_send(struct channel *ch, const void *item)
{
	bool notify = false;
	int r = push(ch, item, &notify);

	if (notify)
		notify_rx(ch);
	return r;
}

static inline int sender_state(struct channel_sender *w)
{
	/* acquire: pairs with the release stores of WOKEN and CLOSED. */
	return atomic_load_explicit(&w->state, memory_order_acquire);
}

/* tx_lock held. */
static void sender_unlink(struct channel *ch, struct channel_sender *w)
{
	if (w->prev)
		w->prev->next = w->next;
	else
		ch->tx_head = w->next;
	if (w->next)
		w->next->prev = w->prev;
	else
		ch->tx_tail = w->prev;
	w->next = w->prev = NULL;
	atomic_fetch_sub_explicit(&ch->tx_waiting, 1, memory_order_relaxed);
}

/* tx_lock held: a woken sender that lost the race goes back to the head
 * (it keeps its turn), a new one to the tail. */
static void sender_link(struct channel *ch, struct channel_sender *w, bool front)
{
	if (front) {
		w->prev = NULL;
		w->next = ch->tx_head;
		if (ch->tx_head)
			ch->tx_head->prev = w;
		else
			ch->tx_tail = w;
		ch->tx_head = w;
	} else {
		w->next = NULL;
		w->prev = ch->tx_tail;
		if (ch->tx_tail)
			ch->tx_tail->next = w;
		else
			ch->tx_head = w;
		ch->tx_tail = w;
	}
	/* seq_cst: the announce half of the tx_waiting pair: the retry in
	 * channel_send() looks at the ring after it. */
	atomic_fetch_add_explicit(&ch->tx_waiting, 1, memory_order_seq_cst);
}

enum poll channel_send(struct channel *ch, struct channel_sender *w,
		       const void *item, struct context *cx, int *result)
{
	struct waker old = WAKER_NONE;
	bool notify = false;
	unsigned long flags;
	int st = sender_state(w), r;

	if (st == CHAN_SENDER_CLOSED) {
		atomic_store_explicit(&w->state, CHAN_SENDER_IDLE, memory_order_relaxed);
		*result = -EPIPE;
		return POLL_READY;
	}
	/* A new sender does not pass queued ones (a woken one had its turn). */
	if (st == CHAN_SENDER_WOKEN ||
	    (st == CHAN_SENDER_IDLE &&
	     atomic_load_explicit(&ch->tx_waiting, memory_order_relaxed) == 0)) {
		r = push(ch, item, &notify);
		if (r != -EAGAIN) {
			atomic_store_explicit(&w->state, CHAN_SENDER_IDLE,
					      memory_order_relaxed);
			if (notify)
				notify_rx(ch);
			*result = r;
			return POLL_READY;
		}
	}
	kassert(cx->waker != NULL);
	flags = spin_lock_irqsave(&ch->tx_lock);
	st = sender_state(w);
	if (st == CHAN_SENDER_WAITING) {
		old = sync_register_waker(&w->waker, cx);
		spin_unlock_irqrestore(&ch->tx_lock, flags);
		waker_drop(&old);
		return POLL_PENDING;
	}
	if (st == CHAN_SENDER_CLOSED) {
		spin_unlock_irqrestore(&ch->tx_lock, flags);
		atomic_store_explicit(&w->state, CHAN_SENDER_IDLE, memory_order_relaxed);
		*result = -EPIPE;
		return POLL_READY;
	}
	sender_link(ch, w, st == CHAN_SENDER_WOKEN);
	w->waker = waker_clone(cx->waker);
	atomic_store_explicit(&w->state, CHAN_SENDER_WAITING, memory_order_relaxed);
	/*
	 * At the head, room may have come (or close) between the failed
	 * push and the announce above: look again.  Behind others, wait:
	 * each receive wakes the head, so our turn comes after theirs.
	 */
	r = ch->tx_head == w ? push(ch, item, &notify) : -EAGAIN;
	if (r == -EAGAIN) {
		spin_unlock_irqrestore(&ch->tx_lock, flags);
		return POLL_PENDING;
	}
	sender_unlink(ch, w);
	old = sync_take_waker(&w->waker);
	atomic_store_explicit(&w->state, CHAN_SENDER_IDLE, memory_order_relaxed);
	spin_unlock_irqrestore(&ch->tx_lock, flags);
	waker_drop(&old);
	if (notify)
		notify_rx(ch);
	*result = r;
	return POLL_READY;
}

void channel_sender_drop(struct channel *ch, struct channel_sender *w)
{
	struct waker old = WAKER_NONE;
	int st = sender_state(w);

	if (st == CHAN_SENDER_WAITING) {
		unsigned long flags = spin_lock_irqsave(&ch->tx_lock);

		st = sender_state(w);
		if (st == CHAN_SENDER_WAITING) {
			sender_unlink(ch, w);
			old = sync_take_waker(&w->waker);
		}
		spin_unlock_irqrestore(&ch->tx_lock, flags);
		waker_drop(&old);
	}
	atomic_store_explicit(&w->state, CHAN_SENDER_IDLE, memory_order_relaxed);
	/* A receive made room for us: the next sender retries instead. */
	if (st == CHAN_SENDER_WOKEN)
		wake_sender(ch);
}

/* ---- the receiver ---------------------------------------------------------- */

int channel_try_recv(struct channel *ch, void *out)
{
	return pop_errno(pop(ch, out));
}

static void rx_unregister(struct channel *ch)
{
	unsigned long flags = spin_lock_irqsave(&ch->rx_lock);
	struct waker w = sync_take_waker(&ch->rx_waker);

	atomic_store_explicit(&ch->rx_waiting, false, memory_order_relaxed);
	spin_unlock_irqrestore(&ch->rx_lock, flags);
	waker_drop(&w);
}

enum poll channel_recv(struct channel *ch, struct context *cx, void *out,
		       int *result)
{
	struct waker old;
	unsigned long flags;
	enum pop_result r = pop(ch, out);

	if (r == POP_OK || r == POP_CLOSED) {
		*result = pop_errno(r);
		return POLL_READY;
	}
	flags = spin_lock_irqsave(&ch->rx_lock);
	old = sync_register_waker(&ch->rx_waker, cx);
	/* seq_cst: the receiver's store in the rx_waiting pair: a claim
	 * after pop()'s load of tail below sees it. */
	atomic_store_explicit(&ch->rx_waiting, true, memory_order_seq_cst);
	spin_unlock_irqrestore(&ch->rx_lock, flags);
	waker_drop(&old);
	r = pop(ch, out);
	if (r == POP_EMPTY)
		return POLL_PENDING;
	if (r == POP_INFLIGHT) {
		/* Its sender may have claimed before our store and not seen
		 * it: poll again soon rather than sleep. */
		context_yield(cx);
		return POLL_PENDING;
	}
	rx_unregister(ch);
	*result = pop_errno(r);
	return POLL_READY;
}

void channel_recv_drop(struct channel *ch)
{
	rx_unregister(ch);
}

/* ---- close ----------------------------------------------------------------- */

void channel_close(struct channel *ch)
{
	/* acq_rel: pairs with pop()'s acquire of tail; no CAS claims a
	 * slot after this. */
	atomic_fetch_or_explicit(&ch->tail, TAIL_CLOSED, memory_order_acq_rel);
	/* The receiver drains and sees CLOSED (its registration, if any,
	 * came before our lock or its re-check sees the bit). */
	{
		unsigned long flags = spin_lock_irqsave(&ch->rx_lock);
		struct waker w = sync_take_waker(&ch->rx_waker);

		atomic_store_explicit(&ch->rx_waiting, false, memory_order_relaxed);
		spin_unlock_irqrestore(&ch->rx_lock, flags);
		waker_wake(&w);
	}
	/* Waiting senders: one per lock hold. */
	for (;;) {
		unsigned long flags = spin_lock_irqsave(&ch->tx_lock);
		struct channel_sender *w = ch->tx_head;
		struct waker wk;

		if (w == NULL) {
			spin_unlock_irqrestore(&ch->tx_lock, flags);
			return;
		}
		sender_unlink(ch, w);
		wk = sync_take_waker(&w->waker);
		/* release: pairs with sender_state(); not touched after. */
		atomic_store_explicit(&w->state, CHAN_SENDER_CLOSED,
				      memory_order_release);
		spin_unlock_irqrestore(&ch->tx_lock, flags);
		waker_wake(&wk);
	}
}

bool channel_is_closed(const struct channel *ch)
{
	return atomic_load_explicit(&((struct channel *)ch)->tail,
				    memory_order_relaxed) & TAIL_CLOSED;
}

void channel_check(struct channel *ch)
{
	uint64_t t = atomic_load_explicit(&ch->tail, memory_order_acquire) >> 1;
	uint64_t cap = ch->mask + 1;
	struct channel_sender *prev = NULL;
	unsigned long flags;
	size_t n = 0;

	if (t < ch->head || t - ch->head > cap)
		panic("channel_check: head %llu, tail %llu, capacity %llu",
		      (unsigned long long)ch->head, (unsigned long long)t,
		      (unsigned long long)cap);
	for (uint64_t p = ch->head; p < ch->head + cap; p++) {
		uint64_t seq = atomic_load_explicit(&slot_at(ch, p)->seq,
						    memory_order_acquire);

		if (p < t ? seq != p + 1 && seq != p : seq != p)
			panic("channel_check: position %llu (tail %llu): sequence %llu",
			      (unsigned long long)p, (unsigned long long)t,
			      (unsigned long long)seq);
	}
	flags = spin_lock_irqsave(&ch->tx_lock);
	for (struct channel_sender *w = ch->tx_head; w; prev = w, w = w->next, n++) {
		if (w->prev != prev)
			panic("channel_check: sender %p: prev link broken", (void *)w);
		if (atomic_load_explicit(&w->state, memory_order_relaxed) !=
		    CHAN_SENDER_WAITING)
			panic("channel_check: queued sender %p not WAITING", (void *)w);
	}
	if (ch->tx_tail != prev ||
	    n != atomic_load_explicit(&ch->tx_waiting, memory_order_relaxed))
		panic("channel_check: %zu senders queued, tx_waiting %zu", n,
		      atomic_load_explicit(&ch->tx_waiting, memory_order_relaxed));
	spin_unlock_irqrestore(&ch->tx_lock, flags);
	flags = spin_lock_irqsave(&ch->rx_lock);
	if (atomic_load_explicit(&ch->rx_waiting, memory_order_relaxed) !=
	    waker_is_some(&ch->rx_waker))
		panic("channel_check: rx_waiting %d with waker %d",
		      atomic_load_explicit(&ch->rx_waiting, memory_order_relaxed),
		      waker_is_some(&ch->rx_waker));
	spin_unlock_irqrestore(&ch->rx_lock, flags);
}
