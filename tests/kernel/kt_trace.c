/*
 * kt_trace.c - in-kernel tests of the trace's fault events and the log
 * ring, on the real fault and panic paths.
 *
 * The test kernel runs no runtime, so the boot core poses as one (a
 * non-NULL arch_cpu_local(), as the trace wants) for the first tests and
 * is restored by the last.  Tests run in source order: each "then" test
 * reads what the deliberate fault or panic before it left in the ring.
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/trap.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "panic.h"
#include "tests/kernel/ktest.h"

#define POLLED_ID	0x10000000077ull

static void *saved_local;
static trace_poll_id_fn saved_hook;
static int fake_core;
static volatile uintptr_t volatile_zero;

/* The last event of this core's ring. */
static struct trace_record last_event(void)
{
	static struct trace_record recs[4];
	struct trace_ring *r = trace_ring_of(arch_cpu_index());
	struct trace_read rd;

	KT_ASSERT(r != NULL);
	trace_ring_copy(r, recs, 4, &rd);
	KT_ASSERT(rd.copied > 0);
	return recs[rd.copied - 1];
}

KTEST(trace_fault_in_a_poll)
{
	saved_local = arch_cpu_local();
	arch_set_cpu_local(&fake_core);
	/* The runtime's hook would read the fake core as its own: the
	 * open POLL_BEGIN names the task here. */
	saved_hook = trace_set_poll_id_hook(NULL);
	KT_ASSERT_EQ(trace_setup(arch_cpu_index() + 1), 0);
	trace_clear();
	trace_set_enabled(true);
	/* As sched_tick does before a poll. */
	trace_event(TRACE_POLL_BEGIN, 0, POLLED_ID, (uintptr_t)"kt-task");
	ktest_expect_page_fault(0, 8, PF_PRESENT, 0);
	*(volatile uint64_t *)volatile_zero = 1;
}

KTEST(trace_then_the_fault_event_names_the_task)
{
	struct trace_record e = last_event();

	KT_ASSERT_EQ(e.type, TRACE_FAULT);
	KT_ASSERT_EQ(e.a, TRAP_PF);
	KT_ASSERT_EQ(e.x, POLLED_ID);
	trace_event(TRACE_POLL_END, TRACE_POLL_READY, POLLED_ID, 0);
}

KTEST(trace_panic)
{
	ktest_expect_panic("kt_trace: deliberate panic");
	panic("kt_trace: deliberate panic");
}

KTEST(trace_then_the_panic_event)
{
	struct trace_record e = last_event();

	trace_set_enabled(false);
	trace_clear();
	arch_set_cpu_local(saved_local);
	(void)trace_set_poll_id_hook(saved_hook);
	KT_ASSERT_EQ(e.type, TRACE_FAULT);
	KT_ASSERT_EQ(e.a, TRACE_FAULT_PANIC);
	KT_ASSERT_EQ(e.x, 0);		/* the poll had ended */
}

KTEST(log_ring_holds_the_last_line)
{
	static const char tail[] = "INFO  kt_trace: a line for the ring 1234\n";
	char buf[LOG_LINE_MAX];
	uint64_t last;
	int n;

	log_info("kt_trace: a line for the ring %d", 1234);
	last = atomic_load(&log_ring.next) - 1;
	n = log_ring_get(&log_ring, last, buf);
	KT_ASSERT(n > (int)sizeof(tail));
	KT_ASSERT(memcmp(buf + n - (sizeof(tail) - 1), tail, sizeof(tail) - 1) == 0);
}
