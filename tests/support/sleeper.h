/*
 * sleeper.h - a task that waits for one sleep and ends, for tests that
 * need a task parked on the timer (the registry's "sleeping" state, the
 * watchdog's idle cores).  Dropping it before the sleep fires cancels the
 * sleep.
 */
#ifndef HYPHAE_TESTS_SUPPORT_SLEEPER_H
#define HYPHAE_TESTS_SUPPORT_SLEEPER_H

#include "sched/task.h"
#include "timer/sleep.h"

/* The spawner initialises `sleep` (sleep_init_*) in the copy it spawns. */
struct sleeper_task {
	struct task task;
	unsigned pt;
	struct sleep sleep;
};

extern const struct task_vtable sleeper_task_vt;	/* named "sleeper" */

#endif /* HYPHAE_TESTS_SUPPORT_SLEEPER_H */
