/*
 * scenario_mpsc.c - the MPSC queue (sched/mpsc.{h,c}): two producers and
 * the consumer.
 *
 * P1 enqueues a0 then a1 one at a time (mpsc_enqueue); P2 links b0 -> b1
 * and appends them as one chain (mpsc_enqueue_chain).  Each producer fills
 * its items' payload with plain stores first.  The consumer takes items
 * until it has all four, alternating the two consumer paths the runtime
 * uses: a batch under the consumer lock (sched_tick) and mpsc_try_dequeue
 * (a thief's single dequeue).
 *
 * Along the way: a payload read is ordered after its write (the race
 * checker: the link store's release and the consumer's acquire must pair),
 * no item comes twice, a dequeue that began after both producers had
 * finished never returns INCONSISTENT (it is transient) nor EMPTY with
 * items missing, BUSY never comes (one consumer).  At the end: all four arrived, a0 before a1, b0 right before
 * b1 (a chain arrives whole), and mpsc_check() finds the queue empty and
 * well formed.
 */
#include "sched/mpsc.h"
#include "tests/model/model.h"

#define NITEMS	4

struct item {
	struct mpsc_node node;
	int producer, seq;
	int payload;		/* plain: published by the enqueue */
	bool seen;		/* consumer only */
};

static struct {
	struct mpsc_queue q;
	struct mpsc_node stub;
	struct item it[NITEMS];	/* a0 a1 b0 b1 */
	struct item *order[NITEMS];	/* consumer only */
	unsigned got;
} S;

static const char *const item_names[NITEMS] = { "a0", "a1", "b0", "b1" };

static void produce_a(void *arg)
{
	(void)arg;
	for (int i = 0; i < 2; i++) {
		S.it[i].payload = 100 + i;
		mpsc_enqueue(&S.q, &S.it[i].node);
	}
}

static void produce_b(void *arg)
{
	(void)arg;
	S.it[2].payload = 200;
	S.it[3].payload = 201;
	/* The caller links the chain; relaxed stores are enough (mpsc.h). */
	atomic_store_explicit(&S.it[2].node.next, &S.it[3].node,
			      memory_order_relaxed);
	mpsc_enqueue_chain(&S.q, &S.it[2].node, &S.it[3].node);
}

static void take(struct mpsc_node *n)
{
	struct item *it = container_of(n, struct item, node);

	model_check(!it->seen, "item %s dequeued twice",
		    item_names[it - S.it]);
	model_check(S.got < NITEMS, "more items than were queued");
	it->seen = true;
	/* The read the link's release must order after the producer's write. */
	model_check(it->payload == (it->producer ? 200 : 100) + it->seq,
		    "item %s: payload %d", item_names[it - S.it], it->payload);
	S.order[S.got++] = it;
}

/*
 * Nothing came: fine only if a producer was still working when the
 * dequeue began (its reads may predate the producer's last store).
 */
static void nothing(enum mpsc_result r, bool producers_done)
{
	model_check(r != MPSC_BUSY, "mpsc: BUSY with one consumer");
	if (producers_done) {
		model_check(r != MPSC_INCONSISTENT,
			    "mpsc: INCONSISTENT after both producers finished "
			    "(%u items taken)", S.got);
		model_fail("mpsc: EMPTY after both producers finished, %u of %d "
			   "items taken", S.got, NITEMS);
	}
	model_yield();
}

static void consume(void *arg)
{
	(void)arg;
	for (unsigned round = 0; S.got < NITEMS; round++) {
		struct mpsc_node *n, *batch[2];
		bool done = model_others_done();
		enum mpsc_result r;

		if (round % 2 == 0) {
			bool inconsistent;
			size_t k;

			model_check(mpsc_consumer_trylock(&S.q),
				    "mpsc: consumer lock held with one consumer");
			k = mpsc_dequeue_batch_locked(&S.q, batch, 2,
						      &inconsistent);
			mpsc_consumer_unlock(&S.q);
			for (size_t i = 0; i < k; i++)
				take(batch[i]);
			if (k == 0)
				nothing(inconsistent ? MPSC_INCONSISTENT :
					MPSC_EMPTY, done);
			continue;
		}
		r = mpsc_try_dequeue(&S.q, &n);
		if (r == MPSC_ITEM)
			take(n);
		else
			nothing(r, done);
	}
}

static void setup(void)
{
	static const char *const node_names[NITEMS] = {
		"a0.next", "a1.next", "b0.next", "b1.next"
	};
	static const char *const payload_names[NITEMS] = {
		"a0.payload", "a1.payload", "b0.payload", "b1.payload"
	};

	memset(&S, 0, sizeof(S));
	mpsc_init(&S.q, &S.stub);
	for (int i = 0; i < NITEMS; i++) {
		S.it[i].producer = i / 2;
		S.it[i].seq = i % 2;
		atomic_init(&S.it[i].node.next, NULL);
		model_track(&S.it[i], sizeof(S.it[i]), item_names[i]);
		model_name(&S.it[i].node.next, sizeof(void *), node_names[i]);
		model_name(&S.it[i].payload, sizeof(int), payload_names[i]);
	}
	model_track(&S.q, sizeof(S.q), "q");
	model_name(&S.q.head, sizeof(S.q.head), "q.head");
	model_name(&S.q.tail, sizeof(S.q.tail), "q.tail");
	model_name(&S.q.consumer_locked, 1, "q.consumer_locked");
	model_track(&S.stub, sizeof(S.stub), "stub.next");
	model_spawn("P1", produce_a, NULL);
	model_spawn("P2", produce_b, NULL);
	model_spawn("C", consume, NULL);
}

static void check(void)
{
	int pos[NITEMS];

	model_check(S.got == NITEMS, "%u of %d items arrived", S.got, NITEMS);
	for (unsigned i = 0; i < NITEMS; i++)
		pos[S.order[i] - S.it] = (int)i;
	model_check(pos[0] < pos[1], "a1 overtook a0");
	model_check(pos[3] == pos[2] + 1, "the chain b0 b1 arrived split "
		    "(b0 at %d, b1 at %d)", pos[2], pos[3]);
	model_check(mpsc_check(&S.q, 8, NULL, NULL) == 0,
		    "items left in the queue");
}

static const struct model_mutation mutations[] = {
	{
		.name = "link_relaxed",
		.what = "the producer's link store is relaxed, not release",
		.kind = MUT_WEAKEN, .file = "sched/mpsc.h",
		.text = "atomic_store_explicit(&prev->next, n, memory_order_release)",
		.order = memory_order_relaxed,
	},
	{
		.name = "xchg_split",
		.what = "the producer's exchange of head is a load and a store",
		.kind = MUT_SPLIT, .file = "sched/mpsc.h",
		.text = "prev = atomic_exchange_explicit(&q->head, n,",
	},
	{
		.name = "stub_stale",
		.what = "the consumer leaves the stub's old link when it swings "
			"head back to the stub",
		.kind = MUT_SKIP, .file = "sched/mpsc.c",
		.text = "atomic_store_explicit(&q->stub->next, NULL, memory_order_relaxed)",
	},
};

const struct model_scenario scenario_mpsc = {
	.name = "mpsc",
	.what = "two producers (one by chain) and the consumer of one queue",
	.setup = setup,
	.check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = mutations,
	.n_mutations = ARRAY_SIZE(mutations),
};
