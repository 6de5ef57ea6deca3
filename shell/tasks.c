/*
 * tasks.c - `tasks`: the live tasks of the runtime, from the registries
 * (sched_registry_walk), and `jobs` / `kill`.
 *
 *   tasks          one row per live task (id, name, state, core, polls,
 *                  busy time, age, spawn site); more than TASKS_LIST_MAX
 *                  live tasks: the summary instead, saying `tasks -a`
 *                  lists them all
 *   tasks -s       the summary: tasks, polls and busy time per name
 *   tasks -a       every row, however many
 *   tasks NAME     only tasks of that name (rows, or with -s the sum)
 *
 * `tasks` is a job: it copies TASKS_CHUNK tasks per hold of a registry's
 * lock (the walk's cursor waits in the list meanwhile), prints them and
 * yields, so 100,000 tasks cost their cores short holds, and Ctrl-C (or
 * `kill`) stops it; its drop_state takes the cursor out of the list.
 * A task the injector holds that no core has dequeued yet is in no
 * registry: the footer counts them.
 *
 * `jobs` lists the session's background jobs, `kill %N` (or `kill N` when
 * there is such a job) cancels one, `kill ID` cancels a task by its id
 * ("C.N"; the shell itself is refused).  The session is the shell task
 * running the command (shell_task_session).
 */
#include "arch.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/fmt.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "shell/rt_commands.h"
#include "shell/shell.h"
#include "shell/task.h"

/* Live tasks `tasks` lists one by one without -a. */
#define TASKS_LIST_MAX		200
/* Tasks copied per hold of a registry's lock (and printed per poll). */
#define TASKS_CHUNK		64
/* Distinct names the summary keeps; the rest add up as "(others)". */
#define TASKS_NAMES_MAX		48
#define TASKS_NAME_MAX		32

struct tasks_sum {
	const char *name;
	uint64_t count, polls, busy;
};

struct tasks_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct runtime *rt;
	bool summary, all, walking, more;
	char name[TASKS_NAME_MAX];	/* filter; "" for none */
	unsigned core;			/* the slot being walked */
	struct sched_reg_cursor cur;
	uint64_t now;			/* arch_cycles() at the start */
	uint64_t seen, shown;		/* tasks matched, rows printed */
	unsigned nrows, nsums;
	struct task_info rows[TASKS_CHUNK];
	struct tasks_sum sums[TASKS_NAMES_MAX];
	struct tasks_sum others;
};

static const char *const state_names[] = {
	[TASK_INFO_QUEUED] = "queued",
	[TASK_INFO_RUNNING] = "running",
	[TASK_INFO_WAITING] = "waiting",
	[TASK_INFO_SLEEPING] = "sleeping",
};

/* Under a registry's lock, interrupts off: copy, count, nothing more. */
static void tasks_visit(const struct task_info *ti, struct task *t, void *arg)
{
	struct tasks_job *j = arg;
	struct tasks_sum *sum = NULL;

	(void)t;
	if (j->name[0] && strcmp(ti->name, j->name) != 0)
		return;
	j->seen++;
	if (!j->summary) {
		if (j->all || j->shown + j->nrows < TASKS_LIST_MAX)
			j->rows[j->nrows++] = *ti;
		return;
	}
	/* Names are static strings: the same name is usually the same
	 * pointer; strcmp catches copies from other sites. */
	for (unsigned i = 0; i < j->nsums && !sum; i++)
		if (j->sums[i].name == ti->name ||
		    strcmp(j->sums[i].name, ti->name) == 0)
			sum = &j->sums[i];
	if (!sum && j->nsums < TASKS_NAMES_MAX) {
		sum = &j->sums[j->nsums++];
		*sum = (struct tasks_sum){ .name = ti->name };
	}
	if (!sum)
		sum = &j->others;
	sum->count++;
	sum->polls += ti->polls;
	sum->busy += ti->busy;
}

static const char *fmt_cycles(char *buf, size_t n, uint64_t cycles)
{
	return fmt_ns(buf, n, arch_cycles_to_ns(cycles));
}

static void print_rows(struct tasks_job *j)
{
	for (unsigned i = 0; i < j->nrows; i++) {
		const struct task_info *ti = &j->rows[i];
		char id[TASK_ID_STR], busy[24], age[24], core[8];

		if (ti->core >= 0)
			ksnprintf(core, sizeof(core), "%d", ti->core);
		else
			strlcpy(core, "-", sizeof(core));
		shell_printf(&j->out, "%8s  %-16s %-8s %4s %7u %12s %12s  %s:%u\n",
			     task_id_str(ti->id, id), ti->name,
			     state_names[ti->state], core, (unsigned)ti->polls,
			     fmt_cycles(busy, sizeof(busy), ti->busy),
			     fmt_cycles(age, sizeof(age),
					j->now > ti->born ? j->now - ti->born : 0),
			     ti->site ? ti->site->file : "?",
			     ti->site ? ti->site->line : 0);
	}
	j->shown += j->nrows;
	j->nrows = 0;
}

static void print_sum(struct tasks_job *j, const struct tasks_sum *s,
		      const char *name)
{
	char busy[24];

	shell_printf(&j->out, "%-16s %8llu %10llu %12s\n", name,
		     (unsigned long long)s->count, (unsigned long long)s->polls,
		     fmt_cycles(busy, sizeof(busy), s->busy));
}

static void print_summary(struct tasks_job *j)
{
	/* Most tasks first: an insertion sort of at most TASKS_NAMES_MAX. */
	for (unsigned i = 1; i < j->nsums; i++)
		for (unsigned k = i; k > 0 &&
		     j->sums[k].count > j->sums[k - 1].count; k--) {
			struct tasks_sum t = j->sums[k];

			j->sums[k] = j->sums[k - 1];
			j->sums[k - 1] = t;
		}
	shell_printf(&j->out, "%-16s %8s %10s %12s\n", "NAME", "TASKS", "POLLS",
		     "BUSY");
	for (unsigned i = 0; i < j->nsums; i++)
		print_sum(j, &j->sums[i], j->sums[i].name);
	if (j->others.count)
		print_sum(j, &j->others, "(others)");
}

static size_t live_tasks(struct runtime *rt)
{
	unsigned n = rt_active_cores(rt);
	size_t sum = 0;

	for (unsigned i = 0; i < n; i++)
		sum += sched_registry_count(&rt->slots[i].sched);
	return sum;
}

static bool slot_ready(struct runtime *rt, unsigned i)
{
	/* acquire: pairs with the release store in rt_core_new(). */
	return atomic_load_explicit(&rt->slots[i].initialised,
				    memory_order_acquire);
}

static void print_footer(struct tasks_job *j)
{
	size_t injected = injector_queued(&j->rt->injector);

	if (!j->summary && j->seen > j->shown)
		shell_printf(&j->out, "... %llu more not shown: `tasks -a%s%s` lists them all\n",
			     (unsigned long long)(j->seen - j->shown),
			     j->name[0] ? " " : "", j->name);
	shell_printf(&j->out, "%llu %s%s%s task%s on %u cores",
		     (unsigned long long)j->seen, j->name[0] ? "\"" : "live",
		     j->name, j->name[0] ? "\"" : "", j->seen == 1 ? "" : "s",
		     rt_active_cores(j->rt));
	if (injected)
		shell_printf(&j->out, ", and %zu not started in the injector (not listed)",
			     injected);
	shell_puts(&j->out, "\n");
}

static enum poll tasks_poll(struct task *t, struct context *cx)
{
	struct tasks_job *j = container_of(t, struct tasks_job, task);

	(void)cx;
	TASK_BEGIN(j->pt);
	j->now = arch_cycles();
	if (!j->summary && !j->all && !j->name[0] &&
	    live_tasks(j->rt) > TASKS_LIST_MAX) {
		shell_printf(&j->out, "%zu live tasks: the summary by name "
			     "(`tasks -a` lists every task)\n", live_tasks(j->rt));
		j->summary = true;
	}
	if (!j->summary)
		shell_printf(&j->out, "%8s  %-16s %-8s %4s %7s %12s %12s  %s\n",
			     "ID", "NAME", "STATE", "CORE", "POLLS", "BUSY", "AGE",
			     "SPAWNED AT");
	for (j->core = 0; j->core < rt_active_cores(j->rt); j->core++) {
		if (!slot_ready(j->rt, j->core))
			continue;
		j->cur = (struct sched_reg_cursor)SCHED_REG_CURSOR_INIT;
		j->walking = true;
		do {
			j->more = sched_registry_walk(&j->rt->slots[j->core].sched,
						      &j->cur, TASKS_CHUNK,
						      tasks_visit, j);
			print_rows(j);
			if (j->more)
				TASK_YIELD();
		} while (j->more);
		j->walking = false;
	}
	if (j->summary)
		print_summary(j);
	print_footer(j);
	j->status = 0;
	TASK_END;
}

static void tasks_drop_state(struct task *t)
{
	struct tasks_job *j = container_of(t, struct tasks_job, task);

	/* Cancelled mid-walk: the cursor must leave the list. */
	if (j->walking)
		sched_registry_walk_end(&j->rt->slots[j->core].sched, &j->cur);
	j->walking = false;
}

static const struct task_vtable tasks_vt = {
	.poll = tasks_poll,
	.drop_state = tasks_drop_state,
	TASK_OUTPUT(struct tasks_job, status),
	.name = "tasks",
};

/* One line, no usage: the bad inputs each get exactly that. */
static int one_line_error(const struct shell_out *out, const char *cmd,
			  const char *fmt, const char *arg)
{
	shell_printf(out, "error: %s: ", cmd);
	shell_printf(out, fmt, arg);
	shell_puts(out, "\n");
	return -EINVAL;
}

static int start_tasks(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out, struct shell_job *job)
{
	struct tasks_job *init;
	int err;

	(void)cmd;
	init = kzalloc(sizeof(*init));
	if (init == NULL) {
		shell_puts(out, "error: tasks: out of memory\n");
		return -ENOMEM;
	}
	init->out = *out;
	init->rt = shell_runtime();
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0) {
			init->summary = true;
		} else if (strcmp(argv[i], "-a") == 0) {
			init->all = true;
		} else if (argv[i][0] == '-') {
			kfree(init);
			return one_line_error(out, "tasks", "unknown flag '%s' "
					      "(-s: summary by name, -a: every task)",
					      argv[i]);
		} else if (init->name[0] ||
			   strlen(argv[i]) >= sizeof(init->name)) {
			kfree(init);
			return one_line_error(out, "tasks", "'%s': one NAME, of at "
					      "most 31 characters", argv[i]);
		} else {
			strlcpy(init->name, argv[i], sizeof(init->name));
		}
	}
	err = rt_spawn(init->rt, &tasks_vt, init, sizeof(*init), &job->jh);
	kfree(init);
	if (err) {
		shell_printf(out, "error: tasks: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

/* ---- jobs, kill ------------------------------------------------------------ */

static int cmd_jobs(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	struct shell *sh = shell_task_session();

	(void)cmd;
	(void)argc;
	(void)argv;
	if (sh == NULL) {
		shell_puts(out, "error: jobs: only the shell task has jobs\n");
		return -ENOSYS;
	}
	shell_bg_list(sh, out);
	return 0;
}

struct kill_find {
	uint64_t id;
	struct task *t;		/* a reference, once found */
};

static void kill_visit(const struct task_info *ti, struct task *t, void *arg)
{
	struct kill_find *f = arg;

	/* A reference keeps it alive after the lock is dropped; one whose
	 * last reference went meanwhile is being freed: not found. */
	if (ti->id == f->id && f->t == NULL && task_ref_unless_zero(t))
		f->t = t;
}

/* The live task with id `id`, with a reference, or NULL. */
static struct task *find_task(struct runtime *rt, uint64_t id)
{
	struct kill_find f = { .id = id };

	for (unsigned i = 0; i < rt_active_cores(rt) && !f.t; i++) {
		struct sched_reg_cursor cur = SCHED_REG_CURSOR_INIT;

		if (!slot_ready(rt, i))
			continue;
		while (sched_registry_walk(&rt->slots[i].sched, &cur,
					   TASKS_CHUNK * 4, kill_visit, &f)) {
			if (f.t) {
				sched_registry_walk_end(&rt->slots[i].sched, &cur);
				break;
			}
		}
	}
	return f.t;
}

static int cmd_kill(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	struct shell *sh = shell_task_session();
	const char *arg = argv[1];
	uint64_t id, n;
	const char *why;
	struct task *t;
	char ids[TASK_ID_STR];

	(void)cmd;
	(void)argc;
	if (arg[0] == '%' || (shell_parse_u64(arg, 1, UINT32_MAX, &n, &why) == 0 &&
			      sh && shell_bg_find(sh, (unsigned)n))) {
		if (arg[0] == '%' &&
		    shell_parse_u64(arg + 1, 1, UINT32_MAX, &n, &why) != 0)
			return one_line_error(out, "kill", "'%s': %%N needs a job number",
					      arg);
		if (sh == NULL || shell_bg_kill(sh, (unsigned)n) != 0)
			return one_line_error(out, "kill", "no job %s", arg);
		shell_printf(out, "kill: job %u (%s) cancelled\n", (unsigned)n,
			     shell_bg_find(sh, (unsigned)n)->line);
		return 0;
	}
	if (task_id_parse(arg, &id) != 0)
		return one_line_error(out, "kill", "'%s' is not a job (%%N) or a "
				      "task id (C.N)", arg);
	t = find_task(shell_runtime(), id);
	if (t == NULL)
		return one_line_error(out, "kill", "no job or task %s", arg);
	if (t == task_current()) {
		task_unref(t);
		return one_line_error(out, "kill", "task %s is this shell", arg);
	}
	if (task_cancel(t))
		shell_printf(out, "kill: task %s (%s) cancelled\n",
			     task_id_str(t->id, ids), task_name(t));
	else
		shell_printf(out, "kill: task %s (%s) was ending already\n",
			     task_id_str(t->id, ids), task_name(t));
	task_unref(t);
	return 0;
}

static const struct shell_cmd task_cmds[] = {
	{ .name = "tasks", .help = "live tasks: id, name, state, core, polls, busy, age, site",
	  .usage = "tasks [-s] [-a] [NAME]", .start = start_tasks,
	  .max_args = 3 },
	{ .name = "jobs", .help = "the background jobs (started with a trailing &)",
	  .usage = "jobs", .run = cmd_jobs },
	{ .name = "kill", .help = "cancel a background job (%N) or a task (its id)",
	  .usage = "kill %N | kill ID", .run = cmd_kill, .min_args = 1,
	  .max_args = 1 },
};

int shell_register_task_commands(struct shell_commands *reg)
{
	for (size_t i = 0; i < ARRAY_SIZE(task_cmds); i++) {
		int err = shell_register(reg, &task_cmds[i]);

		if (err)
			return err;
	}
	return 0;
}
