/*
 * scenario_trace.c - the trace ring's seqlock (lib/trace.{h,c}): its
 * owner writes while another core copies it.
 *
 * W writes events up to NEV-1 with trace_ring_write() into a ring of
 * RING (4) slots, every field derived from the event's index (none of
 * them 0, the value of a slot never written).  R copies the ring with
 * trace_ring_copy() COPIES times while W writes: a ring this small is
 * overwritten under almost every copy.  `trace` starts from an empty
 * ring (W writes events 0-6), `trace_full` from one that setup filled
 * with events 0-2 (W writes 3-6): there a copy meets an overwrite within
 * two preemptions, where from empty it takes three (an off-by-one in the
 * reader's cut of torn events, trace_copy_torn()'s `now` one short, is
 * caught by `trace_full` at bound 2 and by `trace` only at bound 3).
 *
 * Along the way: every record a copy returns is one whole event (its five
 * fields agree), the records come in a row from rd.first + rd.torn (the
 * torn are the oldest), none is older than the copy's window, and the
 * events before rd.first count as lost.  At the end: a copy made after W
 * has ended returns exactly the newest RING - 1 events, none torn.
 */
#include "lib/trace.h"
#include "tests/model/model.h"

#define RING	4u
#define NEV	7u
#define COPIES	2

static struct {
	union {
		struct trace_ring r;
		unsigned char bytes[TRACE_RING_BYTES(RING)];
	} u __aligned(64);
	uint64_t copies;	/* R only */
	uint64_t prefill;	/* events setup wrote; W writes the rest */
} S;

/* Event k's fields: each one a different function of k, none 0. */
static uint64_t ev_ts(uint64_t k)	{ return 1000 + k; }
static uint64_t ev_x(uint64_t k)	{ return 3 * k + 7; }
static uint64_t ev_y(uint64_t k)	{ return ~k; }
static uint32_t ev_a(uint64_t k)	{ return (uint32_t)k + 1; }
static unsigned ev_type(uint64_t k)	{ return 1 + k % (TRACE_TYPES - 1); }

static void writer(void *arg)
{
	(void)arg;
	for (uint64_t k = S.prefill; k < NEV; k++)
		trace_ring_write(&S.u.r, (enum trace_type)ev_type(k), ev_a(k),
				 ev_ts(k), ev_x(k), ev_y(k));
}

/* One copy; checks every record it returned.  Returns rd. */
static struct trace_read copy_checked(struct trace_record *out)
{
	struct trace_read rd;

	trace_ring_copy(&S.u.r, out, RING, &rd);
	model_check(rd.copied <= RING - 1, "a copy of %zu events from a ring "
		    "of %u", rd.copied, RING);
	model_check(rd.lost == rd.first, "%llu events before the copy's "
		    "first (%llu) but %llu counted lost",
		    (unsigned long long)rd.first, (unsigned long long)rd.first,
		    (unsigned long long)rd.lost);
	for (size_t i = 0; i < rd.copied; i++) {
		const struct trace_record *e = &out[i];
		uint64_t k = rd.first + rd.torn + i;

		model_check(k < NEV, "record %zu is event %llu, never written",
			    i, (unsigned long long)k);
		model_check(e->ts == ev_ts(k) && e->x == ev_x(k) &&
			    e->y == ev_y(k) && e->a == ev_a(k) &&
			    e->type == ev_type(k),
			    "torn record %zu (event %llu expected): ts %llu x %llu "
			    "y %#llx a %u type %u", i, (unsigned long long)k,
			    (unsigned long long)e->ts, (unsigned long long)e->x,
			    (unsigned long long)e->y, e->a, e->type);
	}
	return rd;
}

static void reader(void *arg)
{
	struct trace_record out[RING];

	(void)arg;
	for (int c = 0; c < COPIES; c++) {
		copy_checked(out);
		S.copies++;
	}
}

static void setup_with(uint64_t prefill)
{
	memset(&S, 0, sizeof(S));
	trace_ring_init(&S.u.r, 0, RING);
	S.prefill = prefill;
	for (uint64_t k = 0; k < prefill; k++)
		trace_ring_write(&S.u.r, (enum trace_type)ev_type(k), ev_a(k),
				 ev_ts(k), ev_x(k), ev_y(k));
	model_track(&S, sizeof(S), "trace");
	model_name(&S.u.r.written, sizeof(S.u.r.written), "ring.written");
	for (unsigned i = 0; i < RING; i++) {
		static const char *const names[RING] = {
			"ring.ev[0]", "ring.ev[1]", "ring.ev[2]", "ring.ev[3]"
		};

		model_name(&S.u.r.ev[i], sizeof(S.u.r.ev[i]), names[i]);
	}
	model_spawn("W", writer, NULL);
	model_spawn("R", reader, NULL);
}

static void setup(void)
{
	setup_with(0);
}

static void setup_full(void)
{
	setup_with(RING - 1);
}

static void check(void)
{
	struct trace_record out[RING];
	struct trace_read rd = copy_checked(out);

	model_check(S.copies == COPIES, "%llu copies made",
		    (unsigned long long)S.copies);
	model_check(rd.torn == 0 && rd.copied == RING - 1 &&
		    rd.first == NEV - (RING - 1),
		    "after the writer: %zu copied from %llu, %llu torn; "
		    "want the newest %u", rd.copied,
		    (unsigned long long)rd.first, (unsigned long long)rd.torn,
		    RING - 1);
}

static const struct model_mutation mutations[] = {
	{
		.name = "no_second_look",
		.what = "the reader does not look at the count again after "
			"copying (nothing is ever torn)",
		.kind = MUT_FORCE, .file = "lib/trace.c",
		.text = "now = atomic_load_explicit(&r->written, memory_order_acquire);",
		.value = 0,
	},
	{
		.name = "field_late",
		.what = "the writer stores an event's x after its count",
		.kind = MUT_DEFER, .file = "lib/trace.h",
		.text = "atomic_store_explicit(&e->x, x, memory_order_release);",
	},
	{
		.name = "count_unpublished",
		.what = "the writer never stores its count",
		.kind = MUT_SKIP, .file = "lib/trace.h",
		.text = "atomic_store_explicit(&r->written, i + 1, memory_order_release);",
	},
};

const struct model_scenario scenario_trace = {
	.name = "trace",
	.what = "the owner writes 7 events into an empty trace ring of 4 "
		"slots while a reader copies it",
	.setup = setup,
	.check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = mutations,
	.n_mutations = ARRAY_SIZE(mutations),
};

const struct model_scenario scenario_trace_full = {
	.name = "trace_full",
	.what = "the same from a ring already holding 3 events",
	.setup = setup_full,
	.check = check,
	.modes = MODEL_SC | MODEL_TSO,
	.mutations = mutations,
	.n_mutations = 2,	/* count_unpublished: the empty ring's */
};
