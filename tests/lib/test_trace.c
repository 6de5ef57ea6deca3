/*
 * test_trace.c - lib/trace.c and lib/trace_json.c on one thread.
 *
 * The ring: events come back in order with their fields; a full ring
 * keeps the newest and counts what it lost; a clear hides what came
 * before; a copy leaves out the slot the writer fills next, and drops the
 * slots the writer reached while it copied, never returning them.  The per-core trace: nothing
 * is recorded while off or on a thread that runs no core; on, every
 * trace point lands in the calling core's ring.  The JSON: an empty
 * trace is an empty event list; polls pair into complete events, a wake
 * lands on the woken core's lane, a wrapped ring says what it lost, a
 * batch's untimed polls are spread over it.  An interrupt handler's
 * event that lands in the middle of task context's is dropped, counted.
 * (tests/tools/trace-test parses real traces with a JSON parser.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch.h"
#include "config.h"
#include "kmalloc.h"
#include "lib/trace.h"
#include "lib/trace_json.h"

#define SMALL	8

static struct trace_ring *small_ring(unsigned core)
{
	struct trace_ring *r = kmalloc_aligned(TRACE_RING_BYTES(SMALL), 64);

	assert_non_null(r);
	trace_ring_init(r, core, SMALL);
	return r;
}

/* Event k of a test: every field derived from k. */
static void put(struct trace_ring *r, uint64_t k)
{
	trace_ring_write(r, (enum trace_type)(1 + k % (TRACE_TYPES - 1)),
			 (uint32_t)(k & TRACE_A_MAX), 1000 + k, k * 3, ~k);
}

static void check(const struct trace_record *rec, uint64_t k)
{
	assert_int_equal(rec->type, 1 + k % (TRACE_TYPES - 1));
	assert_int_equal(rec->a, k & TRACE_A_MAX);
	assert_int_equal(rec->ts, 1000 + k);
	assert_int_equal(rec->x, k * 3);
	assert_int_equal(rec->y, ~k);
}

static void test_ring_in_order(void **state)
{
	struct trace_ring *r = small_ring(0);
	struct trace_record out[SMALL];
	struct trace_read rd;

	(void)state;
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, 0);
	assert_int_equal(rd.lost, 0);
	for (uint64_t k = 0; k < 5; k++)
		put(r, k);
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, 5);
	assert_int_equal(rd.first, 0);
	assert_int_equal(rd.lost, 0);
	assert_int_equal(rd.torn, 0);
	for (uint64_t k = 0; k < 5; k++)
		check(&out[k], k);
	kfree(r);
}

static void test_ring_wraps_and_counts_lost(void **state)
{
	struct trace_ring *r = small_ring(0);
	struct trace_record out[SMALL];
	struct trace_read rd;

	(void)state;
	for (uint64_t k = 0; k < 3 * SMALL + 3; k++)
		put(r, k);
	/* The newest SMALL - 1: the oldest slot is the writer's next. */
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, SMALL - 1);
	assert_int_equal(rd.lost, 2 * SMALL + 4);
	assert_int_equal(rd.first, 2 * SMALL + 4);
	for (uint64_t i = 0; i < SMALL - 1; i++)
		check(&out[i], 2 * SMALL + 4 + i);
	/* A smaller buffer keeps the newest and counts the rest lost. */
	trace_ring_copy(r, out, 3, &rd);
	assert_int_equal(rd.copied, 3);
	assert_int_equal(rd.lost, 3 * SMALL);
	for (uint64_t i = 0; i < 3; i++)
		check(&out[i], 3 * SMALL + i);
	kfree(r);
}

static void test_ring_clear(void **state)
{
	struct trace_ring *r = small_ring(0);
	struct trace_record out[SMALL];
	struct trace_read rd;

	(void)state;
	for (uint64_t k = 0; k < 20; k++)
		put(r, k);
	trace_ring_clear(r);
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, 0);
	assert_int_equal(rd.lost, 0);
	put(r, 20);
	put(r, 21);
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, 2);
	assert_int_equal(rd.lost, 0);
	check(&out[0], 20);
	check(&out[1], 21);
	kfree(r);
}

/* A copy leaves out the slot the writer fills next, and drops the
 * events whose slots the writer reached while it copied: the oldest. */
static void test_ring_drops_torn_slots(void **state)
{
	struct trace_ring *r = small_ring(0);
	struct trace_record out[SMALL];
	struct trace_read rd;

	(void)state;
	for (uint64_t k = 0; k < SMALL; k++)
		put(r, k);
	/* Full: event 0's slot is the writer's next, so it is not read. */
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.copied, SMALL - 1);
	assert_int_equal(rd.lost, 1);
	assert_int_equal(rd.torn, 0);
	for (uint64_t i = 0; i < SMALL - 1; i++)
		check(&out[i], 1 + i);
	/* A copy that raced writes: the count looked at after it is
	 * higher, and every event whose slot the writer may have reached by
	 * then is dropped, the oldest first. */
	assert_int_equal(trace_copy_torn(1, SMALL - 1, SMALL, SMALL - 1), 0);
	assert_int_equal(trace_copy_torn(1, SMALL - 1, SMALL + 1, SMALL - 1), 1);
	assert_int_equal(trace_copy_torn(1, SMALL - 1, SMALL + 2, SMALL - 1), 2);
	assert_int_equal(trace_copy_torn(1, SMALL - 1, 3 * SMALL, SMALL - 1),
			 SMALL - 1);
	/* Not full: the writer is far from the copied slots. */
	assert_int_equal(trace_copy_torn(0, 3, 3, SMALL - 1), 0);
	assert_int_equal(trace_copy_torn(0, 3, SMALL - 1, SMALL - 1), 0);
	assert_int_equal(trace_copy_torn(0, 3, SMALL, SMALL - 1), 1);
	/* Two events more: the copy's window moves on by two. */
	put(r, SMALL);
	put(r, SMALL + 1);
	trace_ring_copy(r, out, SMALL, &rd);
	assert_int_equal(rd.first, 3);
	assert_int_equal(rd.copied, SMALL - 1);
	for (uint64_t i = 0; i < SMALL - 1; i++)
		check(&out[i], 3 + i);
	kfree(r);
}

/* The global trace: off records nothing; a thread that runs no core
 * records nothing; on, each point lands in the core's ring. */
static void test_trace_points(void **state)
{
	struct trace_record out[8];
	struct trace_read rd;
	struct trace_ring *r;
	int dummy_core;

	(void)state;
	assert_int_equal(trace_setup(2), 0);
	assert_true(trace_cores() >= 2);
	r = trace_ring_of(1);
	assert_non_null(r);
	assert_null(trace_ring_of(MAX_CORES));
	arch_cpu_bind(1);

	trace_clear();
	trace_event(TRACE_SPAWN, 0, 7, 0);		/* off: nothing */
	trace_set_enabled(true);
	trace_event(TRACE_SPAWN, 0, 8, 0);		/* no core here: nothing */
	arch_set_cpu_local(&dummy_core);
	trace_event(TRACE_SPAWN, 0, 9, (uintptr_t)"nine");
	trace_event(TRACE_POLL_BEGIN, 0, 9, 0);
	trace_fault(14);
	trace_event(TRACE_POLL_END, TRACE_POLL_READY, 9, 0);
	trace_fault(13);
	trace_set_enabled(false);
	trace_event(TRACE_IPI, 0, 0, 0);		/* off again */
	arch_set_cpu_local(NULL);

	trace_ring_copy(r, out, 8, &rd);
	assert_int_equal(rd.copied, 5);
	assert_int_equal(out[0].type, TRACE_SPAWN);
	assert_int_equal(out[0].x, 9);
	assert_string_equal((const char *)(uintptr_t)out[0].y, "nine");
	assert_int_equal(out[1].type, TRACE_POLL_BEGIN);
	/* A fault inside a poll names the task; after it, none. */
	assert_int_equal(out[2].type, TRACE_FAULT);
	assert_int_equal(out[2].x, 9);
	assert_int_equal(out[2].a, 14);
	assert_int_equal(out[4].type, TRACE_FAULT);
	assert_int_equal(out[4].x, 0);
	for (int i = 1; i < 5; i++)
		assert_true(out[i].ts >= out[i - 1].ts);
	assert_true(out[0].ts >= trace_epoch());
	assert_string_equal(trace_type_name(TRACE_STEAL), "steal");
	assert_string_equal(trace_type_name(TRACE_POLL), "poll");
	assert_string_equal(trace_type_name(TRACE_POLL_BEGIN), "poll-begin");
	assert_string_equal(trace_type_name(TRACE_TYPES), "?");
	trace_clear();
	arch_cpu_bind(0);
}

/* ---- JSON ----------------------------------------------------------------- */

struct sink {
	char buf[8192];
	size_t len;
	unsigned writes, lines;
};

static void sink_write(void *ctx, const char *s, size_t n)
{
	struct sink *k = ctx;

	assert_true(k->len + n < sizeof(k->buf));
	memcpy(k->buf + k->len, s, n);
	k->len += n;
	k->buf[k->len] = '\0';
	k->writes++;
	/* Every write is whole lines. */
	assert_true(n > 0 && s[n - 1] == '\n');
}

static void test_json_empty(void **state)
{
	static struct sink k;
	struct fmt_out out = { sink_write, &k };
	struct trace_json j;
	struct trace_read rd = { 0 };

	(void)state;
	trace_json_begin(&j, &out, 0, 1, 1);
	trace_json_core(&j, 0, NULL, 0, &rd);
	trace_json_end(&j);
	assert_non_null(strstr(k.buf, "{\"traceEvents\":[\n],"));
	assert_non_null(strstr(k.buf, "\"events\":0,\"lost\":0"));
	assert_null(strstr(k.buf, "\"ph\""));
	assert_int_equal(j.st.events, 0);
	assert_int_equal(j.st.bytes, k.len);
}

static void test_json_events(void **state)
{
	static struct sink k;
	struct fmt_out out = { sink_write, &k };
	struct trace_json j;
	const struct trace_record recs[] = {
		{ .type = TRACE_SPAWN, .ts = 1000, .x = 5, .y = (uintptr_t)"ch\"ld" },
		{ .type = TRACE_POLL_BEGIN, .ts = 2000, .x = 5, .y = (uintptr_t)"child" },
		{ .type = TRACE_WAKE, .ts = 2500, .x = 6, .a = 3 | TRACE_WAKE_IRQ },
		{ .type = TRACE_POLL_END, .ts = 3500, .x = 5, .a = TRACE_POLL_READY },
		{ .type = TRACE_POLL_END, .ts = 3600, .x = 77 },	/* no begin */
		{ .type = TRACE_IDLE_ENTER, .ts = 4000 },
		{ .type = TRACE_IDLE_EXIT, .ts = 9000, .a = ARCH_WOKE_IPI },
		{ .type = TRACE_STEAL, .ts = 9500, .x = 12, .a = 2, .y = 9100 },
		{ .type = TRACE_POLL_BEGIN, .ts = 9600, .x = 8, .y = 0 },
	};
	struct trace_read rd = { .lost = 40, .torn = 2 };

	(void)state;
	trace_json_begin(&j, &out, 500, 1, 1);
	trace_json_core(&j, 1, recs, ARRAY_SIZE(recs), &rd);
	trace_json_end(&j);
	/* Times are microseconds from the origin (500 ticks of 1 ns). */
	assert_non_null(strstr(k.buf, "{\"ph\":\"i\",\"pid\":0,\"tid\":1,\"ts\":0.500,"
			       "\"name\":\"spawn\",\"args\":{\"id\":5,\"task\":\"ch\\\"ld\"}}"));
	assert_non_null(strstr(k.buf, "{\"ph\":\"X\",\"pid\":0,\"tid\":1,\"ts\":1.500,"
			       "\"dur\":1.500,\"name\":\"child\",\"args\":{\"id\":5,"
			       "\"end\":\"ready\"}}"));
	/* The wake is drawn on the woken core, from an interrupt on cpu1. */
	assert_non_null(strstr(k.buf, "\"tid\":3,\"ts\":2.000,\"name\":\"wake\","
			       "\"args\":{\"id\":6,\"from\":\"irq on cpu1\"}"));
	assert_null(strstr(k.buf, "\"id\":77"));
	assert_non_null(strstr(k.buf, "\"ts\":3.500,\"dur\":5.000,\"name\":\"idle\","
			       "\"cat\":\"idle\",\"args\":{\"woke\":\"ipi\"}"));
	assert_non_null(strstr(k.buf, "\"ts\":8.600,\"dur\":0.400,\"name\":\"steal\","
			       "\"cat\":\"steal\",\"args\":{\"tasks\":12,\"from\":\"cpu2\"}"));
	/* Still polling at the end: a begin event; unnamed: "task". */
	assert_non_null(strstr(k.buf, "{\"ph\":\"B\",\"pid\":0,\"tid\":1,\"ts\":9.100,"
			       "\"name\":\"task\",\"args\":{\"id\":8}}"));
	assert_non_null(strstr(k.buf, "\"name\":\"lost 42 events\",\"args\":{"
			       "\"wrapped\":40,\"torn\":2}"));
	assert_non_null(strstr(k.buf, "\"thread_name\",\"args\":{\"name\":\"cpu1\"}"));
	assert_non_null(strstr(k.buf, "\"lost\":40,\"torn\":2"));
	assert_int_equal(j.st.records, ARRAY_SIZE(recs));
	assert_int_equal(j.st.bytes, k.len);
	/* Separators lead: after the first element every line starts ','. */
	assert_non_null(strstr(k.buf, "[\n{\"ph\":\"M\""));
	assert_null(strstr(k.buf, "}\n{"));
}

/* A POLL event's a: how it ended and its duration, exact below 2^16
 * stamps, short by less than 2^-15 of it above, saturating at the top. */
static void test_poll_event_encoding(void **state)
{
	static const uint64_t exact[] = { 0, 1, 2, 1000, 65535 };
	static const uint64_t big[] = { 65536, 65537, 131071, 131075,
					123456789, 1ull << 40, (1ull << 47) - 1 };

	(void)state;
	for (unsigned how = 0; how <= TRACE_POLL_RETIRED; how++) {
		for (size_t i = 0; i < ARRAY_SIZE(exact); i++) {
			uint32_t a = trace_poll_a(how, exact[i]);

			assert_true(a <= TRACE_A_MAX);
			assert_int_equal(trace_poll_how(a), how);
			assert_int_equal(trace_poll_stamps(a), exact[i]);
		}
		for (size_t i = 0; i < ARRAY_SIZE(big); i++) {
			uint32_t a = trace_poll_a(how, big[i]);
			uint64_t d = trace_poll_stamps(a);

			assert_true(a <= TRACE_A_MAX);
			assert_int_equal(trace_poll_how(a), how);
			assert_true(d <= big[i]);
			assert_true(big[i] - d < big[i] >> 15);
		}
	}
	/* Longer than 2^47 stamps: the largest duration it can say. */
	assert_true(trace_poll_stamps(trace_poll_a(TRACE_POLL_READY, UINT64_MAX)) >=
		    (1ull << 47) - (1ull << 31));

	/* Untimed: how it ended, no duration, and no timed poll reads as
	 * untimed (the saturated one included). */
	for (unsigned how = 0; how <= TRACE_POLL_RETIRED; how++) {
		uint32_t a = trace_poll_untimed_a(how);

		assert_true(a <= TRACE_A_MAX);
		assert_true(trace_poll_untimed(a));
		assert_int_equal(trace_poll_how(a), how);
		assert_int_equal(trace_poll_stamps(a), 0);
		for (size_t i = 0; i < ARRAY_SIZE(exact); i++)
			assert_false(trace_poll_untimed(trace_poll_a(how, exact[i])));
		for (size_t i = 0; i < ARRAY_SIZE(big); i++)
			assert_false(trace_poll_untimed(trace_poll_a(how, big[i])));
		assert_false(trace_poll_untimed(trace_poll_a(how, UINT64_MAX)));
	}
}

/*
 * Untimed polls share their batch's start: the JSON spreads each batch
 * evenly, in order, up to the next later stamp on the core (here the
 * next batch, then an idle stretch), over the spawn and the IPI inside
 * it; a batch the copy ends is drawn to its last stamp.
 */
static void test_json_untimed_batches(void **state)
{
	static struct sink k;
	struct fmt_out out = { sink_write, &k };
	struct trace_json j;
	const uint32_t pend = trace_poll_untimed_a(TRACE_POLL_PENDING);
	const struct trace_record recs[] = {
		{ .type = TRACE_POLL, .ts = 1000, .x = 1, .a = pend },
		{ .type = TRACE_SPAWN, .ts = 1000, .x = 9 },
		{ .type = TRACE_POLL, .ts = 1000, .x = 2, .a = pend },
		{ .type = TRACE_IPI, .ts = 1800, .a = 1 },
		{ .type = TRACE_POLL, .ts = 1000, .x = 3,
		  .a = trace_poll_untimed_a(TRACE_POLL_READY) },
		{ .type = TRACE_POLL, .ts = 4000, .x = 4, .a = pend },
		{ .type = TRACE_POLL, .ts = 4000, .x = 5, .a = pend },
		{ .type = TRACE_IDLE_ENTER, .ts = 5000 },
		{ .type = TRACE_IDLE_EXIT, .ts = 6000 },
		{ .type = TRACE_POLL, .ts = 7000, .x = 6, .a = pend },
		{ .type = TRACE_WAKE, .ts = 7300, .x = 6, .a = 0 },
	};
	/* Polls 1-6: where each is drawn (id 3 ended ready). */
	static const struct { const char *ts, *dur; } want[] = {
		{ "1.000", "1.000" }, { "2.000", "1.000" }, { "3.000", "1.000" },
		{ "4.000", "0.500" }, { "4.500", "0.500" }, { "7.000", "0.300" },
	};
	struct trace_read rd = { 0 };

	(void)state;
	trace_json_begin(&j, &out, 0, 1, 1);
	/* Two steps: the batch's state survives a step's end. */
	{
		struct trace_json_lane l;

		trace_json_core_start(&j, &l, 0, recs, ARRAY_SIZE(recs), &rd);
		assert_false(trace_json_core_step(&j, &l, 3));
		assert_true(trace_json_core_step(&j, &l, ARRAY_SIZE(recs)));
	}
	trace_json_end(&j);
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		char line[160];

		snprintf(line, sizeof(line), "\"ts\":%s,\"dur\":%s,\"name\":\"task\","
			 "\"args\":{\"id\":%zu,%s\"untimed\":1}}", want[i].ts,
			 want[i].dur, i + 1, i == 2 ? "\"end\":\"ready\"," : "");
		assert_non_null(strstr(k.buf, line));
	}
	/* The instants keep their own stamps. */
	assert_non_null(strstr(k.buf, "\"ts\":1.800,\"name\":\"ipi\""));
	assert_non_null(strstr(k.buf, "\"ts\":1.000,\"name\":\"spawn\""));
}

/*
 * Task context writes without masking interrupts: an interrupt handler's
 * trace point that comes while task context is in the middle of an event
 * drops its own event and counts it as lost; a clear forgets the count.
 * (The host runs a kick's handler as the core's interrupt.)
 */
static struct trace_ring *irq_ring;
static bool irq_mid_write;

static void irq_trace(void)
{
	assert_true(arch_in_interrupt());
	if (irq_mid_write)
		atomic_store_explicit(&irq_ring->writing, 1, memory_order_relaxed);
	trace_event(TRACE_IPI, 1, 0, 0);
	atomic_store_explicit(&irq_ring->writing, 0, memory_order_relaxed);
}

static void test_interrupt_drops_mid_event(void **state)
{
	struct trace_record out[8];
	struct trace_read rd;
	int dummy_core;

	(void)state;
	assert_int_equal(trace_setup(1), 0);
	irq_ring = trace_ring_of(0);
	arch_cpu_bind(0);
	arch_set_cpu_local(&dummy_core);
	arch_set_kick_handler(irq_trace);
	trace_clear();
	trace_set_enabled(true);

	irq_mid_write = false;
	arch_kick(0);
	arch_cpu_relax();		/* the handler: recorded */
	irq_mid_write = true;
	arch_kick(0);
	arch_cpu_relax();		/* the handler, mid-event: dropped */
	arch_kick(0);
	arch_cpu_relax();
	trace_event(TRACE_TIMERS, 0, 3, 0);	/* task context */
	trace_ring_copy(irq_ring, out, ARRAY_SIZE(out), &rd);
	assert_int_equal(rd.copied, 2);
	assert_int_equal(out[0].type, TRACE_IPI);
	assert_int_equal(out[1].type, TRACE_TIMERS);
	assert_int_equal(rd.lost, 2);
	assert_false(atomic_load_explicit(&irq_ring->writing, memory_order_relaxed));

	trace_clear();
	trace_ring_copy(irq_ring, out, ARRAY_SIZE(out), &rd);
	assert_int_equal(rd.copied, 0);
	assert_int_equal(rd.lost, 0);

	trace_set_enabled(false);
	arch_set_kick_handler(NULL);
	arch_set_cpu_local(NULL);
}

/* A whole poll in one event is one complete JSON slice; the fault hook
 * names the polled task without a POLL_BEGIN. */
static uint64_t hook_id;

static uint64_t poll_id(void)
{
	return hook_id;
}

static void test_poll_event_json_and_fault(void **state)
{
	static struct sink k;
	static struct trace_record out[4];
	struct fmt_out o = { sink_write, &k };
	struct trace_json j;
	struct trace_ring *r;
	struct trace_read rd;
	const struct trace_record recs[] = {
		{ .type = TRACE_POLL, .ts = 2000, .x = 5, .y = (uintptr_t)"child",
		  .a = trace_poll_a(TRACE_POLL_YIELDED, 1500) },
		{ .type = TRACE_POLL, .ts = 4000, .x = 6, .y = 0,
		  .a = trace_poll_a(TRACE_POLL_PENDING, 250) },
	};
	struct trace_read none = { 0 };
	int dummy_core;

	(void)state;
	trace_json_begin(&j, &o, 500, 1, 1);
	trace_json_core(&j, 0, recs, ARRAY_SIZE(recs), &none);
	trace_json_end(&j);
	assert_non_null(strstr(k.buf, "{\"ph\":\"X\",\"pid\":0,\"tid\":0,\"ts\":1.500,"
			       "\"dur\":1.500,\"name\":\"child\",\"args\":{\"id\":5,"
			       "\"end\":\"yielded\"}}"));
	assert_non_null(strstr(k.buf, "\"ts\":3.500,\"dur\":0.250,\"name\":\"task\","
			       "\"args\":{\"id\":6}}"));

	/* The hook names the task a fault interrupts. */
	assert_int_equal(trace_setup(1), 0);
	r = trace_ring_of(0);
	arch_cpu_bind(0);
	arch_set_cpu_local(&dummy_core);
	trace_clear();
	trace_set_enabled(true);
	(void)trace_set_poll_id_hook(poll_id);
	hook_id = 42;
	trace_fault(6);
	hook_id = 0;
	trace_fault(13);	/* no task: the hook says 0, nothing open */
	trace_poll(100, 350, 9, "nine", TRACE_POLL_READY);
	trace_set_enabled(false);
	(void)trace_set_poll_id_hook(NULL);
	arch_set_cpu_local(NULL);
	trace_ring_copy(r, out, ARRAY_SIZE(out), &rd);
	assert_int_equal(rd.copied, 3);
	assert_int_equal(out[0].type, TRACE_FAULT);
	assert_int_equal(out[0].x, 42);
	assert_int_equal(out[1].x, 0);
	assert_int_equal(out[2].type, TRACE_POLL);
	assert_int_equal(out[2].ts, 100);
	assert_int_equal(out[2].x, 9);
	assert_int_equal(trace_poll_stamps(out[2].a), 250);
	assert_int_equal(trace_poll_how(out[2].a), TRACE_POLL_READY);
	trace_clear();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_poll_event_encoding),
		cmocka_unit_test(test_poll_event_json_and_fault),
		cmocka_unit_test(test_ring_in_order),
		cmocka_unit_test(test_ring_wraps_and_counts_lost),
		cmocka_unit_test(test_ring_clear),
		cmocka_unit_test(test_ring_drops_torn_slots),
		cmocka_unit_test(test_trace_points),
		cmocka_unit_test(test_json_empty),
		cmocka_unit_test(test_json_events),
		cmocka_unit_test(test_json_untimed_batches),
		cmocka_unit_test(test_interrupt_drops_mid_event),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
