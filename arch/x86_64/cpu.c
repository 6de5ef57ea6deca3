/*
 * cpu.c - per-core blocks and the per-core part of the arch.h contract.
 *
 * Each core's struct cpu is reached through IA32_GS_BASE (see cpu.h).  The
 * boot core's block and its IST stacks are static; APs get theirs from the
 * SMP bring-up.  Interrupt state is RFLAGS.IF (pushfq/cli), waiting is
 * `sti; hlt` (STI delays interrupts by one instruction, so no interrupt
 * can slip in between the two), random seeds come from RDRAND.
 *
 * Waking another core, the one-shot timer and the wait itself live with
 * the LAPIC (lapic.c: arch_timer_arm), the idle code (idle.c:
 * arch_wait_for_interrupt, halt polling) and SMP code (smp.c: arch_wake
 * through the slot -> core table that arch_cpu_bind fills).  Reference: Intel SDM vol. 3 section 6.8.3
 * (STI shadow), vol. 1 section 7.3.17 (RDRAND).
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idle.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "panic.h"
#include "clock.h"

_Static_assert(offsetof(struct cpu, self) == 0, "gs:0 is self");
_Static_assert(offsetof(struct cpu, local) == 8, "gs:8 is local");
_Static_assert(offsetof(struct cpu, index) == 16, "gs:16 is index");
_Static_assert(offsetof(struct cpu, sched) == 24, "gs:24 is sched");
_Static_assert(offsetof(struct cpu, poll_guard) == 32,
	       "gs:32 is poll_guard (poll_guard.asm)");
_Static_assert(offsetof(struct cpu, locks_held) == 40, "gs:40 is locks_held");
_Static_assert(offsetof(struct cpu, irq_depth) == 44, "gs:44 is irq_depth");
_Static_assert(sizeof(struct tss) == 104, "64-bit TSS is 104 bytes");

/* The offsets include/arch_x86_64.h's inline hooks use. */
_Static_assert(offsetof(struct cpu, local) == ARCH_X86_64_GS_LOCAL, "local");
_Static_assert(offsetof(struct cpu, index) == ARCH_X86_64_GS_INDEX, "index");
_Static_assert(offsetof(struct cpu, sched) == ARCH_X86_64_GS_SCHED, "sched");
_Static_assert(offsetof(struct cpu, locks_held) == ARCH_X86_64_GS_LOCKS,
	       "locks_held");
_Static_assert(offsetof(struct cpu, irq_depth) == ARCH_X86_64_GS_IRQS,
	       "irq_depth");
_Static_assert(offsetof(struct cpu, trapstat.irq_mask) ==
	       ARCH_X86_64_GS_IRQ_MASK, "trapstat.irq_mask");

/* RDRAND may transiently fail; Intel recommends 10 retries. */
#define RDRAND_RETRIES	10

/* A static stack in .bss.kstacks: guard page (unmapped by paging.c) + stack. */
struct kstack_static {
	uint8_t guard[PAGE_SIZE];
	uint8_t stack[KSTACK_SIZE];
};

static struct cpu boot_cpu;
/* By bring-up number; each entry written once by its core in cpu_setup()
 * (release), read by any core (acquire) for per-core statistics. */
static _Atomic(struct cpu *) cpu_table[MAX_CORES];
static struct kstack_static boot_ist_stacks[IST_COUNT]
	__section(".bss.kstacks") __aligned(PAGE_SIZE);

/* Defined in boot/boot.asm. */
extern uint8_t boot_stack_guard[], boot_stack_top[];

static bool have_rdrand;
static bool have_nx;

bool cpu_has_rdrand(void)
{
	return have_rdrand;
}

bool cpu_has_nx(void)
{
	return have_nx;
}

static uint32_t read_apic_id(void)
{
	/* CPUID.1:EBX[31:24] is the initial (x)APIC id, up to 255. */
	return cpuid(1, 0).ebx >> 24;
}

static void cpu_setup(struct cpu *c, unsigned number, struct cpu_stack stack,
		      const struct cpu_stack ist[IST_COUNT])
{
	c->self = c;
	c->local = NULL;
	c->index = 0;
	c->number = number;
	c->hwid = read_apic_id();
	c->stack = stack;
	for (unsigned i = 0; i < IST_COUNT; i++)
		c->ist[i] = ist[i];
	c->sched = NULL;
	c->poll_guard = 0;
	c->locks_held = 0;
	c->irq_depth = 0;
	c->timer_deadline = UINT64_MAX;
	c->fault_depth = 0;
	c->interrupts = 0;
	c->wake_irqs = 0;
	c->trapstat = (struct trapstat){ 0 };
	idle_init_cpu(c);
	if (number < MAX_CORES)
		/* release: publishes the cleared block; pairs with cpu_get(). */
		atomic_store_explicit(&cpu_table[number], c, memory_order_release);
	/* First: the console and the fault path read the block via GS. */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)c);
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	if (number == 0)
		idt_init();
	gdt_init_cpu(c);
	idt_load();
}

void cpu_init_boot(void)
{
	struct cpu_stack stack = {
		.bottom = (uintptr_t)boot_stack_guard + PAGE_SIZE,
		.top = (uintptr_t)boot_stack_top,
	};
	struct cpu_stack ist[IST_COUNT];
	struct cpuid_regs r = cpuid(1, 0);

	have_rdrand = r.ecx & CPUID_1_ECX_RDRAND;
	if (cpuid_max_ext() >= 0x80000001u)
		have_nx = cpuid(0x80000001u, 0).edx & CPUID_80000001_EDX_NX;
	for (unsigned i = 0; i < IST_COUNT; i++) {
		ist[i].bottom = (uintptr_t)boot_ist_stacks[i].stack;
		ist[i].top = ist[i].bottom + KSTACK_SIZE;
	}
	cpu_setup(&boot_cpu, 0, stack, ist);
}

void cpu_init_ap(struct cpu *c, unsigned number, struct cpu_stack stack,
		 const struct cpu_stack ist[IST_COUNT])
{
	cpu_setup(c, number, stack, ist);
}

struct cpu *cpu_get(unsigned number)
{
	if (number >= MAX_CORES)
		return NULL;
	/* acquire: pairs with the release store in cpu_setup(). */
	return atomic_load_explicit(&cpu_table[number], memory_order_acquire);
}

bool cpu_on_stack(const struct cpu *c, uintptr_t addr, size_t len)
{
	uintptr_t end = addr + len;

	if (end < addr)
		return false;
	if (addr >= c->stack.bottom && end <= c->stack.top)
		return true;
	for (unsigned i = 0; i < IST_COUNT; i++)
		if (addr >= c->ist[i].bottom && end <= c->ist[i].top)
			return true;
	return false;
}

/* ---- arch.h: per-core data ---------------------------------------------- */

/* The readers, the lock count and arch_irq_save/restore are inline in
 * include/arch_x86_64.h, over the offsets asserted above. */

void arch_set_cpu_local(void *p)
{
	__asm__ volatile("mov %0, %%gs:%c1" : : "r"(p), "i"(ARCH_X86_64_GS_LOCAL)
			 : "memory");
}

void arch_cpu_bind(unsigned index)
{
	__asm__ volatile("movl %0, %%gs:%c1" : : "r"(index),
			 "i"(ARCH_X86_64_GS_INDEX) : "memory");
	smp_bind(index, this_cpu());
}

uint32_t arch_cpu_hwid(void)
{
	return this_cpu()->hwid;
}

/* ---- arch.h: the scheduler's per-core hooks ----------------------------- */

void arch_set_cpu_sched(void *s)
{
	__asm__ volatile("mov %0, %%gs:%c1" : : "r"(s), "i"(ARCH_X86_64_GS_SCHED)
			 : "memory");
}

uint64_t arch_cycles_to_ns(uint64_t cycles)
{
	return tsc_to_ns(cycles);
}

uint64_t arch_ns_to_cycles(uint64_t ns)
{
	uint64_t hz = tsc_hz();

	/* Whole seconds, then the rest: (ns % 1 s) * hz fits 64 bits below
	 * 9 GHz, and no 128-bit division is needed (none freestanding). */
	return ns / NS_PER_SEC * hz + ns % NS_PER_SEC * hz / NS_PER_SEC;
}

/* ---- arch.h: interrupts ------------------------------------------------- */

void arch_irq_disable(void)
{
	cli();
	TRAPSTAT_INC(irq_mask);
}

void arch_irq_enable(void)
{
	sti();
	TRAPSTAT_INC(irq_mask);
}

/* ---- arch.h: idle and wakeup -------------------------------------------- */

void arch_wake(unsigned index)
{
	smp_wake(index);
}

void arch_timer_arm(uint64_t deadline)
{
	lapic_timer_arm(deadline);
}

void arch_cpu_relax(void)
{
	__builtin_ia32_pause();
}

uint64_t arch_trace_stamp(void)
{
	return rdtsc();
}

/* ---- arch.h: randomness ------------------------------------------------- */

/* splitmix64's finaliser: spreads a weak seed over all 64 bits. */
static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

uint64_t arch_random_seed(void)
{
	static atomic_ullong counter;
	uint64_t v;

	if (have_rdrand)
		for (int i = 0; i < RDRAND_RETRIES; i++)
			if (rdrand64(&v))
				return v;
	/* relaxed: only makes two calls in the same TSC tick differ. */
	v = atomic_fetch_add_explicit(&counter, 0x9e3779b97f4a7c15ull,
				      memory_order_relaxed);
	return mix64(rdtsc() ^ v ^ ((uint64_t)arch_cpu_hwid() << 32));
}
