/*
 * remote.c - reaching into another core: kicks and NMI backtraces.
 *
 * arch_kick(index) sends VECTOR_KICK to the core bound to slot `index`;
 * its handler runs the runtime's kick handler there, as an interrupt of
 * whatever that core was doing (it takes back the tasks a long poll holds
 * in its batch).
 *
 * arch_print_remote_backtrace(index) asks that core for its stack with an
 * NMI, which arrives even when it spins with interrupts disabled: the
 * request is a per-core record (by bring-up number) set to ASKED, the
 * target's NMI handler walks the interrupted frame-pointer chain (within
 * its own stacks, as backtrace_print does) into the record and marks it
 * DONE (release; the asker's acquire load pairs), and the asker prints it
 * with symbols.  An NMI the asker gave up on still arrives later: each
 * record counts NMIs sent, so a late one is recognised and dropped
 * instead of taken for a hardware NMI (which reports and halts).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ksyms.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "clock.h"
#include "config.h"
#include "lib/fmt.h"

#define REMOTE_BT_MAX		24	/* return addresses kept */
#define REMOTE_BT_WALK_MAX	4096	/* frames walked at most */
#define REMOTE_BT_WAIT_NS	(100 * NS_PER_MS)

enum { BT_IDLE, BT_ASKED, BT_DONE };

struct remote_bt {
	atomic_int state;		/* BT_*: the asker and the target */
	atomic_uint sent;		/* NMIs sent for requests */
	unsigned handled;		/* target only */
	unsigned n;			/* written by the target before DONE */
	uint64_t pc[REMOTE_BT_MAX];
};

/* By bring-up number. */
static struct remote_bt remote_bt[MAX_CORES];
static atomic_uint backtraces_printed;

unsigned remote_backtraces(void)
{
	return atomic_load_explicit(&backtraces_printed, memory_order_relaxed);
}
static void (*kick_handler)(void);

void arch_set_kick_handler(void (*fn)(void))
{
	kick_handler = fn;
}

void arch_kick(unsigned index)
{
	uint32_t apic;

	if (!smp_slot_apic(index, &apic) || apic == this_cpu()->hwid)
		return;
	lapic_send_ipi(apic, VECTOR_KICK);
}

void kick_isr(struct trap_frame *f)
{
	(void)f;
	lapic_eoi();
	if (kick_handler)
		kick_handler();
}

bool nmi_backtrace_take(const struct trap_frame *f)
{
	const struct cpu *c = this_cpu();
	struct remote_bt *b = &remote_bt[c->number];
	unsigned sent = atomic_load_explicit(&b->sent, memory_order_relaxed);
	uint64_t rbp = f->rbp;
	unsigned n = 0;
	int expected;

	if (b->handled == sent)
		return false;		/* nobody asked: a real NMI */
	b->handled = sent;		/* NMIs merge: this one answers all */
	/* acquire: pairs with the asker's release CAS to ASKED. */
	if (atomic_load_explicit(&b->state, memory_order_acquire) != BT_ASKED)
		return true;		/* a late one, after the asker gave up */
	b->pc[n++] = f->rip;
	for (unsigned depth = 0; rbp && !(rbp & 7) &&
	     cpu_on_stack(c, rbp, 2 * sizeof(uint64_t)) &&
	     n < REMOTE_BT_MAX && depth < REMOTE_BT_WALK_MAX; depth++) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;

		if (frame[1] == 0)
			break;
		/* A return address points after the call: name the call. */
		b->pc[n++] = frame[1] - 1;
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	b->n = n;
	/* release: publishes pc[] and n; pairs with the asker's acquire.
	 * A CAS: the asker may have given up meanwhile (then it stays IDLE). */
	expected = BT_ASKED;
	atomic_compare_exchange_strong_explicit(&b->state, &expected, BT_DONE,
						memory_order_release,
						memory_order_relaxed);
	return true;
}

static void print_pc(unsigned i, uint64_t pc)
{
	char label[16];

	ksnprintf(label, sizeof(label), "  #%-2u ", i);
	fault_print_symbol(label, pc);
}

void arch_print_remote_backtrace(unsigned index)
{
	const struct clock *clk = arch_clock();
	uint32_t apic;
	int num, expected = BT_IDLE;
	struct remote_bt *b;
	uint64_t t0;

	if (!smp_slot_apic(index, &apic) || apic == this_cpu()->hwid ||
	    (num = smp_number_of_apic(apic)) < 0) {
		kprintf("  (no backtrace: slot %u is not another core)\n", index);
		return;
	}
	b = &remote_bt[num];
	/* release: orders the request before the NMI; pairs with the
	 * target's acquire load. */
	if (!atomic_compare_exchange_strong_explicit(&b->state, &expected,
						     BT_ASKED,
						     memory_order_release,
						     memory_order_relaxed)) {
		kprintf("  (no backtrace: another one of cpu%u is being taken)\n",
			index);
		return;
	}
	atomic_fetch_add_explicit(&b->sent, 1, memory_order_release);
	lapic_send_nmi(apic);
	t0 = clock_now(clk);
	/* acquire: pairs with the target's release store of DONE. */
	while (atomic_load_explicit(&b->state, memory_order_acquire) != BT_DONE) {
		expected = BT_ASKED;
		/* relaxed: withdrawing; a failed CAS means DONE came (the
		 * loop's acquire load then sees it). */
		if (clock_now(clk) - t0 > REMOTE_BT_WAIT_NS &&
		    atomic_compare_exchange_strong_explicit(&b->state, &expected,
							    BT_IDLE,
							    memory_order_relaxed,
							    memory_order_relaxed)) {
			kprintf("  (cpu%u did not answer the NMI within 100 ms)\n",
				index);
			return;
		}
		arch_cpu_relax();
	}
	kprintf("backtrace of cpu%u (taken by NMI):\n", index);
	for (unsigned i = 0; i < b->n; i++)
		print_pc(i, b->pc[i]);
	atomic_fetch_add_explicit(&backtraces_printed, 1, memory_order_relaxed);
	/* relaxed: the next asker's CAS starts a new request. */
	atomic_store_explicit(&b->state, BT_IDLE, memory_order_relaxed);
}
