/*
 * trace_emit.c - a real trace from a host runtime, for tests/tools/
 * trace-test to parse.
 *
 *   trace_emit run N FILE     2 cores; from inside the runtime a parent
 *                             task spawns N children ("emit-child"), each
 *                             yields once and sleeps 1 ms; the parent
 *                             joins them.  Tracing on for all of it; poll
 *                             timing off (the host's default): the polls
 *                             carry their batches' starts
 *   trace_emit timed N FILE   as run with poll timing on: each poll timed
 *   trace_emit wrap FILE      as run with enough children that the
 *                             spawning core's ring wraps
 *   trace_emit empty FILE     tracing switched on and off, nothing run
 * The JSON goes to FILE; stdout gets one line "spawned N" with the
 * number of children.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/trace.h"
#include "lib/trace_json.h"
#include "sched/scheduler.h"
#include "sched/task.h"
#include "tests/support/rt_harness.h"
#include "timer/sleep.h"

#define CORES	2

struct child {
	struct task task;
	unsigned pt;
	struct sleep sleep;
	int out;
};

static struct runtime *the_rt;

static enum poll child_poll(struct task *t, struct context *cx)
{
	struct child *c = container_of(t, struct child, task);

	TASK_BEGIN(c->pt);
	TASK_YIELD();
	if (sleep_init_duration(&c->sleep, &the_rt->timer, NS_PER_MS) != 0)
		abort();
	TASK_AWAIT(sleep_poll(&c->sleep, cx));
	TASK_END;
}

static void child_drop(struct task *t)
{
	struct child *c = container_of(t, struct child, task);

	if (c->sleep.timer)
		sleep_drop(&c->sleep);
}

static const struct task_vtable child_vt = {
	.poll = child_poll, .drop_state = child_drop,
	TASK_OUTPUT(struct child, out), .name = "emit-child",
};

struct parent {
	struct task task;
	unsigned pt;
	unsigned n, i;
	struct join_handle *jh;
	atomic_bool done;
	int out;
};

static enum poll parent_poll(struct task *t, struct context *cx)
{
	struct parent *p = container_of(t, struct parent, task);

	TASK_BEGIN(p->pt);
	for (p->i = 0; p->i < p->n; p->i++)
		if (rt_spawn(the_rt, &child_vt, NULL, sizeof(struct child),
			     &p->jh[p->i]) != 0)
			abort();
	for (p->i = 0; p->i < p->n; p->i++)
		TASK_AWAIT(join_poll(&p->jh[p->i], cx, NULL, 0));
	atomic_store(&p->done, true);
	TASK_END;
}

static const struct task_vtable parent_vt = {
	.poll = parent_poll, TASK_OUTPUT(struct parent, out),
	.name = "emit-parent",
};

static void file_write(void *ctx, const char *s, size_t n)
{
	fwrite(s, 1, n, ctx);
}

int main(int argc, char **argv)
{
	struct harness h;
	const char *mode = argc > 1 ? argv[1] : "";
	unsigned n = 0;
	const char *path;
	struct fmt_out out;
	FILE *f;

	if (argc == 4 && (strcmp(mode, "run") == 0 || strcmp(mode, "timed") == 0))
		n = (unsigned)atoi(argv[2]);
	else if (argc == 3 && strcmp(mode, "wrap") == 0)
		n = TRACE_RING_EVENTS / 2;
	else if (!(argc == 3 && strcmp(mode, "empty") == 0)) {
		fprintf(stderr, "usage: trace_emit run|timed N FILE | wrap FILE | "
			"empty FILE\n");
		return 2;
	}
	path = argv[argc - 1];
	h_start(&h, CORES);
	the_rt = h.rt;
	if (trace_setup(CORES) != 0)
		abort();
	sched_poll_timing_set(strcmp(mode, "timed") == 0);
	trace_set_enabled(true);
	if (n) {
		static struct parent init;
		struct join_handle jh;

		init.n = n;
		init.jh = calloc(n, sizeof(*init.jh));
		if (init.jh == NULL || rt_spawn(the_rt, &parent_vt, &init,
						sizeof(init), &jh) != 0)
			abort();
		/* The parent is in the injector; a core takes it and runs it. */
		while (!join_is_finished(&jh))
			usleep(1000);
		join_drop(&jh);
		free(init.jh);
	}
	trace_set_enabled(false);
	f = fopen(path, "w");
	out = (struct fmt_out){ file_write, f };
	if (f == NULL || trace_json_write(&out, NULL) != 0 || fclose(f) != 0)
		abort();
	h_stop(&h);
	h_free(&h);
	printf("spawned %u\n", n);
	return 0;
}
