/*
 * task.c - the shell task (see task.h).
 *
 * One poll runs a loop of at most SHELL_TASK_BUDGET steps; each step is
 * one of: report dropped input, await the running job, feed one byte
 * (type-ahead first, then the ring), or park on the wait cell.  Parking
 * is ordered so no byte is missed: the cell is polled after the ring was
 * seen empty, and a wake that came in between is kept by the cell as a
 * permit, so that poll returns READY and the loop looks again.
 */
#include "errno.h"
#include "kmalloc.h"
#include "lib/string.h"
#include "rt/rt.h"
#include "shell/task.h"

struct shell_task {
	struct task task;
	/* The task's own; only its poll touches them. */
	struct shell sh;
	struct shell_input *in;
	bool started;
	uint64_t drops_seen;		/* ring drops already reported */
	uint64_t ahead_dropped;		/* type-ahead bytes lost, unreported */
	size_t ahead_len, ahead_pos;
	uint8_t ahead[SHELL_TYPEAHEAD];
};

void shell_input_init(struct shell_input *in)
{
	shell_ring_init(&in->ring);
	wait_cell_init(&in->cell);
}

/* Once the input has drained, say how much of it was lost (once). */
static void report_drops(struct shell_task *st)
{
	uint64_t dropped = shell_ring_dropped(&st->in->ring);
	uint64_t n = dropped - st->drops_seen + st->ahead_dropped;

	if (n == 0 || shell_ring_count(&st->in->ring) > 0 ||
	    st->ahead_pos < st->ahead_len)
		return;
	st->drops_seen = dropped;
	st->ahead_dropped = 0;
	shell_input_dropped(&st->sh, (size_t)n);
}

/* While a job runs: move input aside, Ctrl-C cancels.  */
static void take_typeahead(struct shell_task *st)
{
	int b;

	while ((b = shell_ring_pop(&st->in->ring)) >= 0) {
		if (b == SHELL_KEY_CTRL_C) {
			shell_job_cancel(&st->sh);
			st->ahead_len = st->ahead_pos = 0;
		} else if (st->ahead_len < SHELL_TYPEAHEAD) {
			st->ahead[st->ahead_len++] = (uint8_t)b;
		} else {
			st->ahead_dropped++;
		}
	}
}

/* The next input byte for the editor, or -1 if there is none. */
static int next_byte(struct shell_task *st)
{
	if (st->ahead_pos < st->ahead_len) {
		int b = st->ahead[st->ahead_pos++];

		if (st->ahead_pos == st->ahead_len)
			st->ahead_pos = st->ahead_len = 0;
		return b;
	}
	return shell_ring_pop(&st->in->ring);
}

static enum poll shell_task_poll(struct task *t, struct context *cx)
{
	struct shell_task *st = container_of(t, struct shell_task, task);

	if (!st->started) {
		st->started = true;
		shell_prompt(&st->sh);
	}
	/* Background jobs that ended are reported; the others will wake us. */
	shell_bg_poll(&st->sh, cx);
	for (unsigned step = 0; step < SHELL_TASK_BUDGET; step++) {
		int b;

		if (wait_cell_is_closed(&st->in->cell))
			return POLL_READY;
		if (shell_busy(&st->sh)) {
			take_typeahead(st);
			if (shell_job_poll(&st->sh, cx) == POLL_READY)
				continue;
			if (wait_cell_poll(&st->in->cell, cx) == POLL_PENDING)
				return POLL_PENDING;
			continue;
		}
		b = next_byte(st);
		if (b >= 0) {
			(void)shell_feed(&st->sh, (uint8_t)b);
			continue;
		}
		report_drops(st);
		if (wait_cell_poll(&st->in->cell, cx) == POLL_PENDING)
			return POLL_PENDING;
	}
	/* Budget spent with input left: let other tasks run, then go on. */
	waker_wake_by_ref(cx->waker);
	return POLL_PENDING;
}

/* Cancelled or done: a job still running is cancelled with it. */
static void shell_task_drop_state(struct task *t)
{
	struct shell_task *st = container_of(t, struct shell_task, task);

	if (shell_busy(&st->sh)) {
		(void)join_cancel(&st->sh.job.jh);
		join_drop(&st->sh.job.jh);
		st->sh.busy = false;
	}
	shell_bg_drop_all(&st->sh);
	wait_cell_unregister(&st->in->cell);
}

static const struct task_vtable shell_task_vt = {
	.poll = shell_task_poll,
	.drop_state = shell_task_drop_state,
	.name = "shell",
};

struct shell *shell_task_session(void)
{
	struct task *t = task_current();

	if (t == NULL || t->vtable != &shell_task_vt)
		return NULL;
	return &container_of(t, struct shell_task, task)->sh;
}

int shell_task_spawn(struct runtime *rt, struct shell_input *in,
		     const struct shell_commands *cmds,
		     const struct shell_out *out, struct join_handle *jh)
{
	struct shell_task *st = kzalloc(sizeof(*st));
	int err;

	if (st == NULL)
		return -ENOMEM;
	st->in = in;
	shell_init(&st->sh, cmds, out);
	err = rt_spawn(rt, &shell_task_vt, st, sizeof(*st), jh);
	kfree(st);
	return err;
}
