/*
 * bench_rt.h - what bench_rt.c shares with the workload files linked into
 * the same binary (rt_sync.c): spawning into the runtime, the main
 * thread's block_on and completion flag, and the timing loop.
 */
#ifndef HYPHAE_BENCH_BENCH_RT_H
#define HYPHAE_BENCH_BENCH_RT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "sched/task.h"

/* One iteration: returns false if it did not finish (timeout). */
typedef bool (*iter_fn)(void);

/* Warm up, time `iters` iterations (scaled), print `NAME  NS ns/iter`
 * (the median); false and a `# NAME DNF` line if one timed out. */
bool bench(const char *name, unsigned iters, iter_fn fn);

/* rt_spawn into the benchmark's runtime; aborts on failure. */
void spawn(const struct task_vtable *vt, const void *init, size_t size,
	   struct join_handle *jh);

/* Poll fn(arg) on the main thread until READY, parking in between;
 * false after the timeout. */
bool block_on(enum poll (*fn)(void *arg, struct context *cx), void *arg);

/* A task raises done_flag with signal_done(); the main thread resets it
 * (relaxed, before spawning) and block_on(done_poll)s.  `remaining` is a
 * countdown the workloads share the same way. */
extern atomic_bool done_flag;
extern atomic_uint remaining;
void signal_done(void);
enum poll done_poll(void *arg, struct context *cx);

/* The tokio::sync workloads (rt_sync.c). */
void bench_rt_sync(void);

#endif /* HYPHAE_BENCH_BENCH_RT_H */
