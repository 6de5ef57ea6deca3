/*
 * arch_host.h - the host's hot arch.h hooks, inline (arch.h includes this
 * when the build defines ARCH_TARGET_HOST; arch/host/ defines the rest).
 *
 * A core is a thread, so its per-core data is one thread-local struct,
 * defined in arch/host/cpu.c: each hook is a load or store at a fixed
 * %fs offset.  Interrupts do not exist on the host: the flags and the
 * depth only keep the assertions about them honest (arch/host/cpu.c).
 */
#ifndef HYPHAE_ARCH_HOST_H
#define HYPHAE_ARCH_HOST_H

struct arch_host_cpu {
	void *local;		/* arch_cpu_local() */
	void *sched;		/* arch_cpu_sched() */
	int index;		/* arch_cpu_bind()'s slot; -1 before */
	unsigned irq_depth;	/* inside a kick's handler */
	unsigned locks_held;	/* spinlocks held (arch_lock_acquired) */
	unsigned long irq_flags;	/* 1: "interrupts enabled" */
};

extern _Thread_local struct arch_host_cpu arch_host_cpu;

/* A spinlock released that was never taken: panics (arch/host/poll.c). */
_Noreturn void arch_host_lock_underflow(void);

static inline void *arch_cpu_local(void)
{
	return arch_host_cpu.local;
}

static inline unsigned arch_cpu_index(void)
{
	return arch_host_cpu.index < 0 ? 0 : (unsigned)arch_host_cpu.index;
}

static inline unsigned long arch_irq_save(void)
{
	unsigned long old = arch_host_cpu.irq_flags;

	arch_host_cpu.irq_flags = 0;
	return old;
}

static inline void arch_irq_restore(unsigned long flags)
{
	arch_host_cpu.irq_flags = flags;
}

static inline void *arch_cpu_sched(void)
{
	return arch_host_cpu.sched;
}

static inline bool arch_in_interrupt(void)
{
	return arch_host_cpu.irq_depth > 0;
}

static inline void arch_lock_acquired(void)
{
	arch_host_cpu.locks_held++;
}

static inline void arch_lock_released(void)
{
	if (__builtin_expect(arch_host_cpu.locks_held == 0, 0))
		arch_host_lock_underflow();
	arch_host_cpu.locks_held--;
}

static inline unsigned arch_locks_held(void)
{
	return arch_host_cpu.locks_held;
}

static inline uint64_t arch_cycles(void)
{
	return __builtin_ia32_rdtsc();
}

#endif /* HYPHAE_ARCH_HOST_H */
