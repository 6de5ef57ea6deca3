/*
 * mpsc.c - Vyukov's intrusive MPSC queue with a stub node and a consumer
 * try-lock.
 *
 * Producers exchange `head` and then link the previous head to the new
 * node; the consumer follows `next` pointers from `tail`.  When the queue
 * runs down to its last real node, the consumer swings `head` from that
 * node back to the stub with one CAS (as liburcu's wfcqueue does with its
 * tail), so it can hand the node out without racing a producer appending
 * to it; Vyukov's original loads `head` and then re-enqueues the stub,
 * two trips to the producers' cache line instead of one.
 *
 * mpsc_enqueue() and the common case of mpsc_dequeue_locked() (a node with
 * a successor) are inline in mpsc.h; a producer writes a node's NULL link
 * only when it is not NULL already (see mpsc_enqueue()).  This file holds
 * the rest: the chain append, the consumer lock, the full dequeue
 * (mpsc_dequeue_locked_slow) and the batch.
 * Reference: D. Vyukov, 1024cores.net, "Intrusive MPSC node-based queue".
 */
#include "panic.h"
#include "sched/mpsc.h"

void mpsc_init(struct mpsc_queue *q, struct mpsc_node *stub)
{
	atomic_init(&stub->next, NULL);
	atomic_init(&q->head, stub);
	q->tail = stub;
	q->stub = stub;
	atomic_init(&q->consumer_locked, false);
}

void mpsc_enqueue_chain(struct mpsc_queue *q, struct mpsc_node *first,
			struct mpsc_node *last)
{
	struct mpsc_node *prev;

	/* As in mpsc_enqueue(): write the link only if it is not NULL. */
	if (atomic_load_explicit(&last->next, memory_order_relaxed) != NULL)
		atomic_store_explicit(&last->next, NULL, memory_order_relaxed);
	/* acq_rel, as in mpsc_enqueue(): release orders last's NULL next
	 * before whoever links behind it. */
	prev = atomic_exchange_explicit(&q->head, last, memory_order_acq_rel);
	/*
	 * release: publishes the chain.  The caller's links inside it were
	 * stored before this in program order, so a consumer that reads
	 * prev->next with acquire sees them too.
	 */
	atomic_store_explicit(&prev->next, first, memory_order_release);
}

bool mpsc_consumer_trylock(struct mpsc_queue *q)
{
	/* Relaxed pre-check: a thief probing a busy queue keeps the line shared. */
	if (atomic_load_explicit(&q->consumer_locked, memory_order_relaxed))
		return false;
	/* acquire: pairs with the release in mpsc_consumer_unlock(), so the
	 * previous consumer's writes to tail are visible. */
	return !atomic_exchange_explicit(&q->consumer_locked, true,
					 memory_order_acquire);
}

void mpsc_consumer_unlock(struct mpsc_queue *q)
{
	/* release: publishes tail; pairs with mpsc_consumer_trylock(). */
	atomic_store_explicit(&q->consumer_locked, false, memory_order_release);
}

/* Acquire load of n->next: pairs with the release store of the link in
 * mpsc_enqueue() and mpsc_enqueue_chain(). */
static inline struct mpsc_node *next_of(struct mpsc_node *n)
{
	return atomic_load_explicit(&n->next, memory_order_acquire);
}

/* A relaxed look at head is enough: it only decides EMPTY vs INCONSISTENT,
 * and every node we hand out was reached through an acquire of ->next. */
static inline struct mpsc_node *head_of(struct mpsc_queue *q)
{
	return atomic_load_explicit(&q->head, memory_order_relaxed);
}

/* Every case; mpsc_dequeue_locked() handles a node with a successor
 * inline and calls this for the rest (the stub, the last node, empty). */
enum mpsc_result mpsc_dequeue_locked_slow(struct mpsc_queue *q,
					  struct mpsc_node **out)
{
	struct mpsc_node *tail = q->tail;
	struct mpsc_node *next = next_of(tail);

	if (tail == q->stub) {
		if (next == NULL)
			return head_of(q) == tail ? MPSC_EMPTY : MPSC_INCONSISTENT;
		/* Skip the stub. */
		q->tail = next;
		tail = next;
		next = next_of(next);
	}
	if (next != NULL) {
		q->tail = next;
		*out = tail;
		return MPSC_ITEM;
	}
	/*
	 * `tail` is the last node we can see.  If it is the last one queued,
	 * swing head from it back to the stub in one CAS (no load of the
	 * producers' line first): the queue is then empty with the stub as
	 * its only node, and `tail` leaves.  If the CAS fails, a producer
	 * has exchanged head and is about to link tail->next.
	 */
	atomic_store_explicit(&q->stub->next, NULL, memory_order_relaxed);
	{
		struct mpsc_node *expected = tail;

		/* acq_rel: release publishes the stub's NULL next to the
		 * producer that exchanges head next (its acquire); acquire
		 * pairs with the exchange of a producer that got in first. */
		if (atomic_compare_exchange_strong_explicit(
			    &q->head, &expected, q->stub, memory_order_acq_rel,
			    memory_order_acquire)) {
			q->tail = q->stub;
			*out = tail;
			return MPSC_ITEM;
		}
	}
	next = next_of(tail);
	if (next == NULL)
		return MPSC_INCONSISTENT;
	q->tail = next;
	*out = tail;
	return MPSC_ITEM;
}

size_t mpsc_dequeue_batch_locked(struct mpsc_queue *q, struct mpsc_node **out,
				 size_t max, bool *inconsistent)
{
	size_t n = 0;

	*inconsistent = false;
	while (n < max) {
		struct mpsc_node *tail = q->tail;
		struct mpsc_node *next = next_of(tail);
		enum mpsc_result r;

		if (tail == q->stub) {
			if (next == NULL)
				break;	/* empty (or a link on its way) */
			/* Skip the stub. */
			q->tail = next;
			tail = next;
			next = next_of(next);
		}
		if (next != NULL) {
			q->tail = next;
			out[n++] = tail;
			continue;
		}
		if (n > 0)
			break;	/* leave the last node for the next batch */
		r = mpsc_dequeue_locked(q, &out[0]);
		if (r == MPSC_ITEM)
			n = 1;
		*inconsistent = r == MPSC_INCONSISTENT;
		break;
	}
	return n;
}

enum mpsc_result mpsc_try_dequeue(struct mpsc_queue *q, struct mpsc_node **out)
{
	enum mpsc_result r;

	if (!mpsc_consumer_trylock(q))
		return MPSC_BUSY;
	r = mpsc_dequeue_locked(q, out);
	mpsc_consumer_unlock(q);
	return r;
}

size_t mpsc_check(struct mpsc_queue *q, size_t limit,
		  void (*visit)(struct mpsc_node *n, void *arg), void *arg)
{
	struct mpsc_node *head = head_of(q), *n = q->tail;
	size_t count = 0, steps = 0;

	for (;;) {
		if (n == NULL)
			panic("mpsc_check: link missing after %zu nodes", count);
		if (steps++ > limit)
			panic("mpsc_check: head not reached within %zu nodes", limit);
		if (n != q->stub) {
			count++;
			if (visit)
				visit(n, arg);
		}
		if (n == head)
			break;
		n = next_of(n);
	}
	if (next_of(head) != NULL)
		panic("mpsc_check: head has a successor");
	return count;
}
