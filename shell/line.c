/*
 * line.c - the line editor state machine (see line.h for the keys).
 *
 * The cursor is always at the end of the line, so every edit is an append
 * or an erase from the end and the echo needs nothing beyond "\b \b";
 * switching to a history entry erases the shown line and writes the new
 * one.  The only terminal escape sent is clear-screen for Ctrl-L.  Escape
 * sequences from the terminal are parsed just far enough to find their
 * end (ECMA-48: parameters 0x20-0x3f, a final byte 0x40-0x7e); a control
 * byte inside one ends it and is then handled normally, so a stray ESC
 * never swallows the Enter that follows.
 */
#include "lib/string.h"
#include "shell/line.h"

#define KEY_CTRL_C	0x03
#define KEY_BS		0x08
#define KEY_LF		0x0a
#define KEY_CTRL_L	0x0c
#define KEY_CR		0x0d
#define KEY_CTRL_U	0x15
#define KEY_ESC		0x1b
#define KEY_DEL		0x7f
#define KEY_BELL	"\a"
#define ERASE_ONE	"\b \b"
#define CLEAR_SCREEN	"\x1b[H\x1b[2J"

void shell_line_init(struct shell_line *ed, const char *prompt)
{
	memset(ed, 0, sizeof(*ed));
	ed->prompt = prompt;
	ed->hist_pos = -1;
}

void shell_line_redraw(const struct shell_line *ed, const struct shell_out *out)
{
	shell_puts(out, ed->prompt);
	shell_write(out, ed->buf, ed->len);
}

const char *shell_line_text(const struct shell_line *ed)
{
	return ed->done;
}

unsigned shell_line_history_count(const struct shell_line *ed)
{
	return ed->hist_count;
}

const char *shell_line_history(const struct shell_line *ed, unsigned k)
{
	if (k >= ed->hist_count)
		return NULL;
	return ed->hist[(ed->hist_head + SHELL_HISTORY - k) % SHELL_HISTORY];
}

static void erase_shown(struct shell_line *ed, const struct shell_out *out)
{
	for (size_t i = 0; i < ed->len; i++)
		shell_write(out, ERASE_ONE, sizeof(ERASE_ONE) - 1);
}

/* Replace the shown line with text (history browsing). */
static void show(struct shell_line *ed, const char *text,
		 const struct shell_out *out)
{
	erase_shown(ed, out);
	ed->len = strlcpy(ed->buf, text, sizeof(ed->buf));
	ed->overflow = 0;
	shell_write(out, ed->buf, ed->len);
}

static void history_add(struct shell_line *ed, const char *line)
{
	const char *newest = shell_line_history(ed, 0);

	if (line[0] == '\0' || (newest && strcmp(newest, line) == 0))
		return;
	ed->hist_head = (ed->hist_head + 1) % SHELL_HISTORY;
	strlcpy(ed->hist[ed->hist_head], line, SHELL_LINE_MAX + 1);
	if (ed->hist_count < SHELL_HISTORY)
		ed->hist_count++;
}

static void history_up(struct shell_line *ed, const struct shell_out *out)
{
	if (ed->hist_pos + 1 >= (int)ed->hist_count) {
		shell_puts(out, KEY_BELL);
		return;
	}
	if (ed->hist_pos < 0)
		memcpy(ed->stash, ed->buf, ed->len + 1);
	ed->hist_pos++;
	show(ed, shell_line_history(ed, (unsigned)ed->hist_pos), out);
}

static void history_down(struct shell_line *ed, const struct shell_out *out)
{
	if (ed->hist_pos < 0) {
		shell_puts(out, KEY_BELL);
		return;
	}
	ed->hist_pos--;
	show(ed, ed->hist_pos < 0 ? ed->stash :
		 shell_line_history(ed, (unsigned)ed->hist_pos), out);
}

static void clear_line(struct shell_line *ed)
{
	ed->len = 0;
	ed->overflow = 0;
	ed->buf[0] = '\0';
	ed->hist_pos = -1;
}

static enum shell_line_event end_line(struct shell_line *ed,
				      const struct shell_out *out)
{
	shell_puts(out, "\n");
	if (ed->overflow) {
		shell_printf(out, "error: line too long (%zu bytes, at most %d); ignored\n",
			     ed->len + ed->overflow, SHELL_LINE_MAX);
		clear_line(ed);
		return SHELL_LINE_TOO_LONG;
	}
	memcpy(ed->done, ed->buf, ed->len + 1);
	history_add(ed, ed->done);
	clear_line(ed);
	return SHELL_LINE_READY;
}

/* Consume a byte of an escape sequence; false if it ended the sequence
 * without being part of it (the caller handles the byte). */
static bool feed_escape(struct shell_line *ed, uint8_t b,
			const struct shell_out *out)
{
	bool final = b >= 0x40 && b <= 0x7e;

	switch (ed->esc) {
	case SHELL_ESC_SEEN:
		ed->esc = b == '[' ? SHELL_ESC_CSI :
			  b == 'O' ? SHELL_ESC_SS3 : SHELL_ESC_NONE;
		/* ESC followed by a control byte: drop the ESC, keep the byte. */
		return b >= 0x20;
	case SHELL_ESC_CSI:
		if (b >= 0x20 && b <= 0x3f)
			return true;	/* parameter or intermediate byte */
		break;
	case SHELL_ESC_SS3:
	case SHELL_ESC_NONE:
		break;
	}
	ed->esc = SHELL_ESC_NONE;
	if (!final)
		return false;
	if (b == 'A')
		history_up(ed, out);
	else if (b == 'B')
		history_down(ed, out);
	return true;
}

enum shell_line_event shell_line_feed(struct shell_line *ed, uint8_t b,
				      const struct shell_out *out)
{
	bool after_cr = ed->after_cr;

	ed->after_cr = false;
	if (ed->esc != SHELL_ESC_NONE && feed_escape(ed, b, out))
		return SHELL_LINE_NONE;

	switch (b) {
	case KEY_CR:
		ed->after_cr = true;
		return end_line(ed, out);
	case KEY_LF:
		return after_cr ? SHELL_LINE_NONE : end_line(ed, out);
	case KEY_BS:
	case KEY_DEL:
		if (ed->overflow > 0) {
			ed->overflow--;		/* those bytes were never shown */
		} else if (ed->len > 0) {
			ed->buf[--ed->len] = '\0';
			shell_write(out, ERASE_ONE, sizeof(ERASE_ONE) - 1);
		}
		return SHELL_LINE_NONE;
	case KEY_CTRL_U:
		erase_shown(ed, out);
		clear_line(ed);
		return SHELL_LINE_NONE;
	case KEY_CTRL_C:
		shell_puts(out, "^C\n");
		clear_line(ed);
		return SHELL_LINE_CANCELED;
	case KEY_CTRL_L:
		shell_puts(out, CLEAR_SCREEN);
		shell_line_redraw(ed, out);
		return SHELL_LINE_NONE;
	case KEY_ESC:
		ed->esc = SHELL_ESC_SEEN;
		return SHELL_LINE_NONE;
	default:
		break;
	}
	if (b < 0x20 || b > 0x7e)
		return SHELL_LINE_NONE;		/* other control, non-ASCII */
	if (ed->len < SHELL_LINE_MAX && ed->overflow == 0) {
		ed->buf[ed->len++] = (char)b;
		ed->buf[ed->len] = '\0';
		shell_write(out, (const char *)&b, 1);
	} else {
		if (ed->overflow == 0)
			shell_puts(out, KEY_BELL);	/* once, at the limit */
		ed->overflow++;
	}
	return SHELL_LINE_NONE;
}
