/*
 * mpsc.h - intrusive multi-producer single-consumer queue (Vyukov).
 *
 * Properties: any number of producers (any core, interrupt handlers), one
 * consumer at a time; intrusive (the caller embeds struct mpsc_node, the
 * queue never allocates); unbounded; FIFO per producer.  A stub node, which
 * may be static, lets the queue start and end empty without an allocator,
 * so a queue can be a static initialiser (MPSC_QUEUE_INIT).
 *
 * The queue keeps no count (an exact one would cost every enqueue a second
 * contended atomic); its owners (scheduler, injector) count what they put in.
 *
 * The consumer side is guarded by a try-lock (mpsc_consumer_trylock): the
 * owner and a work-stealing thief take turns; nobody ever spins on it.
 *
 * Which calls may run concurrently with which (llist.h style):
 *
 *                        | enqueue | try_dequeue | dequeue_locked | trylock
 *   mpsc_enqueue(_chain) |   yes   |     yes     |      yes       |   yes
 *   mpsc_try_dequeue     |   yes   |  yes (BUSY) |   yes (BUSY)   |   yes
 *   mpsc_dequeue_locked  |   yes   |  yes (BUSY) | no: lock holder|   yes
 *                        |         |             |  only, 1 thread|
 *
 * Progress: enqueue is wait-free (a load, one exchange, one or two
 * stores; a chain of any length likewise).  Dequeue is lock-free except
 * for one window: a producer preempted between its
 * exchange and its store blocks the consumer from the nodes behind it; the
 * consumer sees MPSC_INCONSISTENT and retries later (it never spins here).
 *
 * Observable results of a dequeue: MPSC_ITEM, MPSC_EMPTY, MPSC_INCONSISTENT
 * (a producer is between its exchange and its store; try again soon),
 * MPSC_BUSY (another consumer holds the consumer lock).
 *
 * Reference: D. Vyukov, "Intrusive MPSC node-based queue", 1024cores.net;
 * Open vSwitch lib/mpsc-queue.h for the explicit INCONSISTENT result;
 * Mycelium cordyceps::MpscQueue for the consumer lock.
 */
#ifndef HYPHAE_SCHED_MPSC_H
#define HYPHAE_SCHED_MPSC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"

struct mpsc_node {
	_Atomic(struct mpsc_node *) next;
};

struct mpsc_queue {
	/* Producers: exchanged by every enqueue; its own cache line. */
	_Atomic(struct mpsc_node *) head __cacheline_aligned;

	/* Consumer: only the holder of consumer_locked touches tail. */
	struct mpsc_node *tail __cacheline_aligned;
	struct mpsc_node *stub;		/* constant after init */
	atomic_bool consumer_locked;
};

enum mpsc_result {
	MPSC_ITEM = 0,		/* *out is the dequeued node */
	MPSC_EMPTY,		/* nothing queued */
	MPSC_INCONSISTENT,	/* a producer is mid-enqueue; retry later */
	MPSC_BUSY,		/* another consumer holds the queue */
};

/*
 * Static initialiser: `static struct mpsc_queue q = MPSC_QUEUE_INIT(q, &stub);`
 * `stub_ptr` is a node owned by this queue alone for the queue's lifetime.
 */
#define MPSC_QUEUE_INIT(name, stub_ptr) {			\
	.head = (stub_ptr),					\
	.tail = (stub_ptr),					\
	.stub = (stub_ptr),					\
	.consumer_locked = false,				\
}

/* Initialise `q` with `stub` (caller storage, used by this queue only). */
void mpsc_init(struct mpsc_queue *q, struct mpsc_node *stub);

/*
 * Append `n`: not in any queue, held by the caller alone, its `next`
 * holding some value (a stale link, NULL, anything: it is made NULL).
 * Any context, IRQ-safe, wait-free.  Inline: a load, a branch, one
 * exchange and one or two stores, on the path of every spawn and wake.
 */
static inline void mpsc_enqueue(struct mpsc_queue *q, struct mpsc_node *n)
{
	struct mpsc_node *prev;

	/*
	 * Skip the store when the link is NULL already (a task just spawned:
	 * task_prepare() wrote it; a node that left a queue as its last
	 * node).  The only other writer of n->next is the producer that will
	 * link behind n, after our exchange; a consumer hands a node out only
	 * after it has seen that link, or after its CAS proved there is none
	 * (mpsc_dequeue_locked_slow), so the caller holds n alone here and
	 * the relaxed load races with nothing.  Why: where nodes share cache
	 * lines (the queue harness's 32-byte items), the line of the node the
	 * consumer is polling is then written once per item instead of twice;
	 * the measurements are in docs/PERFORMANCE.md.
	 */
	if (atomic_load_explicit(&n->next, memory_order_relaxed) != NULL)
		atomic_store_explicit(&n->next, NULL, memory_order_relaxed);
	/*
	 * acq_rel: release orders n's NULL link (stored above, or earlier by
	 * a write that happens-before this call: task_prepare(), n's previous
	 * enqueue, the caller's chain) before whoever links a node behind `n`
	 * (their acquire of this exchange); acquire orders our store into
	 * prev->next after prev's own NULL link.
	 */
	prev = atomic_exchange_explicit(&q->head, n, memory_order_acq_rel);
	/* release: publishes `n`; pairs with the acquire loads of ->next in
	 * mpsc_dequeue_locked(), its _slow part and
	 * mpsc_dequeue_batch_locked(). */
	atomic_store_explicit(&prev->next, n, memory_order_release);
}

/*
 * Append the chain first..last in one exchange: the caller has linked it
 * through ->next (plain relaxed stores are enough; last->next is made NULL
 * here, stored only if it is not NULL already)
 * and no node of it is in any queue.  Consumers see the whole chain at
 * once, in order.  Any context, IRQ-safe, wait-free.
 */
void mpsc_enqueue_chain(struct mpsc_queue *q, struct mpsc_node *first,
			struct mpsc_node *last);

/*
 * Take the consumer lock; false if another consumer holds it.  Never spins.
 * The holder may call mpsc_dequeue_locked() until mpsc_consumer_unlock().
 */
bool __must_check mpsc_consumer_trylock(struct mpsc_queue *q);
void mpsc_consumer_unlock(struct mpsc_queue *q);

/* The complete dequeue (reads tail and its link again); safe to call
 * directly.  mpsc_dequeue_locked() inlines its common case. */
enum mpsc_result __must_check mpsc_dequeue_locked_slow(struct mpsc_queue *q,
						       struct mpsc_node **out);

/* Dequeue one node; caller holds the consumer lock.  Never MPSC_BUSY. */
static inline enum mpsc_result __must_check
mpsc_dequeue_locked(struct mpsc_queue *q, struct mpsc_node **out)
{
	struct mpsc_node *tail = q->tail;
	/* acquire: pairs with the release store of the link in
	 * mpsc_enqueue() and mpsc_enqueue_chain(). */
	struct mpsc_node *next = atomic_load_explicit(&tail->next,
						      memory_order_acquire);

	/* Inline: a node with a successor, not the stub. */
	if (tail != q->stub && next != NULL) {
		q->tail = next;
		*out = tail;
		return MPSC_ITEM;
	}
	return mpsc_dequeue_locked_slow(q, out);
}

/*
 * Dequeue up to `max` nodes into out[]; caller holds the consumer lock.
 * Returns how many.  A batch that already has nodes stops before the last
 * visible node instead of taking it: taking the last node is a CAS on the
 * producers' `head` line, and a consumer that keeps catching up with a
 * producer that way makes every item cost that trip (the next batch takes
 * it if it is still alone).  *inconsistent is set when nothing was taken
 * because a producer is between its exchange and its link behind a node;
 * one caught like that on an empty queue looks empty (the batch never
 * reads `head` when it finds nothing, so a consumer polling an empty
 * queue does not pull the producers' line away from them).
 */
size_t mpsc_dequeue_batch_locked(struct mpsc_queue *q, struct mpsc_node **out,
				 size_t max, bool *inconsistent);

/* Trylock + dequeue_locked + unlock.  Any thread; MPSC_BUSY if held. */
enum mpsc_result __must_check mpsc_try_dequeue(struct mpsc_queue *q,
					       struct mpsc_node **out);

/*
 * Checker for tests and debugging: walks the queue from tail to head,
 * calling visit(node, arg) for each real node (not the stub), and panics if
 * head is not reached within `limit` nodes or a link is missing.  Returns
 * the node count.  Only when the queue is quiescent (no producer or
 * consumer running).
 */
size_t mpsc_check(struct mpsc_queue *q, size_t limit,
		  void (*visit)(struct mpsc_node *n, void *arg), void *arg);

#endif /* HYPHAE_SCHED_MPSC_H */
