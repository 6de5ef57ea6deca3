/*
 * arch_x86_64.h - the kernel's hot arch.h hooks, inline (arch.h includes
 * this when the build defines ARCH_TARGET_X86_64; arch/x86_64/ defines
 * the rest).
 *
 * GS base points at the core's struct cpu (arch/x86_64/cpu.h), so each
 * per-core hook is one instruction at a fixed offset from %gs, which an
 * interrupt on the same core cannot split.  The offsets are ABI between
 * this header, cpu.h and the assembly: arch/x86_64/cpu.c asserts each
 * against offsetof().  Masking interrupts counts itself in the core's
 * trapstat (arch/x86_64/trapstat.h: cli and sti trap under a
 * deprivileging hypervisor).
 */
#ifndef HYPHAE_ARCH_X86_64_H
#define HYPHAE_ARCH_X86_64_H

#define ARCH_X86_64_GS_LOCAL	8	/* struct cpu: local */
#define ARCH_X86_64_GS_INDEX	16	/* index */
#define ARCH_X86_64_GS_SCHED	24	/* sched */
#define ARCH_X86_64_GS_LOCKS	40	/* locks_held */
#define ARCH_X86_64_GS_IRQS	44	/* irq_depth */
#define ARCH_X86_64_GS_IRQ_MASK	312	/* trapstat.irq_mask */

#define ARCH_X86_64_RFLAGS_IF	(1ul << 9)

static inline void *arch_cpu_local(void)
{
	void *p;

	__asm__ volatile("mov %%gs:%c1, %0" : "=r"(p) : "i"(ARCH_X86_64_GS_LOCAL));
	return p;
}

static inline unsigned arch_cpu_index(void)
{
	unsigned i;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(i) : "i"(ARCH_X86_64_GS_INDEX));
	return i;
}

static inline unsigned long arch_irq_save(void)
{
	unsigned long flags;

	__asm__ volatile("pushfq; popq %0; cli; incq %%gs:%c1"
			 : "=r"(flags) : "i"(ARCH_X86_64_GS_IRQ_MASK)
			 : "memory", "cc");
	return flags & ARCH_X86_64_RFLAGS_IF;
}

static inline void arch_irq_restore(unsigned long flags)
{
	if (flags & ARCH_X86_64_RFLAGS_IF)
		__asm__ volatile("sti; incq %%gs:%c0"
				 : : "i"(ARCH_X86_64_GS_IRQ_MASK) : "memory", "cc");
}

static inline void *arch_cpu_sched(void)
{
	void *p;

	__asm__ volatile("mov %%gs:%c1, %0" : "=r"(p) : "i"(ARCH_X86_64_GS_SCHED));
	return p;
}

static inline bool arch_in_interrupt(void)
{
	unsigned n;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(n) : "i"(ARCH_X86_64_GS_IRQS));
	return n > 0;
}

static inline void arch_lock_acquired(void)
{
	__asm__ volatile("incl %%gs:%c0" : : "i"(ARCH_X86_64_GS_LOCKS)
			 : "memory", "cc");
}

static inline void arch_lock_released(void)
{
	__asm__ volatile("decl %%gs:%c0" : : "i"(ARCH_X86_64_GS_LOCKS)
			 : "memory", "cc");
}

static inline unsigned arch_locks_held(void)
{
	unsigned n;

	__asm__ volatile("movl %%gs:%c1, %0" : "=r"(n) : "i"(ARCH_X86_64_GS_LOCKS));
	return n;
}

static inline uint64_t arch_cycles(void)
{
	return __builtin_ia32_rdtsc();
}

#endif /* HYPHAE_ARCH_X86_64_H */
