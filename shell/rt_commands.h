/*
 * rt_commands.h - the shell commands that look at or use the runtime:
 *   rt [-h]                     the runtime dump (rt_dump); -h: the
 *                               poll-time histograms (rt_dump_polls)
 *   watchdog [MS|off]           the stuck-poll watchdog's threshold
 *   tasks, jobs, kill           tasks.c
 *   dump rt | timer | ...       the runtime, the timer wheel, plus the
 *                               subcommands the caller adds (heap, arch)
 *   sleep DURATION              await a sleep on the runtime's timer
 *   spawn N [yield K] [sleep D] N tasks; time, per-core counts, steals
 *   bench                       in-kernel micro-benchmarks (bench.c)
 * sleep, spawn and bench are jobs (command.h): they run as tasks the
 * shell task awaits, and Ctrl-C cancels them.  Portable: the kernel
 * registers them on its runtime, host tests on a host runtime.
 */
#ifndef HYPHAE_SHELL_RT_COMMANDS_H
#define HYPHAE_SHELL_RT_COMMANDS_H

#include <stdint.h>

#include "compiler.h"
#include "shell/command.h"

struct runtime;

/* Most `dump` subcommands the caller may add. */
#define SHELL_DUMP_EXTRA_MAX	8
/* Limits of spawn's arguments. */
#define SHELL_SPAWN_MAX_TASKS	1000000u
#define SHELL_SPAWN_MAX_YIELDS	1000000u
#define SHELL_SPAWN_MAX_SLEEP_NS	(60ull * 1000000000ull)
/* The watchdog's largest threshold (an hour). */
#define SHELL_WATCHDOG_MAX_MS	3600000u
/* A long command prints its progress this often. */
#define SHELL_PROGRESS_NS	1000000000ull

/*
 * Register rt, dump, sleep, spawn and bench for runtime `rt` (the one
 * runtime the shell serves; a second call replaces it).  dump_extra: more
 * `dump` subcommands (an array ending at name == NULL), or NULL.  0 or
 * the shell_register() error.  Boot, before the shell runs.
 */
int __must_check shell_register_rt_commands(struct shell_commands *reg,
					     struct runtime *rt,
					     const struct shell_cmd *dump_extra);

/* spawn's arguments, parsed. */
struct shell_spawn_args {
	uint64_t tasks;
	uint64_t yields;	/* each task yields this often first */
	uint64_t sleep_ns;	/* then sleeps this long (0: not) */
};

/*
 * Parse `spawn N [yield K] [sleep D]` (argv[0] is the command; the two
 * options in any order, each at most once).  0, or -EINVAL / -ERANGE with
 * *why naming the problem.
 */
int __must_check shell_parse_spawn_args(int argc, char **argv,
					struct shell_spawn_args *a,
					const char **why);

/* The runtime the commands serve (NULL before registration). */
struct runtime *shell_runtime(void);

/* tasks.c: tasks, jobs and kill (shell_register_rt_commands calls it). */
int __must_check shell_register_task_commands(struct shell_commands *reg);

/* bench.c: the `bench` command's start handler. */
int shell_bench_start(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out, struct shell_job *job);

#endif /* HYPHAE_SHELL_RT_COMMANDS_H */
