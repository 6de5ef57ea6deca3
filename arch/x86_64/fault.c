/*
 * fault.c - the CPU exception report, and backtraces.
 *
 * Any exception (vectors 0-31) prints one report on serial: a header line
 * "FAULT: <name> (vector N) on cpuI", the error code (decoded for #PF),
 * RIP with its symbol, RSP, RFLAGS, CR2 for #PF and #DF, all general
 * registers, the core, a frame-pointer backtrace, the last log lines
 * (the log ring's tail), and halts: it never
 * returns to the faulting code and never reboots.  A #DF whose CR2 lies in
 * a stack's guard page is called what it almost always is, a kernel stack
 * overflow.  The report runs on the faulting core with the console lock
 * bypassed (the faulting code may hold it); a fault inside the report is
 * detected and only announced.  An exception raised by the task being
 * polled is contained to it (poll_guard.c): the report says so and the
 * core goes on; beyond FAULT_REPORT_BURST such reports a second they
 * shrink to two lines.  Otherwise a fault hook (trap.h, the test
 * harness's) may resume elsewhere instead of halting.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ksyms.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/trace.h"

/* Log lines (the log ring's tail) at the end of a report. */
#define REPORT_LOG_LINES	16
/* Distinct frames printed, and frames walked, before the backtrace stops. */
#define BACKTRACE_MAX		24
#define BACKTRACE_WALK_MAX	4096

static const char *const exception_names[TRAP_EXCEPTIONS] = {
	[TRAP_DE] = "#DE divide error",
	[TRAP_DB] = "#DB debug",
	[TRAP_NMI] = "NMI non-maskable interrupt",
	[TRAP_BP] = "#BP breakpoint",
	[TRAP_OF] = "#OF overflow",
	[TRAP_BR] = "#BR bound range exceeded",
	[TRAP_UD] = "#UD invalid opcode",
	[TRAP_NM] = "#NM device not available",
	[TRAP_DF] = "#DF double fault",
	[9] = "coprocessor segment overrun",
	[TRAP_TS] = "#TS invalid TSS",
	[TRAP_NP] = "#NP segment not present",
	[TRAP_SS] = "#SS stack-segment fault",
	[TRAP_GP] = "#GP general protection",
	[TRAP_PF] = "#PF page fault",
	[TRAP_MF] = "#MF x87 floating-point error",
	[TRAP_AC] = "#AC alignment check",
	[TRAP_MC] = "#MC machine check",
	[TRAP_XM] = "#XM SIMD floating-point error",
	[TRAP_VE] = "#VE virtualization exception",
	[TRAP_CP] = "#CP control protection",
	[28] = "#HV hypervisor injection",
	[29] = "#VC VMM communication",
	[30] = "#SX security exception",
};

const char *trap_name(unsigned vector)
{
	if (vector < TRAP_EXCEPTIONS && exception_names[vector])
		return exception_names[vector];
	return vector < TRAP_EXCEPTIONS ? "reserved exception" : "interrupt";
}

/* trap_set_fault_hook(); written before anything faults on purpose. */
static bool (*fault_hook)(struct trap_frame *f);
/* trap_set_context_hook(); written at boot. */
static void (*context_hook)(void);

void trap_set_fault_hook(bool (*hook)(struct trap_frame *f))
{
	fault_hook = hook;
}

void trap_set_context_hook(void (*hook)(void))
{
	context_hook = hook;
}

void fault_print_symbol(const char *label, uint64_t addr)
{
	const char *name;
	uint64_t off;

	if (ksyms_lookup(addr, &name, &off))
		kprintf("%s0x%016llx <%s+0x%llx>\n", label,
			(unsigned long long)addr, name, (unsigned long long)off);
	else
		kprintf("%s0x%016llx\n", label, (unsigned long long)addr);
}

void backtrace_print(uint64_t rip, uint64_t rbp)
{
	const struct cpu *c = this_cpu();
	unsigned depth = 0, printed = 1, repeats = 0;
	uint64_t last = 0;

	kprintf("backtrace:\n");
	fault_print_symbol("  #0  ", rip);
	/*
	 * Each frame is {saved rbp, return address}.  Frames only go up the
	 * stack, and only within this core's stacks, so a corrupt chain ends
	 * the walk instead of faulting.  Runs of the same return address
	 * (deep recursion) print once with a count.
	 */
	while (rbp && !(rbp & 7) && cpu_on_stack(c, rbp, 2 * sizeof(uint64_t)) &&
	       depth < BACKTRACE_WALK_MAX) {
		const uint64_t *frame = (const uint64_t *)(uintptr_t)rbp;
		char label[16];

		depth++;
		if (frame[1] == 0)
			break;
		if (frame[1] == last) {
			repeats++;
		} else {
			if (repeats)
				kprintf("  ... the frame above repeats %u more times\n",
					repeats);
			repeats = 0;
			if (++printed > BACKTRACE_MAX) {
				kprintf("  ... (deeper frames not shown)\n");
				return;
			}
			ksnprintf(label, sizeof(label), "  #%-2u ", depth);
			/* A return address points after the call: show the call. */
			fault_print_symbol(label, frame[1] - 1);
			last = frame[1];
		}
		if (frame[0] <= rbp)
			break;
		rbp = frame[0];
	}
	if (repeats)
		kprintf("  ... the frame above repeats %u more times\n", repeats);
}

static void print_pf_error(uint64_t err)
{
	kprintf("error  0x%llx (%s, %s, %s%s)\n", (unsigned long long)err,
		err & PF_PRESENT ? "protection violation" : "page not present",
		err & PF_FETCH ? "instruction fetch" :
			err & PF_WRITE ? "write" : "read",
		err & PF_USER ? "user" : "kernel",
		err & PF_RSVD ? ", reserved bit set" : "");
}

/* Name the stack whose guard page holds addr, if any. */
static void explain_guard_hit(const struct cpu *c, uint64_t addr)
{
	if (addr >= c->stack.bottom - PAGE_SIZE && addr < c->stack.bottom) {
		kprintf("cause  kernel stack overflow: 0x%llx is in the guard page "
			"below the stack [0x%llx, 0x%llx)\n",
			(unsigned long long)addr,
			(unsigned long long)c->stack.bottom,
			(unsigned long long)c->stack.top);
		return;
	}
	for (unsigned i = 0; i < IST_COUNT; i++)
		if (addr >= c->ist[i].bottom - PAGE_SIZE && addr < c->ist[i].bottom)
			kprintf("cause  IST%u stack overflow (guard page hit)\n", i + 1);
}

/* How the kernel page tables map addr (what a #PF ran into). */
static void print_mapping(uint64_t addr)
{
	uint64_t e;
	size_t size;

	if (!paging_lookup((uintptr_t)addr, &e, &size)) {
		kprintf("page   not mapped\n");
		return;
	}
	kprintf("page   %zu KiB at 0x%llx, %s%s%s (entry 0x%llx)\n", size >> 10,
		(unsigned long long)(addr & ~(uint64_t)(size - 1)), "r",
		e & PTE_WRITE ? "w" : "-", e & PTE_NX ? "-" : "x",
		(unsigned long long)e);
}

/*
 * Contained faults print their full report at most FAULT_REPORT_BURST
 * times per second, all cores together; the rest print two lines (where,
 * and the task), so a task that faults in a loop cannot hold the console
 * for seconds.  A fault that halts always prints in full.
 */
#define FAULT_REPORT_BURST	10

static _Atomic uint64_t report_window;	/* TSC when the current second began */
static atomic_uint report_count, report_skipped;

static bool report_allowed(unsigned *skipped)
{
	uint64_t now = rdtsc(), start = atomic_load_explicit(&report_window,
							     memory_order_relaxed);

	*skipped = 0;
	/* relaxed: a rate, not a protocol; a race only lets one more by. */
	if (now - start >= tsc_hz() &&
	    atomic_compare_exchange_strong_explicit(&report_window, &start, now,
						    memory_order_relaxed,
						    memory_order_relaxed)) {
		atomic_store_explicit(&report_count, 0, memory_order_relaxed);
		*skipped = atomic_exchange_explicit(&report_skipped, 0,
						    memory_order_relaxed);
	}
	if (atomic_fetch_add_explicit(&report_count, 1, memory_order_relaxed) <
	    FAULT_REPORT_BURST)
		return true;
	atomic_fetch_add_explicit(&report_skipped, 1, memory_order_relaxed);
	return false;
}

static void fault_report(const struct trap_frame *f)
{
	const struct cpu *c = this_cpu();
	uint64_t cr2 = read_cr2();

	kprintf("\n======== FAULT: %s (vector %llu) on cpu%u (apic %u) ========\n",
		trap_name((unsigned)f->vector), (unsigned long long)f->vector,
		c->index, c->hwid);
	if (f->vector == TRAP_PF)
		print_pf_error(f->error);
	else
		kprintf("error  0x%llx\n", (unsigned long long)f->error);
	fault_print_symbol("RIP    ", f->rip);
	kprintf("RSP    0x%016llx  RFLAGS 0x%016llx  CS 0x%llx  SS 0x%llx\n",
		(unsigned long long)f->rsp, (unsigned long long)f->rflags,
		(unsigned long long)f->cs, (unsigned long long)f->ss);
	if (f->vector == TRAP_PF || f->vector == TRAP_DF) {
		kprintf("CR2    0x%016llx%s\n", (unsigned long long)cr2,
			f->vector == TRAP_DF ? " (from the fault that caused it)" : "");
		explain_guard_hit(c, cr2);
		print_mapping(cr2);
	}
	kprintf("RAX 0x%016llx  RBX 0x%016llx  RCX 0x%016llx\n",
		(unsigned long long)f->rax, (unsigned long long)f->rbx,
		(unsigned long long)f->rcx);
	kprintf("RDX 0x%016llx  RSI 0x%016llx  RDI 0x%016llx\n",
		(unsigned long long)f->rdx, (unsigned long long)f->rsi,
		(unsigned long long)f->rdi);
	kprintf("RBP 0x%016llx  R8  0x%016llx  R9  0x%016llx\n",
		(unsigned long long)f->rbp, (unsigned long long)f->r8,
		(unsigned long long)f->r9);
	kprintf("R10 0x%016llx  R11 0x%016llx  R12 0x%016llx\n",
		(unsigned long long)f->r10, (unsigned long long)f->r11,
		(unsigned long long)f->r12);
	kprintf("R13 0x%016llx  R14 0x%016llx  R15 0x%016llx\n",
		(unsigned long long)f->r13, (unsigned long long)f->r14,
		(unsigned long long)f->r15);
	kprintf("CR0 0x%016llx  CR3 0x%016llx  CR4 0x%016llx\n",
		(unsigned long long)read_cr0(), (unsigned long long)read_cr3(),
		(unsigned long long)read_cr4());
	if (context_hook)
		context_hook();
	backtrace_print(f->rip, f->rbp);
	log_ring_print_tail(REPORT_LOG_LINES, arch_console_write);
}

void fault_handle(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	const char *why;

	if (c->fault_depth++ > 0) {
		console_emergency_puts("\nFAULT: another fault while reporting a "
				       "fault or panic; halting\n");
		halt_forever();
	}
	trace_fault((unsigned)f->vector);
	why = poll_guard_refusal(f);
	if (why == NULL) {
		/* Contained: this core holds no lock, so the report may hold
		 * the console's, and reports from several cores stay whole. */
		bool held = console_hold();
		unsigned skipped;

		if (report_allowed(&skipped)) {
			if (skipped)
				kprintf("\n(%u contained fault reports were shortened "
					"to two lines in the last second)", skipped);
			fault_report(f);
			kprintf("contained: the task ends, cpu%u goes on\n", c->index);
			kprintf("======== end of fault report ========\n");
		} else {
			kprintf("FAULT: %s at 0x%llx on cpu%u, contained (more than %u "
				"full reports this second)\n",
				trap_name((unsigned)f->vector),
				(unsigned long long)f->rip, c->index,
				FAULT_REPORT_BURST);
			if (context_hook)
				context_hook();
		}
		if (held)
			console_release();
		poll_guard_resume_frame(f);
		return;
	}
	fault_report(f);
	if (c->poll_guard)
		kprintf("not contained to the task: %s\n", why);
	kprintf("======== end of fault report ========\n");
	if (fault_hook && fault_hook(f))
		return;
	kprintf("cpu%u halted.\n", c->index);
	halt_forever();
}

void fault_recovered(void)
{
	this_cpu()->fault_depth = 0;
}
