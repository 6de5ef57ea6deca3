/*
 * trace_cmd.c - `trace on|off|clear|dump` and `trace COMMAND...` (see
 * trace_cmd.h).
 *
 * The dump is a job: it copies one core's ring at a time and writes its
 * JSON DUMP_STEP events a poll, yielding in between, so a dump of many
 * megabytes over a slow serial line neither holds its core nor ignores
 * Ctrl-C (a cancelled dump stops without its end marker, which
 * tools/trace reports as truncated).  `trace COMMAND` runs COMMAND
 * through the same registry, as the shell would, in a job of trace's
 * own: it awaits COMMAND's job if it left one (spawn, sleep, bench),
 * lets the ticks running on the other cores end, turns tracing off,
 * awaits a dump, and cancels both if it is cancelled itself.
 *
 * The wait for the ticks: a task of COMMAND's may tell the job it is
 * done from inside its poll (a batch child counts itself down, and the
 * job's join sees the count), before the runtime has written that poll's
 * trace event, which it does after the poll returns and only while
 * tracing is on.  Turned off at once, a trace could lack the last poll
 * it was meant to show (once in the kernel's trace-test: 299 of 300 batch
 * children polled to ready).  So the job marks every other core that is
 * inside a tick (rt_tick_marks) and looks every TRACE_SETTLE_STEP_NS
 * until they have all left them, for at most TRACE_SETTLE_NS (a poll
 * that runs longer is shown as running, as any poll whose event is not
 * written yet).  It sleeps between looks: yielding, each look would be
 * a poll of its own in the trace (a 30 ms poll elsewhere made thousands
 * of them on the host).
 */
#include "errno.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "lib/trace_json.h"
#include "rt/rt.h"
#include "shell/line.h"
#include "shell/rt_commands.h"
#include "shell/trace_cmd.h"
#include "timer/sleep.h"

/*
 * Ring events a dump writes before it yields: about 850 bytes of JSON,
 * 75 ms at 115200 baud, so the dump's poll stays under the stuck-poll
 * watchdog's 100 ms even on a real serial line (TCG's runs ~10x faster).
 */
#define DUMP_STEP	8

/* How long `trace COMMAND` waits for the other cores' ticks to end, and
 * how often it looks. */
#define TRACE_SETTLE_NS		(100ull * 1000 * 1000)
#define TRACE_SETTLE_STEP_NS	(1000ull * 1000)

static const struct shell_commands *trace_reg;

/* ---- trace dump: a job that writes a lane a few hundred events a poll --- */

struct dump_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	/* Set up by the first poll (they point into the task itself). */
	struct fmt_out f;
	struct trace_json j;
	struct trace_json_lane lane;
	struct trace_record *recs;
	unsigned core;
};

static void json_write(void *ctx, const char *s, size_t n)
{
	shell_write(ctx, s, n);
}

static void dump_summary(const struct shell_out *out,
			 const struct trace_json_stats *st)
{
	shell_printf(out, "trace: %llu events from %u cores, %llu bytes of JSON "
		     "(%llu per event; %zu in a ring)\n",
		     (unsigned long long)st->events, st->cores,
		     (unsigned long long)st->bytes,
		     (unsigned long long)(st->events ? st->bytes / st->events : 0),
		     sizeof(struct trace_event));
	if (st->lost || st->torn)
		shell_printf(out, "trace: %llu events lost: the rings (%u events "
			     "a core) wrapped; %llu more overwritten while read\n",
			     (unsigned long long)st->lost, TRACE_RING_EVENTS,
			     (unsigned long long)st->torn);
}

static enum poll dump_job_poll(struct task *t, struct context *cx)
{
	struct dump_job *d = container_of(t, struct dump_job, task);
	uint64_t ns, stamps;

	TASK_BEGIN(d->pt);
	d->recs = kmalloc(TRACE_RING_EVENTS * sizeof(*d->recs));
	if (d->recs == NULL) {
		shell_puts(&d->out, "error: trace: no memory to copy a ring\n");
		d->status = -ENOMEM;
		return POLL_READY;
	}
	d->f = (struct fmt_out){ .write = json_write, .ctx = &d->out };
	shell_puts(&d->out, TRACE_JSON_BEGIN "\n");
	trace_rate(&ns, &stamps);
	trace_json_begin(&d->j, &d->f, trace_epoch(), ns, stamps);
	for (d->core = 0; d->core < trace_cores(); d->core++) {
		struct trace_ring *r = trace_ring_of(d->core);
		struct trace_read rd;

		if (r == NULL)
			continue;
		/* Copied just before it is written: the newest events. */
		trace_ring_copy(r, d->recs, TRACE_RING_EVENTS, &rd);
		trace_json_core_start(&d->j, &d->lane, d->core, d->recs,
				      rd.copied, &rd);
		while (!trace_json_core_step(&d->j, &d->lane, DUMP_STEP))
			TASK_YIELD();
	}
	trace_json_end(&d->j);
	shell_puts(&d->out, TRACE_JSON_END "\n");
	dump_summary(&d->out, &d->j.st);
	kfree(d->recs);
	d->recs = NULL;
	d->status = 0;
	TASK_END;
}

static void dump_job_drop_state(struct task *t)
{
	struct dump_job *d = container_of(t, struct dump_job, task);

	kfree(d->recs);
	d->recs = NULL;
}

static const struct task_vtable dump_job_vt = {
	.poll = dump_job_poll,
	.drop_state = dump_job_drop_state,
	TASK_OUTPUT(struct dump_job, status),
	.name = "trace-dump",
};

/* Spawn a dump of the rings to `out` into *jh.  0, or the error (said). */
static int dump_spawn(const struct shell_out *out, struct join_handle *jh)
{
	struct dump_job init = { .out = *out };
	int err = rt_spawn(shell_runtime(), &dump_job_vt, &init, sizeof(init), jh);

	if (err)
		shell_printf(out, "error: trace: cannot spawn the dump (%d)\n", err);
	return err;
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
	struct join_handle inner;	/* COMMAND's job, if it left one */
	struct join_handle dump;
	/* The settle: the ticks marked, until when to wait for them, and
	 * the sleep between two looks. */
	uint64_t *marks;
	unsigned nmarks;
	ticks_t settle_end;
	struct sleep nap;
	bool napping;
};

/* Mark the other cores' ticks; false if it cannot (no core, no memory):
 * the dump then goes ahead without waiting. */
static bool settle_begin(struct trace_job *j)
{
	struct runtime *rt = shell_runtime();
	unsigned n = rt_active_cores(rt);

	if (n == 0)
		return false;
	j->marks = kmalloc(n * sizeof(*j->marks));
	if (j->marks == NULL)
		return false;
	j->nmarks = rt_tick_marks(rt, j->marks, n);
	if (clock_deadline_after(rt->clock, clock_now(rt->clock),
				 TRACE_SETTLE_NS, &j->settle_end) != 0)
		j->settle_end = 0;
	return true;
}

/* Have the marked ticks ended (or has the wait run out)? */
static bool settle_done(struct trace_job *j)
{
	struct runtime *rt = shell_runtime();

	if (rt_ticks_passed(rt, j->marks, j->nmarks) ||
	    clock_now(rt->clock) >= j->settle_end) {
		kfree(j->marks);
		j->marks = NULL;
		return true;
	}
	return false;
}

static enum poll trace_job_poll(struct task *t, struct context *cx)
{
	struct trace_job *j = container_of(t, struct trace_job, task);
	int status = 0;

	TASK_BEGIN(j->pt);
	if (j->inner.task) {
		TASK_AWAIT(join_poll(&j->inner, cx, &status, sizeof(status)));
		if (j->inner.result == JOIN_CANCELLED)
			status = -ECANCELED;
		if (status)
			j->status = status;
		if (settle_begin(j)) {
			while (!settle_done(j)) {
				if (sleep_init_duration(&j->nap,
							&shell_runtime()->timer,
							TRACE_SETTLE_STEP_NS) != 0) {
					TASK_YIELD();
					continue;
				}
				j->napping = true;
				TASK_AWAIT(sleep_poll(&j->nap, cx));
				sleep_drop(&j->nap);
				j->napping = false;
			}
		}
	}
	trace_set_enabled(false);
	if (dump_spawn(&j->out, &j->dump) != 0) {
		j->status = -ENOMEM;
		return POLL_READY;
	}
	TASK_AWAIT(join_poll(&j->dump, cx, &status, sizeof(status)));
	if (j->status == 0)
		j->status = status;
	TASK_END;
}

static void trace_job_drop_state(struct task *t)
{
	struct trace_job *j = container_of(t, struct trace_job, task);

	/* Cancelled before COMMAND or the dump ended: stop them too. */
	if (j->inner.task) {
		(void)join_cancel(&j->inner);
		join_drop(&j->inner);
	}
	if (j->dump.task) {
		(void)join_cancel(&j->dump);
		join_drop(&j->dump);
	}
	if (j->napping)
		sleep_drop(&j->nap);
	kfree(j->marks);
	trace_set_enabled(false);
}

static const struct task_vtable trace_job_vt = {
	.poll = trace_job_poll,
	.drop_state = trace_job_drop_state,
	TASK_OUTPUT(struct trace_job, status),
	.name = "trace",
};

/* argv[1..] as one line the tokenizer gives back word for word: a word
 * with blanks, quotes or backslashes goes in double quotes, escaped.
 * 0, or -ENOSPC if it does not fit in n bytes. */
static int join_words(char *line, size_t n, int argc, char **argv)
{
	size_t o = 0;

#define PUT(c)	do { if (o + 1 >= n) return -ENOSPC; line[o++] = (c); } while (0)
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];
		bool plain = *w != '\0';

		for (const char *p = w; *p; p++)
			if (*p == ' ' || *p == '\t' || *p == '"' || *p == '\'' ||
			    *p == '\\')
				plain = false;
		if (i > 1)
			PUT(' ');
		if (!plain)
			PUT('"');
		for (const char *p = w; *p; p++) {
			if (!plain && (*p == '"' || *p == '\\'))
				PUT('\\');
			PUT(*p);
		}
		if (!plain)
			PUT('"');
	}
#undef PUT
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
	if (r < 0) {
		/* COMMAND failed and said why: nothing worth a dump. */
		trace_set_enabled(false);
		return r;
	}
	/* COMMAND ended (0), or left a job for trace's to await. */
	init = (struct trace_job){ .out = *out,
				   .inner = r == SHELL_PENDING ? inner.jh :
					    JOIN_HANDLE_NONE };
	if (r != SHELL_PENDING)
		trace_set_enabled(false);
	err = rt_spawn(shell_runtime(), &trace_job_vt, &init, sizeof(init),
		       &job->jh);
	if (err) {
		shell_printf(out, "error: trace: cannot spawn its task (%d)\n", err);
		if (init.inner.task) {
			(void)join_cancel(&init.inner);
			join_drop(&init.inner);
		}
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
		return dump_spawn(out, &job->jh) ? -ENOMEM : SHELL_PENDING;
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
