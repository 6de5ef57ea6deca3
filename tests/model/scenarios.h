/*
 * scenarios.h - every scenario the model checker runs, in order.
 *
 * One file per protocol, tests/model/scenario_<name>.c, each defining one
 * or more `const struct model_scenario` (with its mutations) and adding it
 * to MODEL_SCENARIOS below (docs/MODEL.md says what each checks).
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
extern const struct model_scenario scenario_steal_cancelled;
extern const struct model_scenario scenario_timer_cancel;
extern const struct model_scenario scenario_timer_poll;
extern const struct model_scenario scenario_wait_cell;
extern const struct model_scenario scenario_wait_queue;
extern const struct model_scenario scenario_oneshot;
extern const struct model_scenario scenario_oneshot_rx;
extern const struct model_scenario scenario_oneshot_rewake;
extern const struct model_scenario scenario_mutex;
extern const struct model_scenario scenario_sem;
extern const struct model_scenario scenario_sem_close;
extern const struct model_scenario scenario_chan;
extern const struct model_scenario scenario_chan_close;
extern const struct model_scenario scenario_trace;
extern const struct model_scenario scenario_trace_full;

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
	&scenario_steal_cancelled,					\
	&scenario_timer_cancel,						\
	&scenario_timer_poll,						\
	&scenario_wait_cell,						\
	&scenario_wait_queue,						\
	&scenario_oneshot,						\
	&scenario_oneshot_rx,						\
	&scenario_oneshot_rewake,					\
	&scenario_mutex,						\
	&scenario_sem,							\
	&scenario_sem_close,						\
	&scenario_chan,							\
	&scenario_chan_close,						\
	&scenario_trace,						\
	&scenario_trace_full

#endif /* HYPHAE_MODEL_SCENARIOS_H */
