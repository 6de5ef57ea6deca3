/*
 * kernel_rt.h - how the kernel's cores enter the runtime (kernel_rt.c).
 */
#ifndef HYPHAE_X86_64_KERNEL_RT_H
#define HYPHAE_X86_64_KERNEL_RT_H

struct runtime;

/* The kernel's runtime; NULL until the boot core reached kernel_main_loop. */
struct runtime *kernel_runtime(void);

/*
 * Spawn the kernel's first tasks (the shell).  Called once on the boot core
 * after it joined the runtime, before its loop starts.  Weak default: none.
 */
void kernel_spawn_initial_tasks(struct runtime *rt);

/*
 * An application processor's way into the runtime, called once its GDT,
 * IDT, LAPIC and per-core data are up, interrupts off.  Waits for the boot
 * core to publish the runtime, claims a slot, runs rt_core_run().  Never
 * returns.
 */
_Noreturn void ap_main_loop(void);

#endif /* HYPHAE_X86_64_KERNEL_RT_H */
