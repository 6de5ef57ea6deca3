/*
 * line.h - the shell's line editor: a state machine fed one byte at a time.
 *
 * It has no I/O of its own: shell_line_feed() takes one input byte, writes
 * the echo (and any redraw) to a struct shell_out, and says when a line is
 * complete.  So the serial reader task, the host tests and the fuzzer all
 * drive the same code.  Keys: printable ASCII is inserted at the end;
 * Backspace/DEL erase one byte; Ctrl-U erases the line; Ctrl-C cancels it;
 * Ctrl-L clears the screen and redraws; Up/Down (ESC [ A / ESC [ B, or
 * ESC O A / B) walk a history of the last SHELL_HISTORY lines; CR, LF and
 * CRLF end a line (CRLF counts once).  Other control bytes, other escape
 * sequences and bytes >= 0x80 are ignored.  A line longer than
 * SHELL_LINE_MAX bytes is not stored past the limit: the excess is counted,
 * not kept, and the line is refused with a message when it ends.
 */
#ifndef HYPHAE_SHELL_LINE_H
#define HYPHAE_SHELL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "shell/out.h"

#define SHELL_LINE_MAX	256
#define SHELL_HISTORY	16

enum shell_line_event {
	SHELL_LINE_NONE,	/* keep feeding */
	SHELL_LINE_READY,	/* a line ended: shell_line_text() */
	SHELL_LINE_CANCELED,	/* Ctrl-C: the line was discarded */
	SHELL_LINE_TOO_LONG,	/* over SHELL_LINE_MAX: refused, message echoed */
};

enum shell_line_esc {
	SHELL_ESC_NONE,
	SHELL_ESC_SEEN,		/* after ESC */
	SHELL_ESC_CSI,		/* after ESC [ : parameters until a final byte */
	SHELL_ESC_SS3,		/* after ESC O : one final byte */
};

/* One editor; used by one task at a time (no locking). */
struct shell_line {
	const char *prompt;

	/* The line being edited: len bytes, plus overflow bytes not kept. */
	char buf[SHELL_LINE_MAX + 1];
	size_t len;
	size_t overflow;
	enum shell_line_esc esc;
	bool after_cr;		/* last byte was CR: a following LF is swallowed */

	/* The last completed line, valid until the next one completes. */
	char done[SHELL_LINE_MAX + 1];

	/* History ring: hist_count entries, the newest at hist_head. */
	char hist[SHELL_HISTORY][SHELL_LINE_MAX + 1];
	unsigned hist_count;
	unsigned hist_head;
	int hist_pos;		/* -1: editing a new line; k: showing k-th newest */
	char stash[SHELL_LINE_MAX + 1];	/* the new line, while browsing */
};

/* Reset ed with an empty line and history; prompt is kept by reference. */
void shell_line_init(struct shell_line *ed, const char *prompt);

/* Write the prompt and the line so far (start of input, after output). */
void shell_line_redraw(const struct shell_line *ed, const struct shell_out *out);

/* Feed one input byte; echo goes to out.  Task context. */
enum shell_line_event shell_line_feed(struct shell_line *ed, uint8_t byte,
				      const struct shell_out *out);

/* The line completed by the last SHELL_LINE_READY (NUL-terminated). */
const char *shell_line_text(const struct shell_line *ed);

/* History: number of entries, and the k-th newest (k = 0 newest) or NULL. */
unsigned shell_line_history_count(const struct shell_line *ed);
const char *shell_line_history(const struct shell_line *ed, unsigned k);

#endif /* HYPHAE_SHELL_LINE_H */
