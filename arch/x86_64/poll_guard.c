/*
 * poll_guard.c - which CPU exceptions end only the task being polled.
 *
 * arch_poll_call() (poll_guard.asm) arms a recovery point per poll.  When
 * an exception comes, fault_handle() prints the full report and asks
 * poll_guard_contain(): the exception is contained if it is one a task's
 * own code raises (#DE, #UD, #GP, #PF, #BP, #SS), a guard is armed, and
 * the core was running that poll's code, not something it must not leave
 * half done: no interrupt handler is running (irq_depth), no spinlock is
 * held (locks_held, include/spinlock.h), interrupts were enabled, and the
 * faulting stack lies below the guard's frame.  #DF, #MC and NMI run on
 * their own stacks and are never contained.  Containing rewrites the trap
 * frame so iretq resumes in arch_poll_call, which returns
 * ARCH_POLL_FAULTED; the poll's frames are abandoned in place.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"

#define RFLAGS_RESERVED	(1ull << 1)	/* always 1 */

extern const char poll_guard_resume[];

static bool contained_vector(uint64_t v)
{
	return v == TRAP_DE || v == TRAP_UD || v == TRAP_GP || v == TRAP_PF ||
	       v == TRAP_BP || v == TRAP_SS;
}

const char *poll_guard_refusal(const struct trap_frame *f)
{
	const struct cpu *c = this_cpu();

	if (c->poll_guard == 0)
		return "no task was being polled";
	if (!contained_vector(f->vector))
		return "this exception always halts";
	if (c->irq_depth > 0)
		return "it came from an interrupt handler";
	if (c->locks_held > 0)
		return "a spinlock is held";
	if (!(f->rflags & RFLAGS_IF))
		return "interrupts were disabled";
	if (f->cs != SEL_KCODE || f->rsp >= c->poll_guard)
		return "the stack is not the poll's";
	return NULL;
}

void poll_guard_resume_frame(struct trap_frame *f)
{
	const struct cpu *c = this_cpu();

	f->rsp = c->poll_guard;
	f->rip = (uint64_t)(uintptr_t)poll_guard_resume;
	f->rflags = RFLAGS_RESERVED | RFLAGS_IF;
	f->cs = SEL_KCODE;
	f->ss = SEL_KDATA;
	fault_recovered();
}

void poll_guard_reset(void)
{
	struct cpu *c = this_cpu();

	c->poll_guard = 0;
	c->locks_held = 0;
	c->irq_depth = 0;
	c->sched = NULL;
}
