/*
 * command.h - the shell's command table: names, help, usage, subcommands.
 *
 * A command is a constant struct shell_cmd: a name matched as a whole word
 * (never a prefix), a one-line help, a usage line, an argument count range,
 * and a handler and/or a table of subcommands (like Mycelium's
 * Command::new(..).with_help(..).with_subcommands(..)).  Commands live in a
 * struct shell_commands registry; each part of the kernel registers its own
 * from its own file at init (shell_register()), so rt, timer, sched and the
 * arch layer add commands without editing a central list.
 *
 * shell_exec() runs one line: tokenize, find the command, descend into
 * subcommands, check the argument count, call the handler.  `help`,
 * `help CMD [SUB]` and `CMD [SUB] help` print usage and subcommands.  Every
 * error is one line naming the problem, then the usage, and the shell goes
 * on.  All output goes through a struct shell_out, so tests capture it.
 *
 * Commands that wait (sleep, spawn, bench) must not block their core: they
 * have a `start` handler instead of `run`.  It checks its arguments, spawns
 * a task that does the waiting and fills job->jh with its join handle, and
 * returns SHELL_PENDING; the shell task then awaits that handle (and keeps
 * reading input, so Ctrl-C can join_cancel() it): shell.h, job.c, task.h.
 */
#ifndef HYPHAE_SHELL_COMMAND_H
#define HYPHAE_SHELL_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "compiler.h"
#include "sched/task.h"
#include "shell/out.h"
#include "shell/parse.h"

#define SHELL_MAX_COMMANDS	64
#define SHELL_ARGS_ANY		(-1)	/* max_args: no upper limit */

/* A start handler's result: the command goes on in job->jh's task. */
#define SHELL_PENDING		1
/* The last word of a line that runs its command in the background. */
#define SHELL_BACKGROUND	"&"

struct shell_cmd;

/*
 * A command that is still running: the task doing its waiting.  That
 * task's output (TASK_OUTPUT) is an int: 0 or a negative errno code, as a
 * handler's return value.  It prints its own results; the shell prints
 * only "^C" notices.
 */
struct shell_job {
	struct join_handle jh;
	const struct shell_cmd *cmd;	/* set by shell_exec_job() */
	/* Set by shell_exec_job(): the line ended in a separate "&" (run it
	 * in the background).  A command that does not wait is then refused
	 * with one error line, not run. */
	bool background;
};

/*
 * A command handler.  argv[0] is the command's own name (the subcommand's,
 * when reached through a parent), argc counts it.  Returns 0, or a negative
 * errno code after printing the problem (shell_usage_error() does both);
 * shell_exec() passes the code on and prints nothing more.  Task context.
 */
typedef int (*shell_handler_fn)(const struct shell_cmd *cmd, int argc,
				char **argv, const struct shell_out *out);

/*
 * A waiting command's handler: as shell_handler_fn, and it may spawn a task
 * into job->jh and return SHELL_PENDING.  Task context.
 */
typedef int (*shell_start_fn)(const struct shell_cmd *cmd, int argc,
			      char **argv, const struct shell_out *out,
			      struct shell_job *job);

struct shell_cmd {
	const char *name;
	const char *help;		/* one line, no trailing period */
	const char *usage;		/* full, e.g. "dump arch cpuid LEAF [SUBLEAF]" */
	shell_handler_fn run;		/* NULL: only subcommands */
	const struct shell_cmd *subcmds;	/* array, ends at an entry with name == NULL */
	int min_args, max_args;		/* words after the name; checked before run */
	bool raw_args;			/* "CMD help" is an argument, not a help request */
	void *data;			/* for the handler */
	shell_start_fn start;		/* instead of run: may go on as a job */
};

struct shell_commands {
	const struct shell_cmd *cmds[SHELL_MAX_COMMANDS];
	size_t count;
};

/* An empty registry. */
void shell_commands_init(struct shell_commands *reg);

/*
 * Add cmd (which must outlive the registry).  0, -EEXIST (the name is
 * taken, or is "help"), -ENOSPC (table full) or -EINVAL (no name, or
 * neither a handler nor subcommands, or both run and start).  Boot/init
 * time; not concurrent with shell_exec().
 */
int __must_check shell_register(struct shell_commands *reg,
				const struct shell_cmd *cmd);

/* The command named name (whole word), or NULL. */
const struct shell_cmd *shell_find(const struct shell_commands *reg,
				   const char *name);

/*
 * Run one input line (modified in place).  Returns 0, or the negative
 * errno code of the failure after its error line and usage are printed
 * (-ENOENT unknown command, -EINVAL bad arguments, or the handler's code).
 * An empty line does nothing.
 */
int shell_exec(const struct shell_commands *reg, char *line,
	       const struct shell_out *out);

/*
 * As shell_exec(), and a command with a start handler may return
 * SHELL_PENDING with its task in job->jh (job->cmd names it).  With job
 * NULL such a command is refused (-ENOSYS, "only in the shell task").
 * A last word "&" asks for the background: job->background is set, and a
 * command that does not wait gets -EINVAL and one error line.
 */
int shell_exec_job(const struct shell_commands *reg, char *line,
		   const struct shell_out *out, struct shell_job *job);

/*
 * For handlers: print "error: NAME: <message>" and "usage: <usage>", and
 * return -EINVAL.
 */
int shell_usage_error(const struct shell_out *out, const struct shell_cmd *cmd,
		      const char *fmt, ...) __printf(3, 4);

/* Print a command's usage, help and subcommands (what `help CMD` shows). */
void shell_print_usage(const struct shell_out *out, const struct shell_cmd *cmd);

#endif /* HYPHAE_SHELL_COMMAND_H */
