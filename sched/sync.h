/*
 * sync.h - waiting on events: wait cell, wait queue, oneshot channel.
 *
 * All three speak the waker protocol (sched/waker.h), so tasks await them
 * with TASK_AWAIT().  The wait side runs in task context; the wake side
 * (wake, wake_one, wake_all, close, send) may also run in an interrupt
 * handler.  The cell and the queue guard their few fields with a spinlock
 * taken with interrupts disabled, and call wakers only after dropping it
 * (the oneshot after its last access to the channel), so a waker
 * (and the task deallocation a waker drop can cause) may use the same
 * primitive again.  The polls need a context with a waker (not NULL).
 *
 *   wait_cell   one waiter; a wake with nobody waiting is remembered (one
 *               permit), as tokio's Notify::notify_one.
 *   wait_queue  many waiters in FIFO order, each an intrusive wait_entry;
 *               wake_one (remembered if nobody waits), wake_all (those
 *               waiting at the call); a dropped waiter unlinks itself.
 *   oneshot     one value of fixed size from a sender to a receiver,
 *               lock-free (one state word; see below).
 * The async locks, semaphore, wait map and bounded channel have their own
 * headers: semaphore.h, mutex.h, rwlock.h, wait_map.h, channel.h.
 * Reference: Mycelium maitake sync (WaitCell, WaitQueue).
 */
#ifndef HYPHAE_SCHED_SYNC_H
#define HYPHAE_SCHED_SYNC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/waker.h"
#include "spinlock.h"

/* ---- wait cell ---------------------------------------------------------- */

struct wait_cell {
	struct spinlock lock;
	/* Under lock: */
	struct waker waker;	/* the registered waiter, or none */
	bool notified;		/* a wake not yet consumed by a poll */
	bool closed;
};

#define WAIT_CELL_INIT { SPINLOCK_INIT, { NULL, NULL }, false, false }

void wait_cell_init(struct wait_cell *c);

/*
 * READY if a wake arrived since the last READY (consuming it) or the cell
 * is closed; else registers cx's waker (replacing any other) and returns
 * PENDING.  Task context, one waiter.
 */
enum poll wait_cell_poll(struct wait_cell *c, struct context *cx);

/* Wake the waiter, or remember the wake for the next poll.  True if a
 * registered waker was woken.  Any context, IRQ-safe. */
bool wait_cell_wake(struct wait_cell *c);

/* Close: every poll from now on is READY; wakes the waiter.  IRQ-safe. */
void wait_cell_close(struct wait_cell *c);
bool wait_cell_is_closed(struct wait_cell *c);

/* The waiter gives up: drop its registered waker.  Task context. */
void wait_cell_unregister(struct wait_cell *c);

/* ---- wait queue --------------------------------------------------------- */

enum wait_entry_state {
	WAIT_ENTRY_IDLE = 0,	/* not queued */
	WAIT_ENTRY_WAITING,	/* queued with a waker */
	WAIT_ENTRY_WOKEN,	/* unlinked by a wake; next poll is READY */
};

/* One waiter, embedded in the waiting task's struct. */
struct wait_entry {
	/* Under the queue's lock: */
	struct wait_entry *next, *prev;
	struct waker waker;
	uint64_t generation;	/* wake_all generation when it queued */
	/* Written under the lock, read without it by the entry's owner. */
	_Atomic int state;
};

#define WAIT_ENTRY_INIT { NULL, NULL, { NULL, NULL }, 0, WAIT_ENTRY_IDLE }

struct wait_queue {
	struct spinlock lock;
	/* Under lock: */
	struct wait_entry *head, *tail;
	uint64_t generation;	/* bumped by each wake_all */
	size_t waiters;
	bool pending;		/* a wake_one found nobody: next waiter passes */
	bool closed;
};

#define WAIT_QUEUE_INIT { SPINLOCK_INIT, NULL, NULL, 0, 0, false, false }

void wait_queue_init(struct wait_queue *wq);
void wait_entry_init(struct wait_entry *e);

/*
 * Wait with entry `e`: the first PENDING poll queues it at the tail; READY
 * once a wake reached it (the entry is IDLE again, reusable), or a stored
 * wake_one is consumed, or the queue is closed.  Task context.
 */
enum poll wait_queue_poll(struct wait_queue *wq, struct wait_entry *e,
			  struct context *cx);

/* Wake the longest waiter, or remember one wake if none.  True if a
 * waiter was woken.  Any context, IRQ-safe. */
bool wait_queue_wake_one(struct wait_queue *wq);

/* Wake every waiter queued at the time of the call; returns how many.
 * Waiters arriving meanwhile are not woken.  Any context, IRQ-safe. */
size_t wait_queue_wake_all(struct wait_queue *wq);

/* Close: wakes all; polls are READY from now on.  IRQ-safe. */
void wait_queue_close(struct wait_queue *wq);
bool wait_queue_is_closed(struct wait_queue *wq);

/* The waiter gives up (e.g. its task is cancelled): unlink `e` if queued
 * and drop its waker.  Entry owner's context. */
void wait_entry_drop(struct wait_queue *wq, struct wait_entry *e);

/* ---- oneshot channel ---------------------------------------------------- */

/*
 * Lock-free (no spinlock, no interrupt mask): one state word, the phase
 * below plus ONESHOT_RX_WAKER.  The rules that make it safe:
 *   - the value buffer is written only by the side that moved the phase
 *     from EMPTY to CLAIMED (a send or a close of the sending side), and
 *     read by the receiver only once the phase is FULL;
 *   - rx_waker is written only by the receiver, and only while the bit is
 *     clear; with the bit set it is the channel's, and the side that
 *     leaves CLAIMED (for FULL or TX_CLOSED) takes it, clearing the bit
 *     in the same CAS, and wakes it after its last access to the channel;
 *   - the receiver clears the bit itself (to replace its waker, or to
 *     give up) only in EMPTY.
 * A receive or close of the receiving side that meets CLAIMED with work
 * to do on the waker waits for the sender's few stores (a memcpy).
 */
enum oneshot_state {
	ONESHOT_EMPTY = 0,
	ONESHOT_FULL,		/* value sent, not yet received */
	ONESHOT_DONE,		/* value received */
	ONESHOT_TX_CLOSED,	/* sender gone without sending */
	ONESHOT_RX_CLOSED,	/* receiver gone */
	ONESHOT_CLAIMED,	/* a send or close_tx is under way */
};

#define ONESHOT_PHASE_MASK	0x7u
#define ONESHOT_RX_WAKER	0x8u	/* rx_waker holds the receiver's */

struct oneshot {
	_Atomic unsigned state;	/* oneshot_state | ONESHOT_RX_WAKER */
	/* The receiver's, or the channel's: see above. */
	struct waker rx_waker;
	/* Constant: the value's storage (caller's), and its size. */
	void *buf;
	size_t size;
};

/* `buf` holds the value between send and receive; `size` bytes. */
void oneshot_init(struct oneshot *o, void *buf, size_t size);

/*
 * Send `size` bytes (must equal the channel's).  0; -ECANCELED if the
 * receiver is gone; -EBUSY if already sent or closed.  Any context,
 * IRQ-safe.
 */
int __must_check oneshot_send(struct oneshot *o, const void *val, size_t size);

/*
 * Receive: PENDING (cx's waker registered), or READY with *result 0 and
 * the value copied to `out`, or -ECANCELED if the sender closed without
 * sending.  Task context, one receiver.
 */
enum poll oneshot_recv(struct oneshot *o, struct context *cx, void *out,
		       int *result);

/* The sender gives up without sending: the receiver gets -ECANCELED. */
void oneshot_close_tx(struct oneshot *o);
/* The receiver gives up: later sends fail; drops its waker. */
void oneshot_close_rx(struct oneshot *o);

#endif /* HYPHAE_SCHED_SYNC_H */
