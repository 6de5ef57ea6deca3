/*
 * test_shell_task.c - the shell task (shell/task.c) on a host runtime of
 * two cores: bytes pushed into its input as the receive interrupt would,
 * the transcript checked as a terminal would show it.  Jobs: sleep
 * measures at least what it was asked, spawn's per-core counts add up,
 * Ctrl-C cancels sleep and spawn and the prompt comes back, lines pasted
 * during a job run after it, input lost to a full ring is reported once,
 * bench prints its table (and stops on Ctrl-C).
 * trace: an empty dump before any trace, on, a traced command that ends
 * at once and one that leaves a job (its spawns all in the JSON), the
 * errors, Ctrl-C on a traced job.
 * Also: spawn's argument parser, and jobs refused outside the shell task.
 * Background jobs (a trailing &, jobs, kill %N), tasks (rows, -s, a name,
 * the summary for 100,000 live tasks), kill ID, watchdog, rt -h, and the
 * bad inputs that each get exactly one error line.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "errno.h"
#include "lib/fmt.h"
#include "rt/rt.h"
#include "sched/sync.h"
#include "shell/builtins.h"
#include "shell/rt_commands.h"
#include "shell/task.h"
#include "shell/trace_cmd.h"
#include "tests/support/rt_harness.h"

#define CORES		2
#define WAIT_MS		10000
#define OUT_MAX		(1 << 20)

/* ---- a runtime on CORES threads ------------------------------------------ */

static struct harness h;
static struct runtime *rt;	/* h.rt */

/* ---- output: written by whichever core runs the shell or a job ---------- */

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static char *out_buf;
static size_t out_len, out_pos;

static void out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	pthread_mutex_lock(&out_lock);
	if (n > OUT_MAX - 1 - out_len)
		n = OUT_MAX - 1 - out_len;
	memcpy(out_buf + out_len, s, n);
	out_len += n;
	out_buf[out_len] = '\0';
	pthread_mutex_unlock(&out_lock);
}

static const struct shell_out out = { .write = out_write };

/*
 * Wait until `text` appears after the cursor; move the cursor past it and
 * return a copy of the output from the old cursor to there (caller frees).
 */
static char *wait_for(const char *text)
{
	uint64_t end = h_now_ms() + WAIT_MS;

	for (;;) {
		char *hit, *copy = NULL;

		pthread_mutex_lock(&out_lock);
		hit = strstr(out_buf + out_pos, text);
		if (hit) {
			size_t stop = (size_t)(hit - out_buf) + strlen(text);

			copy = strndup(out_buf + out_pos, stop - out_pos);
			out_pos = stop;
		}
		pthread_mutex_unlock(&out_lock);
		if (copy)
			return copy;
		if (h_now_ms() > end) {
			print_error("no \"%s\" in output after: %s\n", text,
				    out_buf + out_pos);
			fail();
		}
		h_nap_us(1000);
	}
}

static void expect(const char *text)
{
	free(wait_for(text));
}

/* ---- the shell under test ------------------------------------------------- */

static struct shell_commands cmds;
static struct shell_input input;
static struct join_handle shell_jh;

/* Push bytes as the receive interrupt does: push each, then one wake. */
static void feed(struct shell_input *in, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		(void)shell_input_push(in, (uint8_t)s[i]);
	shell_input_wake(in);
}

static void type(const char *s)
{
	feed(&input, s, strlen(s));
}

static void end_shell(struct shell_input *in, struct join_handle *jh)
{
	uint64_t end = h_now_ms() + WAIT_MS;

	wait_cell_close(&in->cell);
	while (!join_is_finished(jh) && h_now_ms() < end)
		h_nap_us(1000);
	assert_true(join_is_finished(jh));
	join_drop(jh);
}

/*
 * `lagger`, a command of this test's: its job spawns a task and ends as
 * soon as that task says, from inside its poll, that it is done; the task
 * then runs on for LAG_MS before its poll returns READY.  So does a batch
 * child that counted itself down when the host deschedules its core
 * before the runtime writes the poll's trace event (trace_cmd.c).
 */
#define LAG_MS		30

static struct oneshot lag_os;
static uint8_t lag_buf;

static enum poll lag_child_poll(struct task *t, struct context *cx)
{
	static const uint8_t one = 1;
	uint64_t end;

	(void)t;
	(void)cx;
	if (oneshot_send(&lag_os, &one, sizeof(one)))
		abort();
	end = h_now_ms() + LAG_MS;
	while (h_now_ms() < end)
		arch_cpu_relax();
	return POLL_READY;
}

static const struct task_vtable lag_child_vt = {
	.poll = lag_child_poll, .name = "lagger-child",
};

struct lag_job {
	struct task task;
	unsigned pt;
	int status, res;
	uint8_t v;
};

static enum poll lag_job_poll(struct task *t, struct context *cx)
{
	struct lag_job *j = container_of(t, struct lag_job, task);

	TASK_BEGIN(j->pt);
	oneshot_init(&lag_os, &lag_buf, sizeof(lag_buf));
	/* On the other core, so this job (and trace's, spawned next to it)
	 * can end while the task still runs. */
	if (rt_spawn_on(rt, (rt_current_core()->slot->index + 1) % CORES,
			&lag_child_vt, NULL, sizeof(struct task), NULL)) {
		j->status = -ENOMEM;
		return POLL_READY;
	}
	TASK_AWAIT(oneshot_recv(&lag_os, cx, &j->v, &j->res));
	j->status = j->res;
	TASK_END;
}

static const struct task_vtable lag_job_vt = {
	.poll = lag_job_poll, .name = "lagger",
	TASK_OUTPUT(struct lag_job, status),
};

static int start_lagger(const struct shell_cmd *cmd, int argc, char **argv,
			const struct shell_out *o, struct shell_job *job)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	(void)o;
	if (rt_spawn(rt, &lag_job_vt, NULL, sizeof(struct lag_job), &job->jh))
		return -ENOMEM;
	return SHELL_PENDING;
}

static const struct shell_cmd lag_cmd = {
	.name = "lagger", .help = "a job whose task outlives its last word",
	.usage = "lagger", .min_args = 0, .max_args = 0, .start = start_lagger,
};

static int setup(void **state)
{
	(void)state;
	out_buf = calloc(1, OUT_MAX);
	if (out_buf == NULL)
		return -1;
	h_start(&h, CORES);
	rt = h.rt;
	shell_commands_init(&cmds);
	if (shell_register_builtins(&cmds) != 0 ||
	    shell_register_rt_commands(&cmds, rt, NULL) != 0 ||
	    shell_register_trace(&cmds) != 0 ||
	    shell_register(&cmds, &lag_cmd) != 0)
		return -1;
	shell_input_init(&input);
	if (shell_task_spawn(rt, &input, &cmds, &out, &shell_jh) != 0)
		return -1;
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	end_shell(&input, &shell_jh);
	h_stop(&h);
	h_free(&h);
	free(out_buf);
	return 0;
}

/*
 * Before every test but the first: end whatever a failed test left in
 * the foreground (Ctrl-C) and move the cursor past everything written so
 * far (a marker's echo), so one failure reports one test, not the ones
 * whose output it left unread.
 */
static int resync(void **state)
{
	static unsigned n;
	char line[32], want[48];

	(void)state;
	snprintf(line, sizeof(line), "echo sync-%u\r", ++n);
	snprintf(want, sizeof(want), "\nsync-%u\nhyphae> ", n);
	type("\x03");
	type(line);
	expect(want);
	return 0;
}

static void test_prompt_and_echo(void **state)
{
	(void)state;
	expect("hyphae> ");
	type("echo hi there\r");
	expect("echo hi there\nhi there\nhyphae> ");
	type("rt\r");
	expect("cores: 2/512 active");
	expect("hyphae> ");
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/*
 * `trace COMMAND` waits for the polls still running on other cores when
 * COMMAND's job ends, so the trace shows them ending: lagger's task is
 * still in its poll, LAG_MS long, when the job that awaits it ends.
 * Tracing turned off at once, the dump lacked its READY poll.
 */
static void test_trace_waits_for_running_polls(void **state)
{
	char *got, *p, *end;

	(void)state;
	type("trace lagger\r");
	got = wait_for(TRACE_JSON_END "\n");
	p = strstr(got, "\"name\":\"lagger-child\",\"args\":{\"id\":");
	assert_non_null(p);
	end = strchr(p, '}');
	assert_non_null(end);
	*end = '\0';
	assert_non_null(strstr(p, "\"end\":\"ready\""));
	free(got);
	expect("trace: ");
	expect("hyphae> ");
}

static void test_trace(void **state)
{
	char *got;

	(void)state;
	type("trace dump\r");
	expect(TRACE_JSON_BEGIN "\n{\"traceEvents\":[\n],");
	expect(TRACE_JSON_END "\ntrace: 0 events from 0 cores");
	expect("hyphae> ");
	type("trace on\r");
	expect("trace: on, 2 cores, 32768 events (1024 KiB) a core\nhyphae> ");
	/* Dumped while on: the cores write their rings as it reads them. */
	type("spawn 200\r");
	expect("spawn: 200 tasks done");
	expect("hyphae> ");
	type("trace dump\r");
	got = wait_for(TRACE_JSON_END "\n");
	assert_true(count(got, "\"task\":\"spawn-child\"}") == 200);
	free(got);
	expect("hyphae> ");
	type("trace off\r");
	expect("trace: off\nhyphae> ");
	/* A command that ends at once, then its trace. */
	type("trace echo traced\r");
	expect("traced\n" TRACE_JSON_BEGIN "\n");
	expect(TRACE_JSON_END "\ntrace: ");
	expect("hyphae> ");
	/* A job: awaited, then dumped, every spawn in it. */
	type("trace spawn 50\r");
	expect("spawn: 50 tasks done");
	got = wait_for(TRACE_JSON_END "\n");
	/* Spawns (the events with a "task" argument): the 50 tasks, the
	 * spawn job and trace's own job. */
	assert_int_equal(count(got, ",\"task\":\""), 52);
	assert_int_equal(count(got, "\"task\":\"spawn-child\"}"), 50);
	assert_true(count(got, "\"name\":\"spawn-child\",\"args\":{\"id\":") >= 50);
	free(got);
	expect("trace: ");
	expect("hyphae> ");
	/* COMMAND's words go back to the tokenizer as they were typed. */
	type("trace echo \"two words\" 'q\"uote' back\\\\slash\r");
	expect("two words q\"uote back\\slash\n" TRACE_JSON_BEGIN "\n");
	expect("hyphae> ");
	/* Errors: no dump. */
	type("trace trace rt\r");
	expect("error: trace: one trace at a time");
	expect("hyphae> ");
	type("trace nosuch\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, "unknown command 'nosuch'"));
	assert_null(strstr(got, TRACE_JSON_BEGIN));
	free(got);
	/* Ctrl-C on a traced job stops it and its trace. */
	type("trace sleep 5s\r");
	expect("trace sleep 5s\n");
	type("\x03");
	expect("^C\ntrace: interrupted\nhyphae> ");
}

static void test_sleep_measures(void **state)
{
	char *got;
	unsigned ms, frac;
	char unit[4];

	(void)state;
	type("sleep 20ms\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, "slept "));
	assert_int_equal(sscanf(strstr(got, "slept "), "slept %u.%u %3s", &ms, &frac,
				unit), 3);
	assert_true(strcmp(unit, "ms") == 0 || strcmp(unit, "s") == 0);
	if (strcmp(unit, "ms") == 0)
		assert_true(ms >= 20);
	assert_non_null(strstr(got, "(asked 20.000 ms)"));
	free(got);
}

static void test_spawn_counts(void **state)
{
	char *got, *row;
	unsigned long sum = 0;

	(void)state;
	type("spawn 2000 yield 3\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, "spawn: 2000 tasks done in "));
	row = strstr(got, "  core    tasks\n");
	assert_non_null(row);
	row += strlen("  core    tasks\n");
	for (unsigned c = 0; c < CORES; c++) {
		unsigned core, n;

		assert_int_equal(sscanf(row, " %u %u", &core, &n), 2);
		assert_int_equal(core, c);
		sum += n;
		row = strchr(row, '\n') + 1;
	}
	assert_int_equal(sum, 2000);
	assert_non_null(strstr(got, "steals: "));
	free(got);
}

static void test_ctrl_c_cancels_jobs(void **state)
{
	uint64_t t0;

	(void)state;
	type("sleep 30s\r");
	expect("sleep 30s\n");
	t0 = h_now_ms();
	type("\x03");
	expect("^C\nsleep: interrupted\nhyphae> ");
	assert_true(h_now_ms() - t0 < WAIT_MS / 2);

	type("spawn 100 yield 1000000\r");
	expect("spawn 100 yield 1000000\n");
	type("\x03");
	expect("^C\nspawn: interrupted\nhyphae> ");
	/* The children see the batch cancelled and finish; give them time so
	 * none is left when the runtime stops. */
	type("sleep 50ms\r");
	expect("slept ");
	expect("hyphae> ");
}

static void test_typeahead_runs_after_job(void **state)
{
	char *got;

	(void)state;
	type("sleep 20ms\recho after\r");
	got = wait_for("after\nhyphae> ");
	assert_non_null(strstr(got, "slept "));
	assert_true(strstr(got, "slept ") < strstr(got, "\nafter\n"));
	free(got);
}

static void test_drops_reported_once(void **state)
{
	static struct shell_input in2;
	struct join_handle jh = JOIN_HANDLE_NONE;
	char *got;

	(void)state;
	/* Fill the ring before the task runs: the last bytes cannot fit. */
	shell_input_init(&in2);
	for (unsigned i = 0; i < SHELL_RING_SIZE + 50; i++)
		(void)shell_input_push(&in2, 'a');
	assert_int_equal(shell_ring_dropped(&in2.ring), 50);
	assert_int_equal(shell_task_spawn(rt, &in2, &cmds, &out, &jh), 0);
	shell_input_wake(&in2);
	got = wait_for("warning: 50 input bytes dropped");
	free(got);
	feed(&in2, "\r", 1);
	expect("error: line too long (1024 bytes, at most 256); ignored\nhyphae> ");
	feed(&in2, "echo ok\r", 8);
	got = wait_for("ok\nhyphae> ");
	assert_null(strstr(got, "dropped"));
	free(got);
	end_shell(&in2, &jh);
}

static void test_bench_table(void **state)
{
	char *got;

	(void)state;
	type("bench\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, "bench: 2 cores"));
	assert_non_null(strstr(got, "spawn+complete"));
	assert_non_null(strstr(got, "/yield"));
	assert_non_null(strstr(got, "timer insert"));
	assert_non_null(strstr(got, "timer cancel"));
	assert_non_null(strstr(got, "mutex handoff"));
	assert_non_null(strstr(got, "/acquire"));
	assert_non_null(strstr(got, "channel send+recv"));
	/* Two cores: the cross-core wake is measured (or the woken task was
	 * stolen onto the bench's core every time, which says so). */
	assert_true(strstr(got, " median ") != NULL ||
		    strstr(got, "woken task ran here") != NULL);
	free(got);

	/* And Ctrl-C stops it part way. */
	type("bench\r");
	expect("bench: 2 cores");
	type("\x03");
	expect("^C\nbench: interrupted\nhyphae> ");
	type("sleep 100ms\r");
	expect("slept ");
	expect("hyphae> ");
}

/* Bad input: one error line, then the prompt at once. */
static void expect_one_line_error(const char *line, const char *error)
{
	char *got;

	type(line);
	type("\r");
	got = wait_for("hyphae> ");
	/* The echo of the line, the error, the prompt: nothing else. */
	assert_non_null(strstr(got, error));
	assert_ptr_equal(strchr(strstr(got, error), '\n') + 1,
			 got + strlen(got) - strlen("hyphae> "));
	free(got);
}

static void test_bad_input_one_line(void **state)
{
	(void)state;
	expect_one_line_error("kill 99", "error: kill: no job or task 99\n");
	expect_one_line_error("kill %4", "error: kill: no job %4\n");
	expect_one_line_error("kill x.y", "error: kill: 'x.y' is not a job");
	expect_one_line_error("watchdog abc", "error: watchdog: 'abc': not a number");
	expect_one_line_error("watchdog -5", "error: watchdog: '-5': not a number");
	expect_one_line_error("tasks -x", "error: tasks: unknown flag '-x'");
	expect_one_line_error("timing maybe", "error: timing: 'maybe': say on or off");
	expect_one_line_error("echo hi &", "error: echo: does not wait, so '&'");
	expect_one_line_error("rt &", "error: rt: does not wait, so '&'");
	expect_one_line_error("&", "error: '&' needs a command that waits");
}

static void test_watchdog_command(void **state)
{
	(void)state;
	type("watchdog\r");
	expect("watchdog: a poll running over 100 ms is reported\nhyphae> ");
	type("watchdog 25\r");
	expect("watchdog: a poll running over 25 ms is reported\nhyphae> ");
	assert_int_equal(rt_watchdog_get(rt), 25 * 1000000ull);
	type("watchdog off\r");
	expect("watchdog: off\nhyphae> ");
	assert_int_equal(rt_watchdog_get(rt), 0);
	type("watchdog 100\r");
	expect("hyphae> ");
	type("rt\r");
	expect("watchdog: 100.000 ms\n");
	expect("hyphae> ");
}

/* Poll timing: off in a host runtime until asked; the kernel's boot turns
 * it on (kernel/start.c). */
static void test_timing_command(void **state)
{
	(void)state;
	sched_poll_timing_set(false);
	type("timing\r");
	expect("poll timing: off\nhyphae> ");
	type("rt\r");
	expect("poll timing: off (no poll times");
	expect("hyphae> ");
	type("timing on\r");
	expect("poll timing: on (each poll reads the TSC");
	expect("hyphae> ");
	assert_true(sched_poll_timing());
	type("rt\r");
	expect("poll timing: on\n");
	expect("hyphae> ");
	type("timing off\r");
	expect("poll timing: off\nhyphae> ");
	assert_false(sched_poll_timing());
}

/* Rows of `tasks` whose NAME column is `name`. */
static unsigned count_rows(const char *text, const char *name)
{
	char pat[48];
	unsigned n = 0;

	snprintf(pat, sizeof(pat), "  %s ", name);
	for (const char *p = text; (p = strstr(p, pat)) != NULL; p++)
		n++;
	return n;
}

/* The TASKS column of `tasks -s` for `name`, or 0. */
static unsigned long summary_count(const char *text, const char *name)
{
	char pat[48];
	const char *row;
	unsigned long n;

	snprintf(pat, sizeof(pat), "\n%s ", name);
	row = strstr(text, pat);
	if (row == NULL || sscanf(row + strlen(pat), " %lu", &n) != 1)
		return 0;
	return n;
}

static void test_background_jobs_and_tasks(void **state)
{
	char *got, *row, id[24];

	(void)state;
	type("spawn 30 sleep 300ms &\r");
	/* The prompt comes back at once, the job keeps running. */
	expect("[1] spawn 30 sleep 300ms\nhyphae> ");
	type("jobs\r");
	expect("[1] running     spawn 30 sleep 300ms\nhyphae> ");
	/* A task is listed once a poll of it returns PENDING: the children
	 * are, after their first poll, which comes soon, not at once. */
	for (unsigned k = 0;; k++) {
		type("tasks -s\r");
		got = wait_for("hyphae> ");
		if (summary_count(got, "spawn-child") == 30 || k == 100)
			break;
		free(got);
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	assert_non_null(strstr(got, "NAME                TASKS      POLLS         BUSY\n"));
	assert_int_equal(summary_count(got, "spawn-child"), 30);
	assert_int_equal(summary_count(got, "spawn"), 1);
	assert_int_equal(summary_count(got, "shell"), 1);
	free(got);
	type("tasks spawn-child\r");
	got = wait_for("hyphae> ");
	assert_int_equal(count_rows(got, "spawn-child"), 30);
	assert_non_null(strstr(got, "sleeping"));
	assert_non_null(strstr(got, "shell/batch.c:"));
	assert_non_null(strstr(got, "30 \"spawn-child\" tasks on 2 cores"));
	/* Kill one by its id: the first row's. */
	row = strstr(got, "SPAWNED AT\n") + strlen("SPAWNED AT\n");
	assert_int_equal(sscanf(row, " %23s", id), 1);
	free(got);
	type("kill ");
	type(id);
	type("\r");
	expect("kill: task ");
	expect(" (spawn-child) cancelled\nhyphae> ");
	/* The kill only cancels: the task leaves the list once its core
	 * has run it to completion, soon but not at once. */
	for (unsigned k = 0;; k++) {
		unsigned rows;

		type("tasks spawn-child\r");
		got = wait_for("hyphae> ");
		rows = count_rows(got, "spawn-child");
		free(got);
		if (rows == 29 || k == 100) {
			assert_int_equal(rows, 29);
			break;
		}
		nanosleep(&(struct timespec){ 0, 2000000 }, NULL);
	}
	/* The job ends by itself: its notice, then the prompt again. */
	expect("[1] done: spawn 30 sleep 300ms\nhyphae> ");
	type("jobs\r");
	expect("no background jobs\nhyphae> ");

	/* kill %N cancels a job; it is reported interrupted. */
	type("sleep 20s &\r");
	expect("[2] sleep 20s\nhyphae> ");
	type("kill %2\r");
	expect("kill: job 2 (sleep 20s) cancelled\nhyphae> ");
	expect("[2] interrupted: sleep 20s\nhyphae> ");
}

/* 100,000 live tasks; fewer under ThreadSanitizer, which spawns them
 * too slowly for the first to be still asleep when the last starts. */
#if defined(__SANITIZE_THREAD__)
#define MANY		"20000"
#define MANY_MORE	"19800"
#else
#define MANY		"100000"
#define MANY_MORE	"99800"
#endif

static void test_many_tasks_summary(void **state)
{
	char *got;

	(void)state;
	type("spawn " MANY " sleep 3s &\r");
	expect("[3] spawn " MANY " sleep 3s\nhyphae> ");
	/* Wait until they all sleep (the spawn job spawns in batches). */
	for (unsigned tries = 0;; tries++) {
		type("tasks -s\r");
		got = wait_for("hyphae> ");
		if (summary_count(got, "spawn-child") == strtoul(MANY, NULL, 10))
			break;
		free(got);
		assert_true(tries < 200);
		struct timespec ts = { 0, 20000000 };
		nanosleep(&ts, NULL);
	}
	free(got);
	type("tasks\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, " live tasks: the summary by name "
				    "(`tasks -a` lists every task)\n"));
	assert_int_equal(summary_count(got, "spawn-child"), strtoul(MANY, NULL, 10));
	/* Not a row per task. */
	assert_true(count_rows(got, "spawn-child") <= 1);
	free(got);
	/* A name filter lists rows, at most 200 without -a. */
	type("tasks spawn-child\r");
	got = wait_for("hyphae> ");
	assert_int_equal(count_rows(got, "spawn-child"), 200);
	assert_non_null(strstr(got, "... " MANY_MORE " more not shown: "
				    "`tasks -a spawn-child` lists them all\n"));
	free(got);
	expect("[3] done: spawn " MANY " sleep 3s\nhyphae> ");
}

static void test_rt_histograms(void **state)
{
	char *got;

	(void)state;
	type("rt -h\r");
	got = wait_for("hyphae> ");
	assert_non_null(strstr(got, "polls by duration"));
	assert_non_null(strstr(got, "core 0"));
	assert_non_null(strstr(got, "core 1"));
	assert_non_null(strstr(got, "longest poll"));
	free(got);
	type("rt\r");
	got = wait_for("hyphae> ");
	/* The counters the dump used to collect without printing. */
	assert_non_null(strstr(got, "wakeups"));
	assert_non_null(strstr(got, "inj"));
	assert_non_null(strstr(got, "longest poll"));
	free(got);
}

static void test_jobs_need_the_task(void **state)
{
	struct shell_out cap = out;
	char line[] = "sleep 1ms";

	(void)state;
	assert_int_equal(shell_exec(&cmds, line, &cap), -ENOSYS);
	expect("error: sleep: waits, so it runs only in the shell task\n");
}

static void test_spawn_args(void **state)
{
	struct shell_spawn_args a;
	const char *why;
	char *ok1[] = { "spawn", "10", NULL };
	char *ok2[] = { "spawn", "0x10", "sleep", "2ms", "yield", "3", NULL };
	char *bad_n[] = { "spawn", "0", NULL };
	char *big_n[] = { "spawn", "1000001", NULL };
	char *bad_kw[] = { "spawn", "5", "nap", "1", NULL };
	char *twice[] = { "spawn", "5", "yield", "1", "yield", "2", NULL };
	char *no_val[] = { "spawn", "5", "sleep", NULL };
	char *long_sleep[] = { "spawn", "5", "sleep", "61s", NULL };
	char *bad_dur[] = { "spawn", "5", "sleep", "10", NULL };

	(void)state;
	assert_int_equal(shell_parse_spawn_args(2, ok1, &a, &why), 0);
	assert_int_equal(a.tasks, 10);
	assert_int_equal(a.yields, 0);
	assert_int_equal(a.sleep_ns, 0);
	assert_int_equal(shell_parse_spawn_args(6, ok2, &a, &why), 0);
	assert_int_equal(a.tasks, 16);
	assert_int_equal(a.yields, 3);
	assert_int_equal(a.sleep_ns, 2000000);
	assert_int_equal(shell_parse_spawn_args(2, bad_n, &a, &why), -ERANGE);
	assert_string_equal(why, "N must be 1 to 1000000");
	assert_int_equal(shell_parse_spawn_args(2, big_n, &a, &why), -ERANGE);
	assert_int_equal(shell_parse_spawn_args(4, bad_kw, &a, &why), -EINVAL);
	assert_string_equal(why, "expected 'yield K' or 'sleep D'");
	assert_int_equal(shell_parse_spawn_args(6, twice, &a, &why), -EINVAL);
	assert_string_equal(why, "'yield' given twice");
	assert_int_equal(shell_parse_spawn_args(3, no_val, &a, &why), -EINVAL);
	assert_string_equal(why, "'sleep' needs a duration");
	assert_int_equal(shell_parse_spawn_args(4, long_sleep, &a, &why), -ERANGE);
	assert_int_equal(shell_parse_spawn_args(4, bad_dur, &a, &why), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_prompt_and_echo),
		cmocka_unit_test_setup(test_trace, resync),
		cmocka_unit_test_setup(test_trace_waits_for_running_polls, resync),
		cmocka_unit_test_setup(test_sleep_measures, resync),
		cmocka_unit_test_setup(test_spawn_counts, resync),
		cmocka_unit_test_setup(test_ctrl_c_cancels_jobs, resync),
		cmocka_unit_test_setup(test_typeahead_runs_after_job, resync),
		cmocka_unit_test_setup(test_drops_reported_once, resync),
		cmocka_unit_test_setup(test_bench_table, resync),
		cmocka_unit_test_setup(test_bad_input_one_line, resync),
		cmocka_unit_test_setup(test_watchdog_command, resync),
		cmocka_unit_test_setup(test_timing_command, resync),
		cmocka_unit_test_setup(test_background_jobs_and_tasks, resync),
		cmocka_unit_test_setup(test_many_tasks_summary, resync),
		cmocka_unit_test_setup(test_rt_histograms, resync),
		cmocka_unit_test_setup(test_jobs_need_the_task, resync),
		cmocka_unit_test_setup(test_spawn_args, resync),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
