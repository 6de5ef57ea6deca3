/*
 * cpu.h - the per-core block every x86_64 core reaches through GS base.
 *
 * IA32_GS_BASE points at the core's struct cpu, whose first field points
 * at itself, so `mov %gs:0, reg` yields it in one instruction from any
 * context (interrupts included).  The block also holds the core's GDT and
 * TSS (whose IST slots give #DF, NMI and #MC their own stacks) and the
 * bounds of its stacks, which the backtrace uses to stay on valid memory.
 * SMP bring-up (smp.c) allocates one per AP and calls
 * cpu_init_ap() on it.  Reference: Intel SDM vol. 3 sections 3.4-3.5
 * (GDT), 7.7 (64-bit TSS), 6.14.5 (IST).
 */
#ifndef HYPHAE_X86_64_CPU_H
#define HYPHAE_X86_64_CPU_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

struct fmt_out;

/* GDT layout, the same on every core; boot.asm uses the same selectors. */
#define GDT_NULL	0
#define GDT_KCODE	1
#define GDT_KDATA	2
#define GDT_TSS		3	/* a 16-byte descriptor: two slots */
#define GDT_ENTRIES	5
#define SEL_KCODE	(GDT_KCODE * 8)
#define SEL_KDATA	(GDT_KDATA * 8)
#define SEL_TSS		(GDT_TSS * 8)

/* Interrupt stack table slots (1-based, as the IDT gate encodes them). */
#define IST_DF		1	/* double fault: the stack may be the problem */
#define IST_NMI		2
#define IST_MC		3	/* machine check */
#define IST_COUNT	3

/* The 64-bit TSS: only the stack pointers matter in long mode. */
struct tss {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} __packed;

/*
 * Operations that trap to the hypervisor when hyphae runs in a virtual
 * machine (VM exits under KVM; under a deprivileging backend such as PVM
 * even cli/sti do), counted per core by the code that executes them
 * (trapstat.h).  Each is bumped with one `incq %gs:...`, which an
 * interrupt on the same core cannot split; other cores read snapshots.
 */
struct trapstat {
	uint64_t irq_mask;	/* cli, sti, popf */
	uint64_t apic_read;	/* LAPIC register reads (xAPIC MMIO, x2APIC RDMSR) */
	uint64_t apic_write;	/* LAPIC register writes, EOI and ICR included */
	uint64_t msr_write;	/* other WRMSRs on hot paths (TSC deadline) */
	uint64_t hlt;
	uint64_t port_io;	/* IN/OUT (the serial console) */
	uint64_t ipi;		/* IPIs sent (their ICR writes count above too) */
	uint64_t ipi_saved;	/* wakeups that needed no IPI (the core polled
				 * or was already woken) */
	uint64_t polled;	/* waits a halt poll ended (no HLT) */
};

/* A stack: [bottom, top), with an unmapped guard page just below bottom. */
struct cpu_stack {
	uintptr_t bottom;
	uintptr_t top;
};

struct cpu {
	/* Read through %gs by any code on this core: offsets are ABI
	 * (static asserts in cpu.c). */
	struct cpu *self;		/* gs:0 */
	void *local;			/* gs:8, arch_cpu_local() */
	unsigned index;			/* gs:16, runtime slot (arch_cpu_bind) */
	uint32_t hwid;			/* APIC id */
	void *sched;			/* gs:24, arch_cpu_sched() */
	uint64_t poll_guard;		/* gs:32, RSP of the innermost
					 * arch_poll_call (poll_guard.asm); 0: none */
	unsigned locks_held;		/* gs:40, spinlocks held */
	unsigned irq_depth;		/* gs:44, interrupt handlers running */

	/* Written once by the core itself at bring-up. */
	unsigned number;		/* bring-up order: 0 is the boot core */
	struct cpu_stack stack;		/* the kernel stack it runs on */
	struct cpu_stack ist[IST_COUNT];	/* ist[IST_DF - 1] ... */
	uint64_t gdt[GDT_ENTRIES] __aligned(16);
	struct tss tss __aligned(16);

	/* Owner core only. */
	uint64_t timer_deadline;	/* arch_timer_arm(); UINT64_MAX: off */
	unsigned fault_depth;		/* >0 while a fault report is printed */
	uint64_t interrupts;		/* vectors >= 32 taken (trap_dispatch) */
	uint64_t wake_irqs;		/* of those, wakeup IPIs (lapic.c) */

	/* Owner core only, one instruction per update (trapstat.h). */
	struct trapstat trapstat;
	uint64_t poll_ns;		/* idle.c: the next wait's halt poll */

	/* Any core (wakers) and the owner: idle.c's wake word, on a line
	 * of its own so wakers do not bounce the owner's counters. */
	atomic_uint wake __aligned(CACHE_LINE);
};

/* The calling core's block.  Any context, after cpu_init_*(). */
static __always_inline struct cpu *this_cpu(void)
{
	struct cpu *c;

	__asm__ volatile("mov %%gs:0, %0" : "=r"(c));
	return c;
}

/*
 * Set up the boot core: its block, GS base, GDT, TSS with static IST
 * stacks (guarded), and load the IDT.  Boot core, first thing in kmain,
 * interrupts disabled.
 */
void cpu_init_boot(void);

/*
 * Set up another core's block with the given stacks (each from
 * kstack_alloc(), so guarded) and load GS base, GDT/TSS and the IDT.
 * Called on that core, once, interrupts off, already in long mode on the
 * kernel page tables (paging_load()) with EFER.NXE and CR0.WP set as
 * boot.asm sets them for the boot core.
 */
void cpu_init_ap(struct cpu *c, unsigned number, struct cpu_stack stack,
		 const struct cpu_stack ist[IST_COUNT]);

/* The block of the core brought up as `number`, NULL if none.  Any core. */
struct cpu *cpu_get(unsigned number);

/* True if [addr, addr+len) lies inside one of this core's stacks. */
bool cpu_on_stack(const struct cpu *c, uintptr_t addr, size_t len);

/* Load c's GDT and TSS on the calling core (gdt.c). */
void gdt_init_cpu(struct cpu *c);

/* Build the IDT once (idt.c); idt_load() on every core. */
void idt_init(void);
void idt_load(void);

/*
 * The shell's `dump arch`: this core's GDT (gdt.c), the IDT's gates and
 * IST use (idt.c), a CPUID leaf, a known MSR (-EINVAL and the list of
 * known ones for another), the control registers (cpu_dump.c).  Task
 * context, on the core to describe.
 */
void gdt_dump(const struct fmt_out *out);
void idt_dump(const struct fmt_out *out);
void cpu_dump_cpuid(const struct fmt_out *out, uint32_t leaf, uint32_t sub);
int __must_check cpu_dump_msr(const struct fmt_out *out, uint32_t num);
void cpu_dump_cr(const struct fmt_out *out);

/* True when the CPU has RDRAND / NX (CPUID, cached by cpu_init_boot()). */
bool cpu_has_rdrand(void);
bool cpu_has_nx(void);

#endif /* HYPHAE_X86_64_CPU_H */
