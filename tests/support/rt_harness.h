/*
 * rt_harness.h - run a struct runtime on N host threads (one per core) for
 * the rt and shell tests and the runtime benchmarks (bench_rt, bench_mem):
 * start, wait for a condition, stop, check the books.
 *
 * Each core is a pthread that claims a slot (rt_core_new) and runs
 * rt_core_run() until stopped.  A test may stop single cores early
 * (h_stop_core); h_stop() stops and joins the rest.  Assertions made on
 * core threads are counted by the tests, not raised (cmocka's asserts only
 * work on the test's own thread), and checked at the end.
 */
#ifndef HYPHAE_TESTS_SUPPORT_RT_HARNESS_H
#define HYPHAE_TESTS_SUPPORT_RT_HARNESS_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "rt/rt.h"
#include "sched/task.h"

struct harness;

struct h_core {
	struct harness *h;
	struct rt_core core;	/* the core thread's own, after rt_core_new */
	pthread_t thread;
	bool joined;		/* test thread only */
};

struct harness {
	struct runtime *rt;
	unsigned n;
	struct h_core cores[MAX_CORES];
	atomic_uint ready;	/* cores past rt_core_new */
};

/* A zeroed runtime on the host clock (rt_init), 64-byte aligned. */
struct runtime *h_runtime_new(void);

/*
 * Initialise `h` with a new runtime and start n core threads (n <=
 * MAX_CORES); returns once every core has claimed its slot.  Test thread.
 */
void h_start(struct harness *h, unsigned n);

/* Stop core i and wait for its thread to end.  Test thread, once per core. */
void h_stop_core(struct harness *h, unsigned i);

/* Stop and join every core not stopped by h_stop_core().  Test thread. */
void h_stop(struct harness *h);

/* Free the runtime; after h_stop().  Test thread. */
void h_free(struct harness *h);

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t h_now_ms(void);

/* Sleep the calling thread for `us` microseconds. */
void h_nap_us(unsigned us);

/* Wait until *v >= want or timeout_ms passes; true if reached. */
bool h_wait_for(atomic_uint *v, unsigned want, unsigned timeout_ms);

/* A task that adds one to *count when polled, and is done. */
struct h_count_task {
	struct task task;
	atomic_uint *count;
};
extern const struct task_vtable h_count_vt;

/* Sum of a scheduler counter over every slot of h. */
#define H_SUM(h, field) ({						\
	uint64_t s_ = 0;						\
	for (unsigned i_ = 0; i_ < (h)->n; i_++)			\
		s_ += atomic_load(&(h)->rt->slots[i_].field);		\
	s_; })

#endif /* HYPHAE_TESTS_SUPPORT_RT_HARNESS_H */
