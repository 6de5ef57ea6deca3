/*
 * idle.c - arch_wait_for_interrupt() and the wake word behind arch_wake():
 * halt polling before HLT, and no IPI to a core that does not need one.
 *
 * Each core's wake word (struct cpu.wake) is one of
 *   WAKE_NONE      running, or about to wait;
 *   WAKE_POLLING   waiting, polling the word with interrupts on;
 *   WAKE_SLEEPING  waiting in HLT (lapic_wait_for_interrupt);
 *   WAKE_PENDING   a wakeup came since the core last returned from a wait.
 * A waker exchanges it to PENDING and sends the wakeup IPI only if it was
 * SLEEPING; a core that polls sees the store, one that has not started to
 * wait returns from its next wait at once, one already woken needs
 * nothing.  The sleeper moves NONE -> SLEEPING with a compare-exchange,
 * interrupts off, just before `sti; hlt`.  Both sides are RMWs on one
 * word, so they are totally ordered: if the waker's comes first the
 * sleeper's fails and it does not halt; if it comes second it reads
 * SLEEPING and sends the IPI, which `sti; hlt` cannot miss (lapic.c).
 *
 * A wait first polls for poll_ns, adapted per core by the rule of KVM's
 * halt polling and Linux's guest haltpoll governor: a wait that ended
 * after the poll but within HALT_POLL_MAX_NS doubles the next poll (from
 * HALT_POLL_START_NS), one longer than that halves it (below the start:
 * no poll).  So a core woken often catches its wakeups polling (no IPI,
 * no HLT, no EOI: each a VM exit), and an idle one stops burning its
 * CPU.  The host arch does the same with a futex (arch/host/cpu.c).
 * Reference: Linux drivers/cpuidle/governors/haltpoll.c,
 * virt/kvm/kvm_main.c (grow_halt_poll_ns, shrink_halt_poll_ns).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idle.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/x86.h"
#include "compiler.h"
#include "clock.h"

/* pause, and a compiler barrier: the loop re-reads what handlers write. */
static inline void relax(void)
{
	__asm__ volatile("pause" : : : "memory");
}

static void poll_adapt(struct cpu *c, uint64_t waited_ns)
{
	if (waited_ns <= c->poll_ns)
		return;			/* the poll caught it */
	if (waited_ns > HALT_POLL_MAX_NS) {
		c->poll_ns /= 2;	/* a long wait: polling was waste */
		if (c->poll_ns < HALT_POLL_START_NS)
			c->poll_ns = 0;
	} else if (c->poll_ns < HALT_POLL_MAX_NS) {
		c->poll_ns = c->poll_ns ? MIN(c->poll_ns * 2, HALT_POLL_MAX_NS) :
			     HALT_POLL_START_NS;
	}
}

/*
 * Poll the wake word with interrupts on for up to c->poll_ns from
 * `start`.  Entered and left with interrupts off.  True when the wait is
 * over (a wakeup, or any interrupt); false when the poll ran out and the
 * word is back at WAKE_NONE.
 */
static bool halt_poll(struct cpu *c, const struct clock *clk, uint64_t start,
		      enum arch_wake_reason *why)
{
	unsigned expected = WAKE_NONE;
	uint64_t others = c->interrupts, wakes = c->wake_irqs;

	*why = ARCH_WOKE_IPI;	/* an arch_wake() found us polling */

	/* acq_rel: an RMW on the word, ordered with every waker's exchange;
	 * a failure means PENDING, consumed by the caller. */
	if (!atomic_compare_exchange_strong_explicit(&c->wake, &expected,
						     WAKE_POLLING,
						     memory_order_acq_rel,
						     memory_order_acquire))
		return true;
	sti();
	while (atomic_load_explicit(&c->wake, memory_order_relaxed) != WAKE_PENDING &&
	       c->interrupts == others && clock_now(clk) - start < c->poll_ns)
		relax();
	cli();
	TRAPSTAT_ADD(irq_mask, 2);
	expected = WAKE_POLLING;
	if (!atomic_compare_exchange_strong_explicit(&c->wake, &expected,
						     WAKE_NONE,
						     memory_order_acq_rel,
						     memory_order_acquire))
		return true;		/* PENDING */
	if (c->interrupts == others)
		return false;
	*why = lapic_wake_reason(c, others, wakes);
	return true;
}

enum arch_wake_reason arch_wait_for_interrupt(void)
{
	struct cpu *c = this_cpu();
	const struct clock *clk = arch_clock();
	uint64_t start = clock_now(clk);
	unsigned expected = WAKE_NONE;
	enum arch_wake_reason why = ARCH_WOKE_IPI;	/* a pending arch_wake() */
	bool halted = false;

	if (c->poll_ns && !lapic_timer_polling() && halt_poll(c, clk, start, &why)) {
		TRAPSTAT_INC(polled);
	} else if (atomic_compare_exchange_strong_explicit(&c->wake, &expected,
							   WAKE_SLEEPING,
							   memory_order_acq_rel,
							   memory_order_acquire)) {
		/* acq_rel: the sleeper's RMW of the file header.  Returns
		 * with interrupts on. */
		why = lapic_wait_for_interrupt();
		halted = true;
	}
	/* acquire: consumes a wakeup (pairs with idle_kick's exchange).  No
	 * handler touches the word, so interrupts may be on here: a wakeup
	 * that comes after it is remembered for the next wait. */
	atomic_exchange_explicit(&c->wake, WAKE_NONE, memory_order_acquire);
	if (!halted) {
		sti();
		TRAPSTAT_INC(irq_mask);
	}
	poll_adapt(c, clock_now(clk) - start);
	return why;
}

bool idle_kick(struct cpu *c)
{
	/* acq_rel: the waker's RMW of the file header; release publishes the
	 * work queued before it to the woken core. */
	return atomic_exchange_explicit(&c->wake, WAKE_PENDING,
					memory_order_acq_rel) == WAKE_SLEEPING;
}

unsigned idle_state(const struct cpu *c)
{
	return atomic_load_explicit(&((struct cpu *)c)->wake, memory_order_relaxed);
}

void idle_init_cpu(struct cpu *c)
{
	atomic_store_explicit(&c->wake, WAKE_NONE, memory_order_relaxed);
	c->poll_ns = 0;
}
