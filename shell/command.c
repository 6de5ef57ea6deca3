/*
 * command.c - command registry, dispatch and help (see command.h).
 *
 * Dispatch walks down the words of a line: the first word picks a
 * registered command, each following word that names a subcommand of the
 * current one descends, and the remaining words are the handler's
 * arguments.  Names compare whole (strcmp), so `he` is not `help`.  Error
 * lines name the full command path as typed ("dump arch: unknown
 * subcommand 'x'"), then show the usage.
 */
#include "errno.h"
#include "lib/string.h"
#include "shell/command.h"

#define HELP_NAME	"help"
#define HELP_HELP	"list the commands, or show how to use one"
#define HELP_USAGE	"help [COMMAND [SUBCOMMAND...]]"

void shell_commands_init(struct shell_commands *reg)
{
	memset(reg, 0, sizeof(*reg));
}

const struct shell_cmd *shell_find(const struct shell_commands *reg,
				   const char *name)
{
	for (size_t i = 0; i < reg->count; i++) {
		if (strcmp(reg->cmds[i]->name, name) == 0)
			return reg->cmds[i];
	}
	return NULL;
}

int shell_register(struct shell_commands *reg, const struct shell_cmd *cmd)
{
	if (cmd == NULL || cmd->name == NULL || cmd->name[0] == '\0' ||
	    (cmd->run == NULL && cmd->start == NULL && cmd->subcmds == NULL) ||
	    (cmd->run != NULL && cmd->start != NULL))
		return -EINVAL;
	if (strcmp(cmd->name, HELP_NAME) == 0 || shell_find(reg, cmd->name))
		return -EEXIST;
	if (reg->count >= SHELL_MAX_COMMANDS)
		return -ENOSPC;
	reg->cmds[reg->count++] = cmd;
	return 0;
}

static const struct shell_cmd *find_sub(const struct shell_cmd *cmd,
					const char *name)
{
	if (cmd->subcmds == NULL)
		return NULL;
	for (const struct shell_cmd *s = cmd->subcmds; s->name; s++) {
		if (strcmp(s->name, name) == 0)
			return s;
	}
	return NULL;
}

/* Print names and help lines aligned in two columns. */
static void print_table(const struct shell_out *out,
			const struct shell_cmd *const *cmds, size_t n,
			const struct shell_cmd *array, bool with_help)
{
	int width = with_help ? (int)sizeof(HELP_NAME) - 1 : 0;

	for (size_t i = 0; array ? array[i].name != NULL : i < n; i++) {
		const struct shell_cmd *c = array ? &array[i] : cmds[i];
		int len = (int)strlen(c->name);

		width = len > width ? len : width;
	}
	for (size_t i = 0; array ? array[i].name != NULL : i < n; i++) {
		const struct shell_cmd *c = array ? &array[i] : cmds[i];

		shell_printf(out, "  %-*s  %s\n", width, c->name,
			     c->help ? c->help : "");
	}
	if (with_help)
		shell_printf(out, "  %-*s  %s\n", width, HELP_NAME, HELP_HELP);
}

void shell_print_usage(const struct shell_out *out, const struct shell_cmd *cmd)
{
	shell_printf(out, "usage: %s\n", cmd->usage ? cmd->usage : cmd->name);
	if (cmd->help)
		shell_printf(out, "  %s\n", cmd->help);
	if (cmd->subcmds && cmd->subcmds[0].name) {
		shell_puts(out, "subcommands:\n");
		print_table(out, NULL, 0, cmd->subcmds, false);
	}
}

static void print_path(const struct shell_out *out, char **argv, int depth)
{
	for (int i = 0; i <= depth; i++)
		shell_printf(out, "%s%s", i ? " " : "", argv[i]);
}

/* Error line naming the path argv[0..depth], then cmd's usage. */
static int __printf(5, 6) path_error(const struct shell_out *out,
				     const struct shell_cmd *cmd, char **argv,
				     int depth, const char *fmt, ...)
{
	va_list ap;

	shell_puts(out, "error: ");
	print_path(out, argv, depth);
	shell_puts(out, ": ");
	va_start(ap, fmt);
	shell_vprintf(out, fmt, ap);
	va_end(ap);
	shell_puts(out, "\n");
	shell_print_usage(out, cmd);
	return -EINVAL;
}

int shell_usage_error(const struct shell_out *out, const struct shell_cmd *cmd,
		      const char *fmt, ...)
{
	va_list ap;

	shell_printf(out, "error: %s: ", cmd->name);
	va_start(ap, fmt);
	shell_vprintf(out, fmt, ap);
	va_end(ap);
	shell_puts(out, "\n");
	shell_print_usage(out, cmd);
	return -EINVAL;
}

static int run_help(const struct shell_commands *reg, int argc, char **argv,
		    const struct shell_out *out)
{
	const struct shell_cmd *cmd;

	if (argc == 1) {
		shell_puts(out, "commands:\n");
		print_table(out, reg->cmds, reg->count, NULL, true);
		shell_puts(out, "type 'help COMMAND' or 'COMMAND help' for its usage\n");
		return 0;
	}
	if (strcmp(argv[1], HELP_NAME) == 0) {
		shell_printf(out, "usage: %s\n  %s\n", HELP_USAGE, HELP_HELP);
		return 0;
	}
	cmd = shell_find(reg, argv[1]);
	if (cmd == NULL) {
		shell_printf(out, "error: help: unknown command '%s'; type 'help' for the list\n",
			     argv[1]);
		return -ENOENT;
	}
	for (int i = 2; i < argc; i++) {
		const struct shell_cmd *sub = find_sub(cmd, argv[i]);

		if (sub == NULL)
			return path_error(out, cmd, argv + 1, i - 2,
					  "no subcommand '%s'", argv[i]);
		cmd = sub;
	}
	shell_print_usage(out, cmd);
	return 0;
}

static int dispatch(const struct shell_cmd *cmd, int argc, char **argv,
		    int depth, const struct shell_out *out,
		    struct shell_job *job)
{
	/* argv[depth] is cmd's own name; the words after it are its input. */
	int nargs = argc - depth - 1;
	char *next = nargs > 0 ? argv[depth + 1] : NULL;

	if (next && !cmd->raw_args && strcmp(next, HELP_NAME) == 0) {
		shell_print_usage(out, cmd);
		return 0;
	}
	if (next && cmd->subcmds) {
		const struct shell_cmd *sub = find_sub(cmd, next);

		if (sub)
			return dispatch(sub, argc, argv, depth + 1, out, job);
		if (cmd->run == NULL && cmd->start == NULL)
			return path_error(out, cmd, argv, depth,
					  "unknown subcommand '%s'", next);
	}
	if (cmd->run == NULL && cmd->start == NULL)
		return path_error(out, cmd, argv, depth, "missing subcommand");
	if (nargs < cmd->min_args ||
	    (cmd->max_args != SHELL_ARGS_ANY && nargs > cmd->max_args)) {
		if (cmd->min_args == cmd->max_args)
			return path_error(out, cmd, argv, depth,
					  "expected %d argument%s, got %d",
					  cmd->min_args,
					  cmd->min_args == 1 ? "" : "s", nargs);
		return path_error(out, cmd, argv, depth,
				  nargs < cmd->min_args ? "too few arguments (%d)" :
				  "too many arguments (%d)", nargs);
	}
	if (cmd->run && job && job->background) {
		shell_puts(out, "error: ");
		print_path(out, argv, depth);
		shell_puts(out, ": does not wait, so '&' has nothing to run in the background\n");
		return -EINVAL;
	}
	if (cmd->run)
		return cmd->run(cmd, nargs + 1, argv + depth, out);
	if (job == NULL) {
		shell_puts(out, "error: ");
		print_path(out, argv, depth);
		shell_puts(out, ": waits, so it runs only in the shell task\n");
		return -ENOSYS;
	}
	job->cmd = cmd;
	job->jh = JOIN_HANDLE_NONE;
	return cmd->start(cmd, nargs + 1, argv + depth, out, job);
}

int shell_exec(const struct shell_commands *reg, char *line,
	       const struct shell_out *out)
{
	return shell_exec_job(reg, line, out, NULL);
}

int shell_exec_job(const struct shell_commands *reg, char *line,
		   const struct shell_out *out, struct shell_job *job)
{
	char *argv[SHELL_MAX_ARGS];
	const struct shell_cmd *cmd;
	const char *why = "";
	int argc;

	argc = shell_tokenize(line, argv, SHELL_MAX_ARGS, &why);
	if (argc < 0) {
		shell_printf(out, "error: %s\n", why);
		return argc;
	}
	if (job)
		job->background = false;
	if (argc > 0 && strcmp(argv[argc - 1], SHELL_BACKGROUND) == 0) {
		if (job == NULL || argc == 1) {
			shell_printf(out, "error: '%s' needs a command that waits before it\n",
				     SHELL_BACKGROUND);
			return -EINVAL;
		}
		job->background = true;
		argv[--argc] = NULL;
	}
	if (argc == 0)
		return 0;
	if (strcmp(argv[0], HELP_NAME) == 0) {
		if (job && job->background) {
			shell_puts(out, "error: help: does not wait, so '&' has nothing to run in the background\n");
			return -EINVAL;
		}
		return run_help(reg, argc, argv, out);
	}
	cmd = shell_find(reg, argv[0]);
	if (cmd == NULL) {
		shell_printf(out, "error: unknown command '%s'; type 'help' for the list\n",
			     argv[0]);
		return -ENOENT;
	}
	return dispatch(cmd, argc, argv, 0, out, job);
}
