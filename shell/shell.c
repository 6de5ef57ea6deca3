/*
 * shell.c - a shell session (see shell.h): bytes in, editor, commands,
 * prompt.  The completed line is copied out of the editor before it runs,
 * because tokenizing writes into it.  Awaiting a command's job is in
 * job.c, so this file (and the fuzzer that links it) needs no scheduler.
 */
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

enum shell_line_event shell_feed(struct shell *sh, uint8_t byte)
{
	enum shell_line_event ev = shell_line_feed(&sh->ed, byte, &sh->out);
	char line[SHELL_LINE_MAX + 1];

	switch (ev) {
	case SHELL_LINE_READY:
		strlcpy(line, shell_line_text(&sh->ed), sizeof(line));
		sh->last_status = shell_exec_job(sh->cmds, line, &sh->out,
						 &sh->job);
		sh->lines++;
		if (sh->last_status == SHELL_PENDING) {
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
