/*
 * job.c - awaiting and cancelling a command's job (see shell.h).
 *
 * The job is a task spawned by the command's start handler; the session
 * owns its join handle.  Cancelling is join_cancel(): the task is not
 * polled again and its drop_state hook releases what it holds (sleeps,
 * child tasks), so Ctrl-C takes effect within one scheduler tick.
 */
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
