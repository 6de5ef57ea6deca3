/*
 * trace_cmd.c - `trace on|off|clear|dump` and `trace COMMAND...` (see
 * trace_cmd.h).
 *
 * `trace COMMAND` runs COMMAND through the same registry, as the shell
 * would.  A command that finishes at once is dumped at once; one that
 * leaves a job (spawn, sleep, bench) is awaited by a job of trace's own,
 * which turns tracing off and dumps when the inner job ends, and cancels
 * the inner job if it is cancelled itself (Ctrl-C).
 */
#include "errno.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "lib/trace_json.h"
#include "rt/rt.h"
#include "shell/line.h"
#include "shell/rt_commands.h"
#include "shell/trace_cmd.h"

static const struct shell_commands *trace_reg;

struct out_ctx {
	const struct shell_out *out;
};

static void json_write(void *ctx, const char *s, size_t n)
{
	shell_write(((struct out_ctx *)ctx)->out, s, n);
}

int shell_trace_dump(const struct shell_out *out)
{
	struct out_ctx ctx = { out };
	struct fmt_out f = { .write = json_write, .ctx = &ctx };
	struct trace_json_stats st;
	int err;

	shell_puts(out, TRACE_JSON_BEGIN "\n");
	err = trace_json_write(&f, &st);
	shell_puts(out, TRACE_JSON_END "\n");
	if (err) {
		shell_printf(out, "error: trace: no memory to copy a ring (%d)\n", err);
		return err;
	}
	shell_printf(out, "trace: %llu events from %u cores, %llu bytes of JSON "
		     "(%llu per event; %zu in a ring)\n",
		     (unsigned long long)st.events, st.cores,
		     (unsigned long long)st.bytes,
		     (unsigned long long)(st.events ? st.bytes / st.events : 0),
		     sizeof(struct trace_event));
	if (st.lost || st.torn)
		shell_printf(out, "trace: %llu events lost: the rings (%u events "
			     "a core) wrapped; %llu more overwritten while read\n",
			     (unsigned long long)st.lost, TRACE_RING_EVENTS,
			     (unsigned long long)st.torn);
	return 0;
}

/* Rings for every core of the shell's runtime; 0 or -ENOMEM (said). */
static int trace_start(const struct shell_out *out, bool clear)
{
	struct runtime *rt = shell_runtime();
	int err = trace_setup(rt ? rt_active_cores(rt) : 1);

	if (err) {
		shell_printf(out, "error: trace: no memory for the rings (%d)\n", err);
		return err;
	}
	if (clear)
		trace_clear();
	trace_set_enabled(true);
	return 0;
}

/* ---- trace COMMAND: the job that awaits COMMAND's job ------------------ */

struct trace_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct join_handle inner;
};

static enum poll trace_job_poll(struct task *t, struct context *cx)
{
	struct trace_job *j = container_of(t, struct trace_job, task);
	int status = 0;

	TASK_BEGIN(j->pt);
	TASK_AWAIT(join_poll(&j->inner, cx, &status, sizeof(status)));
	j->status = j->inner.result == JOIN_CANCELLED ? -ECANCELED : status;
	trace_set_enabled(false);
	(void)shell_trace_dump(&j->out);
	TASK_END;
}

static void trace_job_drop_state(struct task *t)
{
	struct trace_job *j = container_of(t, struct trace_job, task);

	/* Cancelled before COMMAND ended: stop it too. */
	if (j->inner.task) {
		(void)join_cancel(&j->inner);
		join_drop(&j->inner);
		trace_set_enabled(false);
	}
}

static const struct task_vtable trace_job_vt = {
	.poll = trace_job_poll,
	.drop_state = trace_job_drop_state,
	TASK_OUTPUT(struct trace_job, status),
	.name = "trace",
};

/* argv[1..] as one line the tokenizer gives back word for word. */
static int join_words(char *line, size_t n, int argc, char **argv)
{
	size_t o = 0;

	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		bool plain = *w != '\0';

		for (const char *p = w; *p; p++)
			if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' ||
			    *p == '\\')
				plain = false;
		if (o + 1 >= n)
			return -ENOSPC;
		if (i > 1)
			line[o++] = ' ';
		if (!plain && o < n)
			line[o++] = '"';
		for (const char *p = w; *p && o + 2 < n; p++) {
			if (!plain && (*p == '"' || *p == '\\'))
				line[o++] = '\\';
			line[o++] = *p;
		}
		if (!plain && o < n)
			line[o++] = '"';
		if (o >= n)
			return -ENOSPC;
	}
	line[o] = '\0';
	return 0;
}

static int trace_command(const struct shell_cmd *cmd, int argc, char **argv,
			 const struct shell_out *out, struct shell_job *job)
{
	struct shell_job inner = { .jh = JOIN_HANDLE_NONE };
	char line[SHELL_LINE_MAX];
	struct trace_job init;
	int r, err;

	if (strcmp(argv[1], cmd->name) == 0)
		return shell_usage_error(out, cmd, "one trace at a time");
	if (join_words(line, sizeof(line), argc, argv) != 0)
		return shell_usage_error(out, cmd, "command too long");
	err = trace_start(out, true);
	if (err)
		return err;
	r = shell_exec_job(trace_reg, line, out, &inner);
	if (r != SHELL_PENDING) {
		trace_set_enabled(false);
		err = shell_trace_dump(out);
		return r ? r : err;
	}
	init = (struct trace_job){ .out = *out, .inner = inner.jh };
	err = rt_spawn(shell_runtime(), &trace_job_vt, &init, sizeof(init),
		       &job->jh);
	if (err) {
		shell_printf(out, "error: trace: cannot spawn its task (%d)\n", err);
		(void)join_cancel(&init.inner);
		join_drop(&init.inner);
		trace_set_enabled(false);
		return err;
	}
	return SHELL_PENDING;
}

static int start_trace(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out, struct shell_job *job)
{
	const char *w = argv[1];

	if (argc > 2 || (strcmp(w, "on") && strcmp(w, "off") &&
			 strcmp(w, "clear") && strcmp(w, "dump")))
		return trace_command(cmd, argc, argv, out, job);
	if (strcmp(w, "on") == 0) {
		if (trace_start(out, false))
			return -ENOMEM;
		shell_printf(out, "trace: on, %u cores, %u events (%zu KiB) a core\n",
			     trace_cores(), TRACE_RING_EVENTS,
			     TRACE_RING_BYTES(TRACE_RING_EVENTS) / 1024);
	} else if (strcmp(w, "off") == 0) {
		trace_set_enabled(false);
		shell_puts(out, "trace: off\n");
	} else if (strcmp(w, "clear") == 0) {
		trace_clear();
		shell_puts(out, "trace: cleared\n");
	} else {
		return shell_trace_dump(out);
	}
	return 0;
}

static const struct shell_cmd trace_cmd = {
	.name = "trace",
	.help = "per-core event trace as Chrome JSON: on, off, clear, dump, or one command",
	.usage = "trace on|off|clear|dump  or  trace COMMAND [ARGS...] (e.g. trace spawn 10000)",
	.start = start_trace,
	.min_args = 1,
	.max_args = SHELL_ARGS_ANY,
};

int shell_register_trace(struct shell_commands *reg)
{
	trace_reg = reg;
	return shell_register(reg, &trace_cmd);
}
