/*
 * shell.c - a shell session (see shell.h): bytes in, editor, commands,
 * prompt.  The completed line is copied out of the editor before it runs,
 * because tokenizing writes into it.  Awaiting a command's job is in
 * job.c, so this file (and the fuzzer that links it) needs no scheduler.
 */
#include "errno.h"
#include "lib/string.h"
#include "shell/shell.h"

void shell_init(struct shell *sh, const struct shell_commands *cmds,
		const struct shell_out *out)
{
	memset(sh, 0, sizeof(*sh));
	shell_line_init(&sh->ed, SHELL_PROMPT);
	sh->cmds = cmds;
	sh->out = *out;
}

void shell_prompt(struct shell *sh)
{
	shell_line_redraw(&sh->ed, &sh->out);
}

/* True if the line's last word is the background marker alone. */
static bool ends_in_background(const char *line)
{
	size_t n = strlen(line);

	while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
		n--;
	return n > 0 && line[n - 1] == SHELL_BACKGROUND[0] &&
	       (n == 1 || line[n - 2] == ' ' || line[n - 2] == '\t');
}

static struct shell_bg_job *bg_free_slot(struct shell *sh)
{
	for (unsigned i = 0; i < SHELL_BG_MAX; i++)
		if (sh->bg[i].id == 0)
			return &sh->bg[i];
	return NULL;
}

/* The job just started goes to a background slot (one is free). */
static void to_background(struct shell *sh, const char *text)
{
	struct shell_bg_job *b = bg_free_slot(sh);
	size_t n;

	b->job = sh->job;
	sh->job.jh = JOIN_HANDLE_NONE;
	b->id = ++sh->bg_last_id;
	b->cancelled = false;
	strlcpy(b->line, text, sizeof(b->line));
	/* Shown without the "&" and the blanks before it. */
	n = strlen(b->line);
	while (n > 0 && (b->line[n - 1] == ' ' || b->line[n - 1] == '\t' ||
			 b->line[n - 1] == SHELL_BACKGROUND[0]))
		b->line[--n] = '\0';
	shell_printf(&sh->out, "[%u] %s\n", b->id, b->line);
}

enum shell_line_event shell_feed(struct shell *sh, uint8_t byte)
{
	enum shell_line_event ev = shell_line_feed(&sh->ed, byte, &sh->out);
	char line[SHELL_LINE_MAX + 1];

	switch (ev) {
	case SHELL_LINE_READY:
		strlcpy(line, shell_line_text(&sh->ed), sizeof(line));
		sh->lines++;
		if (ends_in_background(line) && bg_free_slot(sh) == NULL) {
			shell_printf(&sh->out, "error: %u background jobs run already; "
				     "wait for one or kill it\n", SHELL_BG_MAX);
			sh->last_status = -EBUSY;
			shell_prompt(sh);
			break;
		}
		sh->last_status = shell_exec_job(sh->cmds, line, &sh->out,
						 &sh->job);
		if (sh->last_status == SHELL_PENDING && sh->job.background) {
			to_background(sh, shell_line_text(&sh->ed));
			sh->last_status = 0;
		} else if (sh->last_status == SHELL_PENDING) {
			sh->busy = true;
			sh->cancel_sent = false;
			break;
		}
		shell_prompt(sh);
		break;
	case SHELL_LINE_CANCELED:
	case SHELL_LINE_TOO_LONG:
		shell_prompt(sh);
		break;
	case SHELL_LINE_NONE:
		break;
	}
	return ev;
}

void shell_input_dropped(struct shell *sh, size_t n)
{
	shell_printf(&sh->out, "\nwarning: %zu input bytes dropped (typing faster than the shell reads)\n",
		     n);
	shell_prompt(sh);
}
