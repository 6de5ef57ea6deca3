/*
 * trap.h - CPU exceptions and interrupt vectors.
 *
 * Every one of the 256 vectors has an assembly stub (isr.asm) that saves
 * all general registers into a struct trap_frame and calls
 * trap_dispatch().  Vectors 0-31 are CPU exceptions: they print the fault
 * report (fault.c) and halt, unless the exception is contained to the
 * task being polled (poll_guard.c).  Vectors 32-255 call the handler registered
 * with trap_set_handler() (the LAPIC timer and IPIs: lapic.h; device
 * IRQs: irq_register() in ioapic.h); an unregistered one is logged and
 * ignored.  An NMI after smp_stop_others() halts quietly.  #DF, NMI
 * and #MC run on their own IST stacks.  Reference: Intel SDM vol. 3
 * chapter 6 (interrupt and exception handling).
 */
#ifndef HYPHAE_X86_64_TRAP_H
#define HYPHAE_X86_64_TRAP_H

#include <stdbool.h>
#include <stdint.h>

#define TRAP_DE		0	/* divide error */
#define TRAP_DB		1	/* debug */
#define TRAP_NMI	2
#define TRAP_BP		3	/* breakpoint (int3) */
#define TRAP_OF		4
#define TRAP_BR		5
#define TRAP_UD		6	/* invalid opcode */
#define TRAP_NM		7
#define TRAP_DF		8	/* double fault */
#define TRAP_TS		10
#define TRAP_NP		11
#define TRAP_SS		12
#define TRAP_GP		13	/* general protection */
#define TRAP_PF		14	/* page fault */
#define TRAP_MF		16
#define TRAP_AC		17
#define TRAP_MC		18	/* machine check */
#define TRAP_XM		19
#define TRAP_VE		20
#define TRAP_CP		21
#define TRAP_EXCEPTIONS	32	/* vectors below this are CPU exceptions */
#define TRAP_VECTORS	256

/* Page-fault error code bits. */
#define PF_PRESENT	(1u << 0)	/* 0: page not present */
#define PF_WRITE	(1u << 1)
#define PF_USER		(1u << 2)
#define PF_RSVD		(1u << 3)	/* reserved bit set in a paging entry */
#define PF_FETCH	(1u << 4)	/* instruction fetch (NX) */

/* Saved by isr.asm, lowest address first; the CPU pushed rip..ss. */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error;
	uint64_t rip, cs, rflags, rsp, ss;
};

/*
 * Handle vector (32..255) with fn, called with interrupts disabled on the
 * interrupt's stack; fn sends any EOI itself.  Boot core, before the
 * vector can fire.  Returns 0, or -EINVAL for an exception vector.
 */
int trap_set_handler(unsigned vector, void (*fn)(struct trap_frame *f));

/* Called by isr.asm for every vector. */
void trap_dispatch(struct trap_frame *f);

/* The CPU exception path (fault.c): report, then halt. */
void fault_handle(struct trap_frame *f);

/* Short name of an exception vector ("#PF page fault"); "?" if unknown. */
const char *trap_name(unsigned vector);

/* Print "LABEL0x... <symbol+0x...>" for a code address.  Any context. */
void fault_print_symbol(const char *label, uint64_t addr);

/*
 * Print a frame-pointer backtrace starting at (rip, rbp), following frames
 * only while they lie on the calling core's known stacks.  Any context.
 */
void backtrace_print(uint64_t rip, uint64_t rbp);

/*
 * Recovery hooks; none by default, and fault_handle()/panic_at() halt the
 * core.  The in-kernel test harness installs them to resume itself.
 *   fault hook: called after an exception's report; returns true when it
 *     rewrote *f to resume elsewhere (the iretq then goes there).
 *   panic hook: called after a panic's report with the formatted message
 *     (cut at PANIC_MSG_MAX); does not return if it resumes.  While one is
 *     installed a panic does not stop the other cores.
 * Either calls fault_recovered() before resuming.  Boot core, before
 * anything can fault on purpose.
 */
void trap_set_fault_hook(bool (*hook)(struct trap_frame *f));
void panic_set_hook(void (*hook)(const char *msg));

/*
 * Context hook: called inside every fault report to print what the core
 * was running (the kernel prints the task being polled: name, id, spawn
 * site).  Boot core, before anything can fault.
 */
void trap_set_context_hook(void (*hook)(void));

/*
 * Per-task containment (poll_guard.c, arch_poll_call in arch.h).
 * fault_handle() asks poll_guard_refusal() after the report: NULL means
 * the exception is contained, and poll_guard_resume_frame() rewrites f so
 * its iretq returns ARCH_POLL_FAULTED from the innermost arch_poll_call;
 * else the reason it is not.  The test harness's hooks call
 * poll_guard_reset() when they resume elsewhere (no guard, no spinlock
 * held, no interrupt handler, no scheduler ticking on this core).
 */
const char *poll_guard_refusal(const struct trap_frame *f);
void poll_guard_resume_frame(struct trap_frame *f);
void poll_guard_reset(void);

/*
 * An NMI that arch_print_remote_backtrace() asked for (remote.c): records
 * the interrupted stack's return addresses and returns true; false for
 * any other NMI.  From trap_dispatch() only.
 */
bool nmi_backtrace_take(const struct trap_frame *f);

/* Backtraces arch_print_remote_backtrace() got and printed (tests). */
unsigned remote_backtraces(void);

/* The kick IPI's handler (remote.c; lapic_init registers it). */
void kick_isr(struct trap_frame *f);

#define PANIC_MSG_MAX	256

/* Leave the fault/panic state (console bypass) on this core. */
void fault_recovered(void);

/*
 * Write a string straight to the serial port: no lock, no formatting.
 * For a fault or panic inside a fault or panic report (console.c).
 */
void console_emergency_puts(const char *s);

/*
 * Hold the console's lock around a whole report (a contained fault's,
 * whose core holds no lock); false if another core kept it for 100 ms
 * (then the report goes out unlocked).  Interrupts off.
 */
bool console_hold(void);
void console_release(void);

#endif /* HYPHAE_X86_64_TRAP_H */
