/*
 * kt_idle.c - in-kernel tests of how a core waits and is woken (idle.c)
 * and of timer re-arming (lapic.c), counted with trapstat.h:
 *   - a wakeup that finds the core halt-polling sends no IPI, and the
 *     core returns without HLT;
 *   - a hundred wakeups of a core in HLT send one IPI;
 *   - a wakeup before the wait makes that wait return at once;
 *   - arming the armed deadline again writes no timer register.
 * An AP runs the waits (posted with kt_smp_post), the boot core wakes it
 * with smp_wake_cpu() and compares the two cores' counters.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idle.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trapstat.h"
#include "tests/kernel/kt_smp.h"
#include "tests/kernel/ktest.h"
#include "clock.h"

#define KT_LIMIT_NS	(2000 * NS_PER_MS)	/* any wait for the AP */
#define KT_LONG_POLL_NS	(1000 * NS_PER_MS)	/* longer than any check */
#define KT_KICKS	100
#define KT_AP		1
#define KT_DRAIN_SPINS	1000

/* What the AP does: wait once with a given poll, then hold. */
struct kt_waiter {
	uint64_t poll_ns;
	atomic_bool holding;	/* release by the AP: in kt_waiter_run */
	atomic_bool start;	/* release by the boot core: go and wait */
	atomic_bool waited;	/* release by the AP: the wait returned */
	atomic_bool home;	/* release by the boot core: back to the loop */
};

/* On the AP, interrupts off.  Holds until released so that no second
 * wait (the service loop's) blurs the counts. */
static void kt_waiter_run(void *arg)
{
	struct kt_waiter *w = arg;
	struct cpu *c = this_cpu();

	/* The posting IPI is still pending if this core was between waits
	 * when it came: take it now, not in the wait under test. */
	arch_irq_enable();
	for (unsigned i = 0; i < KT_DRAIN_SPINS; i++)
		arch_cpu_relax();
	arch_irq_disable();
	/* release: the boot core now knows the service loop's own wait is
	 * over (its wakeup consumed) and ours has not begun. */
	atomic_store_explicit(&w->holding, true, memory_order_release);
	/* acquire: pairs with the boot core's release of start. */
	while (!atomic_load_explicit(&w->start, memory_order_acquire))
		arch_cpu_relax();
	c->poll_ns = w->poll_ns;
	arch_wait_for_interrupt();
	arch_irq_disable();
	/* release: pairs with the boot core's acquire load. */
	atomic_store_explicit(&w->waited, true, memory_order_release);
	while (!atomic_load_explicit(&w->home, memory_order_acquire))
		arch_cpu_relax();
}

static bool wait_flag(atomic_bool *f, uint64_t limit_ns)
{
	uint64_t t0 = kt_now_ns();

	/* acquire: pairs with the AP's release store. */
	while (!atomic_load_explicit(f, memory_order_acquire))
		if (kt_now_ns() - t0 > limit_ns)
			return false;
	return true;
}

static bool wait_state(const struct cpu *c, unsigned state)
{
	uint64_t t0 = kt_now_ns();

	while (idle_state(c) != state)
		if (kt_now_ns() - t0 > KT_LIMIT_NS)
			return false;
	return true;
}

/*
 * Post a waiter that polls for poll_ns to the AP and wait until it holds
 * before its wait; *done is the AP's count of calls done before.  Returns
 * the AP; fails the test if there is none or it does not answer.
 */
static struct cpu *kt_waiter_post(struct kt_waiter *w, uint64_t poll_ns,
				  unsigned *done)
{
	struct cpu *ap;

	KT_ASSERT(smp_cpus_online() > KT_AP);
	ap = cpu_get(KT_AP);
	KT_ASSERT(ap != NULL);
	*w = (struct kt_waiter){ .poll_ns = poll_ns };
	*done = kt_smp_calls_done(KT_AP);
	kt_smp_post(KT_AP, kt_waiter_run, w);
	KT_ASSERT(wait_flag(&w->holding, KT_LIMIT_NS));
	return ap;
}

/* Release the AP and wait until its service loop has it back. */
static bool kt_waiter_done(struct kt_waiter *w, unsigned done)
{
	uint64_t t0 = kt_now_ns();

	atomic_store_explicit(&w->home, true, memory_order_release);
	while (kt_smp_calls_done(KT_AP) == done)
		if (kt_now_ns() - t0 > KT_LIMIT_NS)
			return false;
	return true;
}

KTEST(idle_wake_of_a_polling_core_sends_no_ipi)
{
	static struct kt_waiter w;
	struct cpu *me = this_cpu(), *ap;
	struct trapstat mine, its;
	unsigned done;

	ap = kt_waiter_post(&w, KT_LONG_POLL_NS, &done);
	atomic_store_explicit(&w.start, true, memory_order_release);
	KT_ASSERT(wait_state(ap, WAKE_POLLING));
	mine = me->trapstat;
	its = ap->trapstat;
	smp_wake_cpu(ap);
	/* Well before the poll would run out on its own. */
	KT_ASSERT(wait_flag(&w.waited, KT_LONG_POLL_NS / 2));
	KT_ASSERT_EQ(me->trapstat.ipi, mine.ipi);
	KT_ASSERT_EQ(me->trapstat.ipi_saved, mine.ipi_saved + 1);
	KT_ASSERT_EQ(ap->trapstat.polled, its.polled + 1);
	KT_ASSERT_EQ(ap->trapstat.hlt, its.hlt);
	KT_ASSERT(kt_waiter_done(&w, done));
}

KTEST(idle_many_wakes_of_a_halted_core_send_one_ipi)
{
	static struct kt_waiter w;
	struct cpu *me = this_cpu(), *ap;
	struct trapstat mine, its;
	unsigned done;

	ap = kt_waiter_post(&w, 0, &done);
	atomic_store_explicit(&w.start, true, memory_order_release);
	KT_ASSERT(wait_state(ap, WAKE_SLEEPING));
	mine = me->trapstat;
	its = ap->trapstat;
	for (unsigned i = 0; i < KT_KICKS; i++)
		smp_wake_cpu(ap);
	KT_ASSERT(wait_flag(&w.waited, KT_LIMIT_NS));
	KT_ASSERT_EQ(me->trapstat.ipi, mine.ipi + 1);
	KT_ASSERT_EQ(me->trapstat.ipi_saved, mine.ipi_saved + KT_KICKS - 1);
	KT_ASSERT(ap->trapstat.hlt > its.hlt);
	KT_ASSERT_EQ(ap->trapstat.polled, its.polled);
	KT_ASSERT(kt_waiter_done(&w, done));
}

KTEST(idle_wake_before_the_wait_is_remembered)
{
	static struct kt_waiter w;
	struct cpu *me = this_cpu(), *ap;
	struct trapstat mine, its;
	unsigned done;

	ap = kt_waiter_post(&w, 0, &done);
	/* The AP holds before its wait, word at NONE: the wakeup is noted. */
	KT_ASSERT_EQ(idle_state(ap), WAKE_NONE);
	mine = me->trapstat;
	its = ap->trapstat;
	smp_wake_cpu(ap);
	KT_ASSERT_EQ(idle_state(ap), WAKE_PENDING);
	atomic_store_explicit(&w.start, true, memory_order_release);
	KT_ASSERT(wait_flag(&w.waited, KT_LIMIT_NS));
	KT_ASSERT_EQ(me->trapstat.ipi, mine.ipi);
	KT_ASSERT_EQ(ap->trapstat.hlt, its.hlt);
	KT_ASSERT_EQ(idle_state(ap), WAKE_NONE);
	KT_ASSERT(kt_waiter_done(&w, done));
}

static uint64_t timer_writes(void)
{
	return this_cpu()->trapstat.apic_write + this_cpu()->trapstat.msr_write;
}

KTEST(lapic_timer_rearm_of_the_same_deadline_writes_nothing)
{
	uint64_t far = kt_now_ns() + 10000 * NS_PER_MS, before;

	arch_irq_disable();
	before = timer_writes();
	arch_timer_arm(far);
	KT_ASSERT(timer_writes() > before);
	before = timer_writes();
	arch_timer_arm(far);
	KT_ASSERT_EQ(timer_writes(), before);
	/* Another deadline is programmed; so is disarming, once. */
	arch_timer_arm(far + NS_PER_MS);
	KT_ASSERT(timer_writes() > before);
	before = timer_writes();
	arch_timer_arm(UINT64_MAX);
	KT_ASSERT(timer_writes() > before);
	before = timer_writes();
	arch_timer_arm(UINT64_MAX);
	KT_ASSERT_EQ(timer_writes(), before);
}
