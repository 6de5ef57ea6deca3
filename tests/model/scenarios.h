/*
 * scenarios.h - every scenario the model checker runs, in order.
 *
 * One file per protocol, tests/model/scenario_<name>.c, each defining one
 * or more `const struct model_scenario` (with its mutations) and adding it
 * to MODEL_SCENARIOS below.  The async mutex, semaphore and channel of the
 * sync issue (17) get theirs here too: scenario_mutex.c, scenario_sem.c,
 * scenario_chan.c, following scenario_sync.c (a waiter that registers its
 * waker and spins until woken, a waker, the end properties, a mutation
 * per primitive).
 */
#ifndef HYPHAE_MODEL_SCENARIOS_H
#define HYPHAE_MODEL_SCENARIOS_H

#include "tests/model/model.h"

extern const struct model_scenario scenario_mpsc;
extern const struct model_scenario scenario_task_wake;
extern const struct model_scenario scenario_task_cancel;
extern const struct model_scenario scenario_task_join;
extern const struct model_scenario scenario_task_detach;
extern const struct model_scenario scenario_task_kill;
extern const struct model_scenario scenario_idle_inject;
extern const struct model_scenario scenario_idle_wake;
extern const struct model_scenario scenario_idle_stop;
extern const struct model_scenario scenario_idle_timer;
extern const struct model_scenario scenario_steal;
extern const struct model_scenario scenario_timer_cancel;
extern const struct model_scenario scenario_timer_poll;
extern const struct model_scenario scenario_wait_cell;
extern const struct model_scenario scenario_wait_queue;
extern const struct model_scenario scenario_oneshot;

#define MODEL_SCENARIOS							\
	&scenario_mpsc,							\
	&scenario_task_wake,						\
	&scenario_task_cancel,						\
	&scenario_task_join,						\
	&scenario_task_detach,						\
	&scenario_task_kill,						\
	&scenario_idle_inject,						\
	&scenario_idle_wake,						\
	&scenario_idle_stop,						\
	&scenario_idle_timer,						\
	&scenario_steal,						\
	&scenario_timer_cancel,						\
	&scenario_timer_poll,						\
	&scenario_wait_cell,						\
	&scenario_wait_queue,						\
	&scenario_oneshot,						\
	/* issue 17: &scenario_mutex, &scenario_sem, &scenario_chan */

#endif /* HYPHAE_MODEL_SCENARIOS_H */
