/*
 * channel.h - a bounded multi-producer, single-consumer channel of
 * fixed-size items.
 *
 * Properties: any number of senders (tasks, or interrupt handlers through
 * channel_try_send), one receiver task; bounded (capacity fixed at init, a
 * power of two >= 2); the caller provides the slot array, so nothing is
 * ever allocated; items are copied in and out (item_size bytes).  Items
 * from one sender arrive in the order it sent them.
 *
 *   call                  may run concurrently with
 *   channel_try_send      everything (any core, IRQ-safe, lock-free ring)
 *   channel_send          everything; one poller per channel_sender
 *   channel_try_recv,     everything but each other: one receiver
 *   channel_recv
 *   channel_close         everything (either side, any context)
 *
 * Progress: the ring is lock-free (Vyukov's bounded queue: a sender claims
 * a slot by CAS on `tail`, fills it and publishes its sequence number); a
 * sender interrupted between its claim and its publish holds back the
 * receiver (not other senders) until it resumes.  Waiting: the receiver
 * parks its waker when the ring is empty and a publish wakes it; senders
 * that find it full queue FIFO and each receive wakes the first of them.
 * Each side announces itself (a seq_cst store or RMW) before it looks at
 * the ring again, and the other side looks for it (a seq_cst load) after
 * its own seq_cst store to the ring: no wakeup is lost.
 *
 * Observable states: a slot claimed but not yet published reads as empty
 * (try_recv returns -EAGAIN, recv waits for the publish's wake).  Close
 * sets a CLOSED bit in `tail`, so no send succeeds after it; the receiver
 * gets every item sent before it (-EAGAIN/waiting while a claimed slot is
 * not yet published), then -EPIPE.
 * Reference: D. Vyukov, "Bounded MPMC queue" (1024cores.net); tokio
 * sync/mpsc (bounded semantics, close from either side).
 */
#ifndef HYPHAE_SCHED_CHANNEL_H
#define HYPHAE_SCHED_CHANNEL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/waker.h"
#include "spinlock.h"

/* Bytes of one slot (sequence word + item, 8-byte aligned) and of the
 * slot array a channel of `cap` items of `size` bytes needs. */
#define CHANNEL_SLOT_SIZE(size)	(sizeof(uint64_t) + (((size) + 7) & ~(size_t)7))
#define CHANNEL_BUF_SIZE(size, cap)	(CHANNEL_SLOT_SIZE(size) * (size_t)(cap))

enum channel_sender_state {
	CHAN_SENDER_IDLE = 0,
	CHAN_SENDER_WAITING,	/* queued for room */
	CHAN_SENDER_WOKEN,	/* unlinked by a receive: its turn to retry */
	CHAN_SENDER_CLOSED,	/* unlinked by close */
};

/* A sender waiting for room, embedded in the sending task's state. */
struct channel_sender {
	/* Under the channel's tx_lock while WAITING: */
	struct channel_sender *next, *prev;
	struct waker waker;
	/* Written under tx_lock; read by the owner without it. */
	_Atomic int state;
};

#define CHANNEL_SENDER_INIT	{ NULL, NULL, { NULL, NULL }, CHAN_SENDER_IDLE }

struct channel {
	/* Constant after init; read-mostly flags beside them. */
	unsigned char *slots;
	size_t item_size, stride;
	uint64_t mask;			/* capacity - 1 */
	_Atomic bool rx_waiting;	/* rx_waker is registered */
	_Atomic size_t tx_waiting;	/* senders queued */

	/* Senders: next position << 1 | CLOSED. */
	_Atomic uint64_t tail __cacheline_aligned;

	/* The receiver's alone: next position to receive. */
	uint64_t head __cacheline_aligned;

	/* Touched when a side parks or is woken. */
	struct spinlock rx_lock __cacheline_aligned;
	struct waker rx_waker;		/* under rx_lock */
	struct spinlock tx_lock;
	struct channel_sender *tx_head, *tx_tail;	/* under tx_lock */
};

/*
 * A channel of `capacity` items of `item_size` bytes in `buf`, which holds
 * at least CHANNEL_BUF_SIZE(item_size, capacity) bytes, 8-byte aligned,
 * and outlives the channel.  0, or -EINVAL (capacity not a power of two
 * >= 2, item_size 0, buf too small or misaligned).  Once, before use.
 */
int __must_check channel_init(struct channel *ch, void *buf, size_t buf_size,
			      size_t item_size, size_t capacity);
void channel_sender_init(struct channel_sender *w);

/*
 * Send a copy of `item` if there is room: 0; -EAGAIN if full; -EPIPE if
 * closed (the item is not sent).  Never waits, never allocates.  Any
 * context, IRQ-safe.
 */
int __must_check channel_try_send(struct channel *ch, const void *item);

/*
 * Send, waiting while the channel is full: READY with *result 0 (sent) or
 * -EPIPE (closed, not sent); else PENDING with `w` queued.  Poll again
 * with the same w and item.  Task context, w's owner.
 */
enum poll channel_send(struct channel *ch, struct channel_sender *w,
		       const void *item, struct context *cx, int *result);

/* The owner of `w` gives up sending (its task is cancelled); a turn it
 * was given goes to the next waiting sender.  Task context, w's owner. */
void channel_sender_drop(struct channel *ch, struct channel_sender *w);

/*
 * Receive into `out` without waiting: 0; -EAGAIN if nothing is ready;
 * -EPIPE once closed and drained.  The receiver only; any context.
 */
int __must_check channel_try_recv(struct channel *ch, void *out);

/*
 * Receive, waiting while the channel is empty: READY with *result 0 (an
 * item in `out`) or -EPIPE (closed and drained); else PENDING.  Task
 * context, the receiver only.
 */
enum poll channel_recv(struct channel *ch, struct context *cx, void *out,
		       int *result);

/* The receiver gives up waiting: its waker is dropped.  The receiver. */
void channel_recv_drop(struct channel *ch);

/*
 * Close (sender or receiver side): sends fail with -EPIPE from now on,
 * waiting senders are woken with -EPIPE, the receiver is woken and drains
 * what was sent before.  Idempotent.  Any context, IRQ-safe.
 */
void channel_close(struct channel *ch);
bool channel_is_closed(const struct channel *ch);

/*
 * Verify every invariant, O(capacity + waiting senders): head <= tail <=
 * head + capacity; each position from head to tail published (or claimed
 * and not yet), every other slot free for its next position; the sender
 * list's links, states and count; the receiver's flag and waker agree.
 * Panics naming the first broken one.  The receiver's context, with no
 * send in progress (tests).
 */
void channel_check(struct channel *ch);

/* Items it holds at most.  Any context. */
static inline size_t channel_capacity(const struct channel *ch)
{
	return (size_t)ch->mask + 1;
}

#endif /* HYPHAE_SCHED_CHANNEL_H */
