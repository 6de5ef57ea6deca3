/*
 * kt_aps.c - a test runtime on the application processors (kt_aps.h).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/smp.h"
#include "config.h"
#include "lib/log.h"
#include "rt/rt.h"
#include "sched/scheduler.h"
#include "tests/kernel/kt_aps.h"
#include "tests/kernel/kt_smp.h"
#include "tests/kernel/ktest.h"

/* Written by the boot core before it posts; kt_smp_post()'s release store
 * publishes them to the AP. */
static struct kt_aps_call {
	struct runtime *rt;
	struct rt_core *core;
} kt_aps_calls[MAX_CORES];
static struct runtime *kt_aps_rt;
static struct rt_core *kt_aps_cores;
static unsigned kt_aps_done[MAX_CORES];	/* calls done before the join */

/*
 * On AP n: join the runtime, run until stopped.  The slot it bound stays
 * bound to it (rebinding slot n here would steal it from a core still
 * running that slot); kt_smp_post() reaches APs by APIC id.
 */
static void kt_aps_run(void *arg)
{
	struct kt_aps_call *c = arg;

	rt_core_new(c->core, c->rt);
	rt_core_run(c->core);
	arch_irq_disable();
	arch_set_cpu_local(NULL);
}

bool kt_aps_join(struct runtime *rt, struct rt_core *cores, uint64_t limit_ns)
{
	unsigned online = smp_cpus_online();
	unsigned want = online - 1 + (rt_current_core() != NULL);
	uint64_t t0 = kt_now_ns();

	kt_aps_rt = rt;
	kt_aps_cores = cores;
	for (unsigned n = 1; n < online; n++) {
		kt_aps_done[n] = kt_smp_calls_done(n);
		kt_aps_calls[n] = (struct kt_aps_call){ rt, &cores[n] };
		kt_smp_post(n, kt_aps_run, &kt_aps_calls[n]);
	}
	while (rt_active_cores(rt) < want)
		if (kt_now_ns() - t0 > limit_ns)
			return false;
	return true;
}

/* For the post-mortem of a stop that timed out: who did not come back. */
static void kt_aps_log_slots(unsigned online)
{
	for (unsigned s = 0; s < online; s++) {
		struct rt_slot *sl = &kt_aps_rt->slots[s];

		log_warn("kt_aps: slot %u: state %d, apic %u, queued %llu", s,
			 atomic_load_explicit(&sl->state, memory_order_relaxed),
			 sl->hwid, (unsigned long long)sched_queued(&sl->sched));
	}
}

bool kt_aps_stop(uint64_t limit_ns)
{
	unsigned online = smp_cpus_online();
	uint64_t t0 = kt_now_ns();

	for (unsigned n = 1; n < online; n++)
		rt_core_stop(&kt_aps_cores[n]);
	for (unsigned n = 1; n < online; n++)
		while (kt_smp_calls_done(n) == kt_aps_done[n])
			if (kt_now_ns() - t0 > limit_ns) {
				kt_aps_log_slots(online);
				log_warn("kt_aps: AP %u did not leave its loop", n);
				return false;
			}
	return true;
}
