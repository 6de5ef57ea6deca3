/*
 * rt_commands.c - rt, dump, sleep and spawn (see rt_commands.h).
 *
 * sleep and spawn are jobs: the start handler checks the arguments and
 * spawns a task that does the waiting, the shell task awaits it.  Their
 * state lives in the job's task struct; drop_state releases it whether
 * the job finished or was cancelled.  rt_dump() and timer_dump() write
 * through a plain function, so a file-static pointer routes them to the
 * shell's output (one shell task runs one command at a time).
 */
#include "clock.h"
#include "errno.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "shell/batch.h"
#include "shell/rt_commands.h"
#include "timer/sleep.h"

/* Children spawned per poll of the spawn job before it yields. */
#define SPAWN_BATCH	256

static struct runtime *shell_rt;
static const struct shell_out *dump_out;

struct runtime *shell_runtime(void)
{
	return shell_rt;
}

/* Nanoseconds on clk since tick `since` (saturating). */
static uint64_t ns_since(const struct clock *clk, ticks_t since)
{
	uint64_t ns;

	if (clock_ticks_to_ns(clk, clock_now(clk) - since, &ns) != 0)
		return UINT64_MAX;
	return ns;
}

static void dump_write(const char *s, size_t n)
{
	shell_write(dump_out, s, n);
}

static int cmd_rt(const struct shell_cmd *cmd, int argc, char **argv,
		  const struct shell_out *out)
{
	(void)cmd;
	dump_out = out;
	if (argc > 1 && strcmp(argv[1], "-h") != 0) {
		shell_printf(out, "error: rt: unknown flag '%s' (-h: poll-time histograms)\n",
			     argv[1]);
		return -EINVAL;
	}
	if (argc > 1)
		rt_dump_polls(shell_rt, dump_write);
	else
		rt_dump(shell_rt, dump_write);
	return 0;
}

/* ---- watchdog ---------------------------------------------------------------- */

static int cmd_watchdog(const struct shell_cmd *cmd, int argc, char **argv,
			const struct shell_out *out)
{
	uint64_t ms;
	const char *why = "";

	(void)cmd;
	if (argc > 1 && strcmp(argv[1], "off") == 0) {
		rt_watchdog_set(shell_rt, 0);
	} else if (argc > 1) {
		if (shell_parse_u64(argv[1], 1, SHELL_WATCHDOG_MAX_MS, &ms, &why) < 0) {
			/* One line: the value, and what would do. */
			shell_printf(out, "error: watchdog: '%s': not a number of "
				     "milliseconds from 1 to %u, or 'off'\n",
				     argv[1], SHELL_WATCHDOG_MAX_MS);
			return -EINVAL;
		}
		rt_watchdog_set(shell_rt, ms * NS_PER_MS);
	}
	ms = rt_watchdog_get(shell_rt) / NS_PER_MS;
	if (ms)
		shell_printf(out, "watchdog: a poll running over %llu ms is reported\n",
			     (unsigned long long)ms);
	else
		shell_puts(out, "watchdog: off\n");
	return 0;
}

/* ---- timing ----------------------------------------------------------------- */

static int cmd_timing(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out)
{
	(void)cmd;
	if (argc > 1 && strcmp(argv[1], "on") == 0) {
		sched_poll_timing_set(true);
	} else if (argc > 1 && strcmp(argv[1], "off") == 0) {
		sched_poll_timing_set(false);
	} else if (argc > 1) {
		shell_printf(out, "error: timing: '%s': say on or off\n", argv[1]);
		return -EINVAL;
	}
	shell_printf(out, "poll timing: %s\n", sched_poll_timing() ?
		     "on (each poll reads the TSC: rt's longest poll, rt -h, "
		     "tasks' busy time)" : "off");
	return 0;
}

static int cmd_dump_timer(const struct shell_cmd *cmd, int argc, char **argv,
			  const struct shell_out *out)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	dump_out = out;
	timer_dump(&shell_rt->timer, dump_write);
	return 0;
}

/* ---- sleep ---------------------------------------------------------------- */

struct sleep_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct sleep sleep;
	ticks_t start;
	uint64_t asked_ns;
};

static enum poll sleep_job_poll(struct task *t, struct context *cx)
{
	struct sleep_job *j = container_of(t, struct sleep_job, task);
	const struct clock *clk = j->sleep.timer->clock;
	uint64_t ns;
	char got[24], asked[24];

	TASK_BEGIN(j->pt);
	TASK_AWAIT(sleep_poll(&j->sleep, cx));
	ns = ns_since(clk, j->start);
	shell_printf(&j->out, "slept %s (asked %s)\n",
		     fmt_ns(got, sizeof(got), ns),
		     fmt_ns(asked, sizeof(asked), j->asked_ns));
	j->status = 0;
	TASK_END;
}

static void sleep_job_drop_state(struct task *t)
{
	sleep_drop(&container_of(t, struct sleep_job, task)->sleep);
}

static const struct task_vtable sleep_job_vt = {
	.poll = sleep_job_poll,
	.drop_state = sleep_job_drop_state,
	TASK_OUTPUT(struct sleep_job, status),
	.name = "sleep",
};

static int start_sleep(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out, struct shell_job *job)
{
	struct sleep_job init = { .out = *out };
	const char *why = "";
	int err;

	(void)argc;
	if (shell_parse_duration(argv[1], &init.asked_ns, &why) < 0)
		return shell_usage_error(out, cmd, "'%s': %s", argv[1], why);
	init.start = clock_now(shell_rt->timer.clock);
	if (sleep_init_duration(&init.sleep, &shell_rt->timer, init.asked_ns) < 0)
		return shell_usage_error(out, cmd, "'%s': too long for the clock",
					 argv[1]);
	err = rt_spawn(shell_rt, &sleep_job_vt, &init, sizeof(init), &job->jh);
	if (err) {
		shell_printf(out, "error: sleep: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

/* ---- spawn ---------------------------------------------------------------- */

int shell_parse_spawn_args(int argc, char **argv, struct shell_spawn_args *a,
			   const char **why)
{
	bool have_yield = false, have_sleep = false;
	int err;

	memset(a, 0, sizeof(*a));
	if (argc < 2) {
		*why = "how many tasks?";
		return -EINVAL;
	}
	err = shell_parse_u64(argv[1], 1, SHELL_SPAWN_MAX_TASKS, &a->tasks, why);
	if (err == -ERANGE)
		*why = "N must be 1 to 1000000";	/* SHELL_SPAWN_MAX_TASKS */
	if (err)
		return err;
	for (int i = 2; i < argc; i += 2) {
		bool is_yield = strcmp(argv[i], "yield") == 0;

		if (!is_yield && strcmp(argv[i], "sleep") != 0) {
			*why = "expected 'yield K' or 'sleep D'";
			return -EINVAL;
		}
		if ((is_yield && have_yield) || (!is_yield && have_sleep)) {
			*why = is_yield ? "'yield' given twice" : "'sleep' given twice";
			return -EINVAL;
		}
		if (i + 1 >= argc) {
			*why = is_yield ? "'yield' needs a count" :
				"'sleep' needs a duration";
			return -EINVAL;
		}
		if (is_yield) {
			have_yield = true;
			err = shell_parse_u64(argv[i + 1], 0, SHELL_SPAWN_MAX_YIELDS,
					      &a->yields, why);
			if (err == -ERANGE)
				*why = "K must be at most 1000000"; /* ..._MAX_YIELDS */
		} else {
			have_sleep = true;
			err = shell_parse_duration(argv[i + 1], &a->sleep_ns, why);
			if (err == 0 && a->sleep_ns > SHELL_SPAWN_MAX_SLEEP_NS) {
				*why = "sleep longer than 60s";
				err = -ERANGE;
			}
		}
		if (err)
			return err;
	}
	return 0;
}

struct spawn_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct shell_spawn_args args;
	struct shell_batch *batch;
	uint64_t i;
	ticks_t start, last_progress;
	uint64_t stolen_before;
	struct timeout tick;		/* progress reports while waiting */
	bool tick_armed;
	bool quiet;			/* in the background: no progress */
};

static uint64_t total_stolen(struct runtime *rt)
{
	unsigned n = rt_active_cores(rt);
	uint64_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += atomic_load_explicit(&rt->slots[i].sched.stolen_in,
					    memory_order_relaxed);
	return sum;
}

static void spawn_report(struct spawn_job *j)
{
	struct runtime *rt = j->batch->rt;
	const struct clock *clk = rt->clock;
	uint64_t ns = ns_since(clk, j->start);
	uint64_t stolen = total_stolen(rt) - j->stolen_before;
	unsigned n = rt_active_cores(rt), used = 0;
	char took[24], per[24];

	for (unsigned c = 0; c < n; c++)
		used += atomic_load_explicit(&j->batch->per_core[c],
					     memory_order_relaxed) > 0;
	shell_printf(&j->out, "spawn: %llu tasks done in %s (%s per task) on %u of %u cores\n",
		     (unsigned long long)j->args.tasks,
		     fmt_ns(took, sizeof(took), ns),
		     fmt_ns(per, sizeof(per), ns / j->args.tasks), used, n);
	shell_puts(&j->out, "  core    tasks\n");
	for (unsigned c = 0; c < n; c++)
		shell_printf(&j->out, "  %4u %8u\n", c,
			     atomic_load_explicit(&j->batch->per_core[c],
						  memory_order_relaxed));
	shell_printf(&j->out, "  steals: %llu tasks moved between cores\n",
		     (unsigned long long)stolen);
}

/* At most once per SHELL_PROGRESS_NS: how far the spawn has come (not
 * for a background job, whose lines would cut into the prompt). */
static void spawn_progress(struct spawn_job *j)
{
	const struct clock *clk = j->batch->rt->clock;

	if (j->quiet)
		return;

	if (ns_since(clk, j->last_progress) < SHELL_PROGRESS_NS)
		return;
	j->last_progress = clock_now(clk);
	shell_printf(&j->out, "  ... %llu spawned, %llu of %llu done\n",
		     (unsigned long long)j->i,
		     (unsigned long long)shell_batch_done_count(j->batch),
		     (unsigned long long)j->args.tasks);
}

static enum poll spawn_job_poll(struct task *t, struct context *cx)
{
	struct spawn_job *j = container_of(t, struct spawn_job, task);

	TASK_BEGIN(j->pt);
	j->start = j->last_progress = clock_now(j->batch->rt->clock);
	j->stolen_before = total_stolen(j->batch->rt);
	for (j->i = 0; j->i < j->args.tasks; j->i++) {
		if (shell_batch_spawn(j->batch) != 0) {
			shell_printf(&j->out, "spawn: out of memory after %llu tasks\n",
				     (unsigned long long)j->i);
			shell_batch_forget(j->batch, j->args.tasks - j->i);
			j->args.tasks = j->i;
			break;
		}
		if ((j->i + 1) % SPAWN_BATCH == 0) {
			spawn_progress(j);
			TASK_YIELD();
		}
	}
	for (;;) {
		if (timeout_init(&j->tick, &j->batch->rt->timer, SHELL_PROGRESS_NS,
				 shell_batch_poll, j->batch) != 0)
			break;
		j->tick_armed = true;
		TASK_AWAIT(timeout_poll(&j->tick, cx) == TIMEOUT_PENDING ?
			   POLL_PENDING : POLL_READY);
		if (j->tick.result == TIMEOUT_COMPLETED)
			break;
		spawn_progress(j);
	}
	if (j->tick_armed)
		timeout_drop(&j->tick);
	j->tick_armed = false;
	/* The timeout could not be armed: wait without progress reports. */
	TASK_AWAIT(shell_batch_poll(j->batch, cx));
	if (j->args.tasks)
		spawn_report(j);
	j->status = 0;
	TASK_END;
}

static void spawn_job_drop_state(struct task *t)
{
	struct spawn_job *j = container_of(t, struct spawn_job, task);

	if (j->tick_armed)
		timeout_drop(&j->tick);
	shell_batch_release(j->batch);
}

static const struct task_vtable spawn_job_vt = {
	.poll = spawn_job_poll,
	.drop_state = spawn_job_drop_state,
	TASK_OUTPUT(struct spawn_job, status),
	.name = "spawn",
};

static int start_spawn(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out, struct shell_job *job)
{
	struct spawn_job init = { .out = *out, .quiet = job->background };
	const char *why = "";
	int err;

	if (shell_parse_spawn_args(argc, argv, &init.args, &why) < 0)
		return shell_usage_error(out, cmd, "%s", why);
	init.batch = shell_batch_new(shell_rt, init.args.tasks, init.args.yields,
				     init.args.sleep_ns);
	if (init.batch == NULL) {
		shell_puts(out, "error: spawn: out of memory\n");
		return -ENOMEM;
	}
	err = rt_spawn(shell_rt, &spawn_job_vt, &init, sizeof(init), &job->jh);
	if (err) {
		shell_batch_release(init.batch);
		shell_printf(out, "error: spawn: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

/* ---- the table ------------------------------------------------------------ */

static struct shell_cmd dump_subs[3 + SHELL_DUMP_EXTRA_MAX + 1];

static const struct shell_cmd dump_base[] = {
	{ .name = "rt", .help = "the runtime: cores, queues, counters, timer",
	  .usage = "dump rt", .run = cmd_rt },
	{ .name = "timer", .help = "the timer wheel: entries per level, next deadline",
	  .usage = "dump timer", .run = cmd_dump_timer },
};

static const struct shell_cmd rt_cmds[] = {
	{ .name = "rt", .help = "the runtime: cores, queues, counters, poll times, timer",
	  .usage = "rt [-h]  (-h: poll-time histograms)", .run = cmd_rt,
	  .max_args = 1 },
	{ .name = "watchdog", .help = "report polls longer than MS ms (default 100)",
	  .usage = "watchdog [MS|off]", .run = cmd_watchdog, .max_args = 1 },
	{ .name = "timing", .help = "time every poll (poll times, busy times): on at boot",
	  .usage = "timing [on|off]", .run = cmd_timing, .max_args = 1 },
	{ .name = "dump", .help = "print the state of a part of the kernel",
	  .usage = "dump WHAT [ARGS...]", .subcmds = dump_subs },
	{ .name = "sleep", .help = "sleep on the global timer, print the time slept",
	  .usage = "sleep DURATION (e.g. 50ms, 2s, 500us)", .start = start_sleep,
	  .min_args = 1, .max_args = 1 },
	{ .name = "spawn", .help = "spawn N tasks and report where they ran",
	  .usage = "spawn N [yield K] [sleep D]", .start = start_spawn,
	  .min_args = 1, .max_args = 5 },
	{ .name = "bench", .help = "micro-benchmarks of the running runtime",
	  .usage = "bench", .start = shell_bench_start },
};

int shell_register_rt_commands(struct shell_commands *reg, struct runtime *rt,
			       const struct shell_cmd *dump_extra)
{
	size_t n = 0;

	shell_rt = rt;
	memset(dump_subs, 0, sizeof(dump_subs));
	for (size_t i = 0; i < ARRAY_SIZE(dump_base); i++)
		dump_subs[n++] = dump_base[i];
	for (size_t i = 0; dump_extra && dump_extra[i].name &&
	     i < SHELL_DUMP_EXTRA_MAX; i++)
		dump_subs[n++] = dump_extra[i];
	for (size_t i = 0; i < ARRAY_SIZE(rt_cmds); i++) {
		int err = shell_register(reg, &rt_cmds[i]);

		if (err)
			return err;
	}
	return shell_register_task_commands(reg);
}
