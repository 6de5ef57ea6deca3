/*
 * start.c - the kernel's runtime: one struct runtime for the machine, its
 * clock the calibrated TSC, and every core's way into rt_core_run().
 *
 * The boot core gets here last in kmain() (kernel_start, interrupts off):
 * it initialises the runtime, installs it (and its timer) as the global
 * one, claims slot 0, waits for the other cores to join, starts the shell
 * (kernel_shell_start) and runs its loop.  Each application processor,
 * once its own per-core state is up, calls kernel_ap_start(): it waits for
 * the boot core to publish the runtime, claims the next slot and runs the
 * same loop.  Neither ever returns.
 */
#include <stdatomic.h>

#include "arch.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/x86.h"
#include "clock.h"
#include "kernel/kernel.h"
#include "lib/log.h"
#include "panic.h"
#include "rt/rt.h"

/* How long the boot core waits for the APs to join (see kernel_start). */
#define AP_JOIN_TIMEOUT_NS	NS_PER_SEC

/* Static: the slot array must exist before any allocator does. */
static struct runtime kernel_rt;
static struct rt_core boot_core;
/* Cores (the boot core included) that joined and logged it; the shell
 * starts after every online core has, so its prompt is the last line. */
static atomic_uint cores_joined;

/*
 * A core whose loop returned was stopped on purpose (rt_core_stop, e.g. the
 * shell's `halt`): its queued tasks go to the others (rt_core_run saw to
 * that); the core itself halts with interrupts off.
 */
static _Noreturn void kernel_core_stopped(struct rt_core *core)
{
	log_info("rt: cpu%u stopped", core->slot->index);
	arch_set_cpu_local(NULL);
	halt_forever();
}

void kernel_start(const struct mb2_info *mb)
{
	uint64_t t0;

	(void)mb;
	/* The shell's `rt`, `rt -h` and `tasks` show poll times: a TSC read
	 * per poll (sched_poll_timing_set; `timing off` in the shell). */
	sched_poll_timing_set(true);
	rt_init(&kernel_rt, arch_clock());
	/* Slot 0 first: APs claim theirs once the runtime is published. */
	rt_core_new(&boot_core, &kernel_rt);
	if (rt_set_global(&kernel_rt))
		panic("kernel_start: a global runtime or timer is already set");
	log_info("rt: cpu%u (apic %u) runs slot %u", arch_cpu_index(),
		 (unsigned)arch_cpu_hwid(), boot_core.slot->index);
	atomic_fetch_add_explicit(&cores_joined, 1, memory_order_relaxed);
	/* Every online core joins before the shell starts: the boot log
	 * lists them all before the prompt.  Bounded: a core that never
	 * joins is reported, not waited for. */
	t0 = clock_now(arch_clock());
	/* acquire: pairs with the release increment in kernel_ap_start(),
	 * after which that core's log line is out. */
	while (atomic_load_explicit(&cores_joined, memory_order_acquire) <
	       smp_cpus_online()) {
		if (clock_now(arch_clock()) - t0 > AP_JOIN_TIMEOUT_NS) {
			log_warn("rt: %u of %u online cores joined the runtime",
				 rt_active_cores(&kernel_rt), smp_cpus_online());
			break;
		}
		arch_cpu_relax();
	}
	kernel_shell_start(&kernel_rt);
	rt_core_run(&boot_core);
	kernel_core_stopped(&boot_core);
}

void kernel_ap_start(unsigned number)
{
	struct rt_core core;
	struct runtime *rt;

	(void)number;
	/* The boot core publishes the runtime with a release CAS
	 * (rt_set_global); rt_global() is the acquire that pairs with it. */
	while ((rt = rt_global()) == NULL)
		arch_cpu_relax();
	rt_core_new(&core, rt);
	log_info("rt: cpu%u (apic %u) joins the runtime", core.slot->index,
		 (unsigned)arch_cpu_hwid());
	/* release: our log line is written before the boot core goes on. */
	atomic_fetch_add_explicit(&cores_joined, 1, memory_order_release);
	rt_core_run(&core);
	kernel_core_stopped(&core);
}
