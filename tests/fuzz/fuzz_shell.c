/*
 * fuzz_shell.c - libFuzzer target for the shell's input path.
 *
 * The input is fed byte by byte to a shell session (line editor, then
 * shell_exec() for each completed line), as if typed on the serial
 * console, against a small command table whose handlers use the number
 * and duration parsers.
 * The raw input is also tokenized directly (it need not come through the
 * editor's filter) and every word is parsed as a number and a duration.
 * Invariants checked after every byte: the edit buffer stays within
 * SHELL_LINE_MAX, NUL-terminated and printable; a parsed number printed
 * back parses to itself.  Crashes and sanitizer reports are the findings.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errno.h"
#include "lib/fmt.h"
#include "shell/command.h"
#include "shell/line.h"
#include "shell/parse.h"
#include "shell/shell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* lib/fmt.c's kprintf needs a console; the fuzzer has none. */
void arch_console_write(const char *s, size_t n);
void arch_console_write(const char *s, size_t n)
{
	(void)s;
	(void)n;
}

static size_t out_bytes;

static void count_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	(void)s;
	out_bytes += n;
}

static const struct shell_out out = { .write = count_write };

static int run_num(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *o)
{
	for (int i = 1; i < argc; i++) {
		uint64_t v;
		const char *why;

		if (shell_parse_u64(argv[i], 0, 1000000, &v, &why) < 0)
			return shell_usage_error(o, cmd, "'%s': %s", argv[i], why);
		shell_printf(o, "%llu\n", (unsigned long long)v);
	}
	return 0;
}

static int run_sleep(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *o)
{
	uint64_t ns;
	const char *why;

	(void)argc;
	if (shell_parse_duration(argv[1], &ns, &why) < 0)
		return shell_usage_error(o, cmd, "'%s': %s", argv[1], why);
	shell_printf(o, "%llu ns\n", (unsigned long long)ns);
	return 0;
}

static int run_echo(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *o)
{
	(void)cmd;
	for (int i = 1; i < argc; i++)
		shell_printf(o, "%s%s", argv[i], i + 1 < argc ? " " : "\n");
	return 0;
}

static const struct shell_cmd dump_subs[] = {
	{ .name = "rt", .help = "runtime", .usage = "dump rt", .run = run_echo },
	{ .name = "num", .help = "numbers", .usage = "dump num N...", .run = run_num,
	  .min_args = 1, .max_args = SHELL_ARGS_ANY },
	{ 0 },
};

static const struct shell_cmd cmds[] = {
	{ .name = "echo", .help = "print", .usage = "echo ARGS", .run = run_echo,
	  .max_args = SHELL_ARGS_ANY, .raw_args = true },
	{ .name = "sleep", .help = "sleep", .usage = "sleep DURATION",
	  .run = run_sleep, .min_args = 1, .max_args = 1 },
	{ .name = "dump", .help = "dump", .usage = "dump WHAT", .subcmds = dump_subs },
};

static struct shell_commands reg;
static struct shell sh;

static void check_editor(void)
{
	const struct shell_line *ed = &sh.ed;

	if (ed->len > SHELL_LINE_MAX || ed->buf[ed->len] != '\0' ||
	    strlen(ed->buf) != ed->len)
		abort();
	for (size_t i = 0; i < ed->len; i++) {
		if (ed->buf[i] < 0x20 || ed->buf[i] > 0x7e)
			abort();
	}
}

static void check_words(const uint8_t *data, size_t size)
{
	char line[SHELL_LINE_MAX * 4 + 1];
	char *argv[SHELL_MAX_ARGS];
	const char *why;
	int argc;

	if (size >= sizeof(line))
		size = sizeof(line) - 1;
	memcpy(line, data, size);
	line[size] = '\0';
	argc = shell_tokenize(line, argv, SHELL_MAX_ARGS, &why);
	if (argc < 0)
		return;
	if (argc >= SHELL_MAX_ARGS || argv[argc] != NULL)
		abort();
	for (int i = 0; i < argc; i++) {
		uint64_t v, w, ns;
		char back[32];

		if (shell_parse_u64(argv[i], 0, UINT64_MAX, &v, &why) == 0) {
			ksnprintf(back, sizeof(back), "%llu", (unsigned long long)v);
			if (shell_parse_u64(back, 0, UINT64_MAX, &w, &why) != 0 || w != v)
				abort();
		}
		(void)!shell_parse_duration(argv[i], &ns, &why);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;

	if (!initialized) {
		shell_commands_init(&reg);
		for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
			if (shell_register(&reg, &cmds[i]) != 0)
				abort();
		}
		initialized = 1;
	}
	shell_init(&sh, &reg, &out);
	for (size_t i = 0; i < size; i++) {
		enum shell_line_event ev = shell_feed(&sh, data[i]);

		check_editor();
		if (ev == SHELL_LINE_READY &&
		    strlen(shell_line_text(&sh.ed)) > SHELL_LINE_MAX)
			abort();
	}
	check_words(data, size);
	return 0;
}
