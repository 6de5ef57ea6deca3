/*
 * shell.h - one shell session: the line editor, a command registry and an
 * output, glued together.
 *
 * The serial reader task feeds it input bytes (shell_feed()); when a line
 * is complete the session runs it with shell_exec() and prints the next
 * prompt.  Nothing here waits or allocates, so the same session runs in
 * the kernel's async shell task and in host tests.  A command that must
 * wait (sleep, spawn, bench) leaves a job behind (command.h): the session
 * is then busy, prints no prompt, and its owner awaits shell_job_poll()
 * (which prints the prompt when the job ends) and may shell_job_cancel()
 * it on Ctrl-C.  shell/task.h is that owner in the kernel.
 */
#ifndef HYPHAE_SHELL_SHELL_H
#define HYPHAE_SHELL_SHELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shell/command.h"
#include "shell/line.h"
#include "shell/out.h"

#define SHELL_PROMPT	"hyphae> "
/* Background jobs a session runs at once, and how much of each line it
 * keeps to show them. */
#define SHELL_BG_MAX	8
#define SHELL_BG_LINE	48

/* A job started with a trailing "&": it runs while the prompt is back. */
struct shell_bg_job {
	struct shell_job job;
	unsigned id;			/* 0: the slot is free */
	bool cancelled;			/* `kill` reached it */
	char line[SHELL_BG_LINE];	/* the command, without the "&" */
};

struct shell {
	struct shell_line ed;
	const struct shell_commands *cmds;
	struct shell_out out;
	int last_status;	/* shell_exec() result of the last line */
	unsigned long lines;	/* lines run */
	struct shell_job job;	/* the running command, while busy */
	bool busy;
	bool cancel_sent;	/* shell_job_cancel() reached the job */
	struct shell_bg_job bg[SHELL_BG_MAX];
	unsigned bg_last_id;	/* ids count up from 1 */
};

/* Set up a session over cmds, writing to out (both must outlive it). */
void shell_init(struct shell *sh, const struct shell_commands *cmds,
		const struct shell_out *out);

/* Print the prompt and any partly typed line (after other output). */
void shell_prompt(struct shell *sh);

/*
 * Feed one input byte.  Returns the editor's event; on SHELL_LINE_READY
 * the line has been run and the next prompt printed, unless the command
 * left a job (shell_busy()).  Not while busy.  Task context.
 */
enum shell_line_event shell_feed(struct shell *sh, uint8_t byte);

/*
 * Tell the user that n input bytes were lost (the receive ring was full);
 * prints one line, then the prompt again.  Call once per overflow episode.
 */
void shell_input_dropped(struct shell *sh, size_t n);

/* True while a command's job runs (no prompt yet). */
static inline bool shell_busy(const struct shell *sh)
{
	return sh->busy;
}

/*
 * Await the running job (shell/job.c): PENDING (cx's waker is woken when
 * it ends), or READY once it has ended, its status is in last_status, a
 * "^C" notice printed if it was cancelled, and the prompt shown.  READY at
 * once when not busy.  The session's task only.
 */
enum poll shell_job_poll(struct shell *sh, struct context *cx);

/* Ctrl-C: cancel the running job (its task stops at its next poll and
 * releases what it holds); shell_job_poll() then reports it.  No-op when
 * not busy.  The session's task only. */
void shell_job_cancel(struct shell *sh);

/*
 * Look at the background jobs: each one that ended is reported in one
 * line ("[N] done: LINE") and its slot freed, and the prompt is shown
 * again when not busy; the rest get cx's waker.  The session's task only.
 */
void shell_bg_poll(struct shell *sh, struct context *cx);

/* The background job with id `id`, or NULL. */
struct shell_bg_job *shell_bg_find(struct shell *sh, unsigned id);

/* `jobs`: one line per background job.  `kill %N`: cancel job N; 0 or
 * -ENOENT.  The session's task only. */
void shell_bg_list(struct shell *sh, const struct shell_out *out);
int shell_bg_kill(struct shell *sh, unsigned id);

/* Cancel and drop every background job (the session ends). */
void shell_bg_drop_all(struct shell *sh);

#endif /* HYPHAE_SHELL_SHELL_H */
