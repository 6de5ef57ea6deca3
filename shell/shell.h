/*
 * shell.h - one shell session: the line editor, a command registry and an
 * output, glued together.
 *
 * The serial reader task feeds it input bytes (shell_feed()); when a line
 * is complete the session runs it with shell_exec() and prints the next
 * prompt.  Nothing here waits or allocates, so the same session runs in
 * the kernel's async shell task and in host tests.  Commands that must
 * wait (sleep, spawn) are the task's business: it can stop feeding while
 * one runs and call shell_prompt() when it is done.
 */
#ifndef HYPHAE_SHELL_SHELL_H
#define HYPHAE_SHELL_SHELL_H

#include <stddef.h>
#include <stdint.h>

#include "shell/command.h"
#include "shell/line.h"
#include "shell/out.h"

#define SHELL_PROMPT	"hyphae> "

struct shell {
	struct shell_line ed;
	const struct shell_commands *cmds;
	struct shell_out out;
	int last_status;	/* shell_exec() result of the last line */
	unsigned long lines;	/* lines run */
};

/* Set up a session over cmds, writing to out (both must outlive it). */
void shell_init(struct shell *sh, const struct shell_commands *cmds,
		const struct shell_out *out);

/* Print the prompt and any partly typed line (after other output). */
void shell_prompt(struct shell *sh);

/*
 * Feed one input byte.  Returns the editor's event; on SHELL_LINE_READY
 * the line has been run and the next prompt printed.  Task context.
 */
enum shell_line_event shell_feed(struct shell *sh, uint8_t byte);

/*
 * Tell the user that n input bytes were lost (the receive ring was full);
 * prints one line, then the prompt again.  Call once per overflow episode.
 */
void shell_input_dropped(struct shell *sh, size_t n);

#endif /* HYPHAE_SHELL_SHELL_H */
