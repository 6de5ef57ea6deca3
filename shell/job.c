/*
 * job.c - awaiting and cancelling a command's job, in the foreground or
 * in the background (see shell.h).
 *
 * The job is a task spawned by the command's start handler; the session
 * owns its join handle.  Cancelling is join_cancel(): the task is not
 * polled again and its drop_state hook releases what it holds (sleeps,
 * child tasks), so Ctrl-C takes effect within one scheduler tick.
 */
#include "errno.h"
#include "shell/shell.h"

enum poll shell_job_poll(struct shell *sh, struct context *cx)
{
	int status = 0;

	if (!sh->busy)
		return POLL_READY;
	if (join_poll(&sh->job.jh, cx, &status, sizeof(status)) == POLL_PENDING)
		return POLL_PENDING;
	if (sh->job.jh.result == JOIN_CANCELLED) {
		shell_printf(&sh->out, "^C\n%s: interrupted\n",
			     sh->job.cmd ? sh->job.cmd->name : "command");
		status = -ECANCELED;
	}
	sh->last_status = status;
	sh->busy = false;
	shell_prompt(sh);
	return POLL_READY;
}

void shell_job_cancel(struct shell *sh)
{
	if (!sh->busy || sh->cancel_sent)
		return;
	sh->cancel_sent = join_cancel(&sh->job.jh);
}

static const char *bg_outcome(const struct shell_bg_job *b, int status)
{
	if (b->job.jh.result == JOIN_CANCELLED)
		return "interrupted";
	if (b->job.jh.result == JOIN_FAULTED)
		return "faulted";
	return status == 0 ? "done" : "failed";
}

void shell_bg_poll(struct shell *sh, struct context *cx)
{
	bool reported = false;

	for (unsigned i = 0; i < SHELL_BG_MAX; i++) {
		struct shell_bg_job *b = &sh->bg[i];
		int status = 0;

		if (b->id == 0 ||
		    join_poll(&b->job.jh, cx, &status, sizeof(status)) == POLL_PENDING)
			continue;
		if (!reported && !sh->busy)
			shell_puts(&sh->out, "\n");
		shell_printf(&sh->out, "[%u] %s: %s\n", b->id, bg_outcome(b, status),
			     b->line);
		b->id = 0;
		reported = true;
	}
	if (reported && !sh->busy)
		shell_prompt(sh);
}

struct shell_bg_job *shell_bg_find(struct shell *sh, unsigned id)
{
	for (unsigned i = 0; id && i < SHELL_BG_MAX; i++)
		if (sh->bg[i].id == id)
			return &sh->bg[i];
	return NULL;
}

void shell_bg_list(struct shell *sh, const struct shell_out *out)
{
	bool any = false;

	/* In id order: ids grow, a slot is reused. */
	for (unsigned id = 1; id <= sh->bg_last_id; id++) {
		struct shell_bg_job *b = shell_bg_find(sh, id);

		if (b == NULL)
			continue;
		shell_printf(out, "[%u] %-11s %s\n", b->id,
			     b->cancelled ? "cancelling" :
			     join_is_finished(&b->job.jh) ? "done" : "running",
			     b->line);
		any = true;
	}
	if (!any)
		shell_puts(out, "no background jobs\n");
}

int shell_bg_kill(struct shell *sh, unsigned id)
{
	struct shell_bg_job *b = shell_bg_find(sh, id);

	if (b == NULL)
		return -ENOENT;
	b->cancelled = true;
	(void)join_cancel(&b->job.jh);
	return 0;
}

void shell_bg_drop_all(struct shell *sh)
{
	for (unsigned i = 0; i < SHELL_BG_MAX; i++) {
		struct shell_bg_job *b = &sh->bg[i];

		if (b->id == 0)
			continue;
		(void)join_cancel(&b->job.jh);
		join_drop(&b->job.jh);
		b->id = 0;
	}
}
