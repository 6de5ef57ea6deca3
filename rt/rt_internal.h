/*
 * rt_internal.h - private glue between the files of rt/: the core loop
 * and stealing (rt.c), the cores watching each other (watch.c), the dump
 * (dump.c).  Only rt/ includes it.
 */
#ifndef HYPHAE_RT_INTERNAL_H
#define HYPHAE_RT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rt/rt.h"

/* Slots claimed so far (some may still be initialising). */
unsigned rt_claimed(const struct runtime *rt);

/* Wake any one sleeping core (rt.c). */
void rt_wake_any(struct runtime *rt);

/* Make sure slot i notices work: wake it if it sleeps (rt.c). */
void rt_wake_slot(struct runtime *rt, unsigned i);

/* Move up to `want` tasks from slot `victim`'s queue to `core`; returns
 * how many (rt.c).  Owner of core only. */
size_t rt_steal_from(struct rt_core *core, struct rt_slot *victim, size_t want);

/* ---- watch.c ------------------------------------------------------------ */

/* Defaults and the kick handler; rt_init() calls it. */
void rt_watch_init(struct runtime *rt);

/* The batch hook of slot `arg`'s scheduler (sched_hooks.batch). */
void rt_slot_batch(void *arg);

/*
 * Going idle (before the idle protocol): look at the others; returns the
 * deadline to wake at for a batch that may need a kick (cycles,
 * UINT64_MAX for none), taking the watcher role if so, and the tasks
 * taken in *got (then it does not sleep).  After the sleep
 * rt_watch_woke() gives the role back.  Owner only.
 */
uint64_t rt_watch_before_idle(struct rt_core *core, size_t *got);
void rt_watch_woke(struct rt_core *core);

/* A core left idle with work: arm the watchdog's timer if it is not. */
void rt_watch_running(struct rt_core *core);

#endif /* HYPHAE_RT_INTERNAL_H */
