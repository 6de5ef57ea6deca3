/*
 * kt_aps.h - a test runtime on the application processors of the test
 * kernel, for the in-kernel tests that run tasks on every core.
 *
 * kt_aps_join() posts to each AP n (1..smp_cpus_online()-1, kt_smp.h) a
 * call that claims a slot of the runtime with cores[n] and runs
 * rt_core_run() until stopped; kt_aps_stop() stops them and waits until
 * every AP is back in its service loop.  The boot core may join the same
 * runtime first (rt_core_new with cores[0]) and run its own loop between
 * the two.  One runtime on the APs at a time.
 */
#ifndef HYPHAE_TESTS_KERNEL_KT_APS_H
#define HYPHAE_TESTS_KERNEL_KT_APS_H

#include <stdbool.h>
#include <stdint.h>

#include "rt/rt.h"

/*
 * Start cores[n] of rt on every AP n and wait until they are all active
 * cores of rt (with the boot core, if it joined rt); false if that takes
 * longer than limit_ns.  Boot core.
 */
bool kt_aps_join(struct runtime *rt, struct rt_core *cores, uint64_t limit_ns);

/*
 * Stop the APs' cores and wait until each AP has returned from its call;
 * false, with every slot's state logged, if one has not within limit_ns.
 * Boot core, after kt_aps_join().
 */
bool kt_aps_stop(uint64_t limit_ns);

#endif /* HYPHAE_TESTS_KERNEL_KT_APS_H */
