/*
 * test_command.c - shell/command.c: registry, whole-word dispatch,
 * subcommands, help, argument checks and error lines, with all output
 * captured through a struct shell_out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "capture.h"
#include "errno.h"
#include "shell/command.h"

/* What the last handler saw. */
static struct {
	const char *cmd;
	int argc;
	char argv[SHELL_MAX_ARGS][64];
	int calls;
} seen;

static int record(const struct shell_cmd *cmd, int argc, char **argv,
		  const struct shell_out *out)
{
	seen.cmd = cmd->name;
	seen.argc = argc;
	for (int i = 0; i < argc && i < SHELL_MAX_ARGS; i++)
		snprintf(seen.argv[i], sizeof(seen.argv[i]), "%s", argv[i]);
	seen.calls++;
	shell_printf(out, "ran %s\n", cmd->name);
	return 0;
}

static int run_sleep(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	uint64_t ns;
	const char *why;

	(void)argc;
	if (shell_parse_duration(argv[1], &ns, &why) < 0)
		return shell_usage_error(out, cmd, "bad duration '%s': %s", argv[1], why);
	shell_printf(out, "slept %llu ns\n", (unsigned long long)ns);
	return 0;
}

static const struct shell_cmd arch_subs[] = {
	{ .name = "cpuid", .help = "show a CPUID leaf",
	  .usage = "dump arch cpuid LEAF [SUBLEAF]", .run = record,
	  .min_args = 1, .max_args = 2 },
	{ .name = "cr", .help = "control registers", .usage = "dump arch cr",
	  .run = record },
	{ 0 },
};

static const struct shell_cmd dump_subs[] = {
	{ .name = "rt", .help = "the runtime", .usage = "dump rt", .run = record },
	{ .name = "heap", .help = "heap use per size class", .usage = "dump heap",
	  .run = record },
	{ .name = "arch", .help = "processor state", .usage = "dump arch WHAT",
	  .subcmds = arch_subs },
	{ 0 },
};

static const struct shell_cmd cmd_dump = {
	.name = "dump", .help = "print internal state", .usage = "dump WHAT",
	.subcmds = dump_subs,
};
static const struct shell_cmd cmd_sleep = {
	.name = "sleep", .help = "wait on the global timer",
	.usage = "sleep DURATION", .run = run_sleep, .min_args = 1, .max_args = 1,
};
static const struct shell_cmd cmd_echo = {
	.name = "echo", .help = "print the arguments", .usage = "echo [ARG...]",
	.run = record, .max_args = SHELL_ARGS_ANY, .raw_args = true,
};
static const struct shell_cmd cmd_rt = {
	.name = "rt", .help = "runtime summary", .usage = "rt [CORE]",
	.run = record, .max_args = 1,
};

struct rig {
	struct shell_commands reg;
	struct capture cap;
};

static int setup(void **state)
{
	struct rig *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -1;
	shell_commands_init(&r->reg);
	capture_reset(&r->cap);
	if (shell_register(&r->reg, &cmd_dump) || shell_register(&r->reg, &cmd_sleep) ||
	    shell_register(&r->reg, &cmd_echo) || shell_register(&r->reg, &cmd_rt))
		return -1;
	memset(&seen, 0, sizeof(seen));
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	free(*state);
	return 0;
}

static int run(struct rig *r, const char *line)
{
	char buf[512];

	strcpy(buf, line);
	capture_reset(&r->cap);
	return shell_exec(&r->reg, buf, &r->cap.out);
}

static void assert_output_has(struct rig *r, const char *part)
{
	if (strstr(r->cap.buf, part) == NULL) {
		print_error("output lacks \"%s\":\n%s\n", part, r->cap.buf);
		fail();
	}
}

static void test_register(void **state)
{
	struct rig *r = *state;
	static const struct shell_cmd nothing = { .name = "nothing" };
	static const struct shell_cmd help = { .name = "help", .run = record };
	static struct shell_cmd many[SHELL_MAX_COMMANDS];
	static char names[SHELL_MAX_COMMANDS][16];
	int err = 0;

	assert_int_equal(shell_register(&r->reg, &cmd_sleep), -EEXIST);
	assert_int_equal(shell_register(&r->reg, &help), -EEXIST);
	assert_int_equal(shell_register(&r->reg, &nothing), -EINVAL);
	assert_int_equal(shell_register(&r->reg, NULL), -EINVAL);
	assert_ptr_equal(shell_find(&r->reg, "sleep"), &cmd_sleep);
	assert_null(shell_find(&r->reg, "slee"));
	for (int i = 0; i < SHELL_MAX_COMMANDS && err == 0; i++) {
		snprintf(names[i], sizeof(names[i]), "c%d", i);
		many[i] = (struct shell_cmd){ .name = names[i], .run = record };
		err = shell_register(&r->reg, &many[i]);
	}
	assert_int_equal(err, -ENOSPC);
	assert_int_equal(r->reg.count, SHELL_MAX_COMMANDS);
}

static void test_whole_word_matching(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "sle 1s"), -ENOENT);
	assert_output_has(r, "error: unknown command 'sle'");
	assert_output_has(r, "help");
	assert_int_equal(run(r, "sleeps 1s"), -ENOENT);
	assert_int_equal(run(r, "SLEEP 1s"), -ENOENT);
	assert_int_equal(run(r, "dump r"), -EINVAL);
	assert_output_has(r, "error: dump: unknown subcommand 'r'");
	assert_int_equal(seen.calls, 0);
	assert_int_equal(run(r, "sleep 1s"), 0);
	assert_string_equal(r->cap.buf, "slept 1000000000 ns\n");
}

static void test_empty_and_tokenizer_error(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, ""), 0);
	assert_int_equal(run(r, "   \t"), 0);
	assert_int_equal(r->cap.len, 0);
	assert_int_equal(run(r, "echo \"abc"), -EINVAL);
	assert_string_equal(r->cap.buf, "error: unterminated \" quote\n");
	assert_int_equal(seen.calls, 0);
}

static void test_handler_arguments(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "echo 'a b' \"c\\td\" help"), 0);
	assert_string_equal(seen.cmd, "echo");
	assert_int_equal(seen.argc, 4);
	assert_string_equal(seen.argv[0], "echo");
	assert_string_equal(seen.argv[1], "a b");
	assert_string_equal(seen.argv[2], "c\td");
	assert_string_equal(seen.argv[3], "help");	/* raw_args: not help */

	/* A subcommand's handler sees its own name first. */
	assert_int_equal(run(r, "dump arch cpuid 0x1 0"), 0);
	assert_string_equal(seen.cmd, "cpuid");
	assert_int_equal(seen.argc, 3);
	assert_string_equal(seen.argv[0], "cpuid");
	assert_string_equal(seen.argv[1], "0x1");
	assert_string_equal(seen.argv[2], "0");
	assert_string_equal(r->cap.buf, "ran cpuid\n");
}

static void test_argument_counts(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "sleep"), -EINVAL);
	assert_output_has(r, "error: sleep: expected 1 argument, got 0\n");
	assert_output_has(r, "usage: sleep DURATION\n");
	assert_int_equal(run(r, "sleep 1s 2s"), -EINVAL);
	assert_output_has(r, "expected 1 argument, got 2");
	assert_int_equal(run(r, "dump arch cpuid"), -EINVAL);
	assert_output_has(r, "error: dump arch cpuid: too few arguments (0)\n");
	assert_output_has(r, "usage: dump arch cpuid LEAF [SUBLEAF]\n");
	assert_int_equal(run(r, "dump arch cpuid 1 2 3"), -EINVAL);
	assert_output_has(r, "too many arguments (3)");
	assert_int_equal(run(r, "rt 1 2"), -EINVAL);
	assert_output_has(r, "error: rt: too many arguments (2)");
	assert_int_equal(seen.calls, 0);
}

static void test_handler_error(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "sleep 10"), -EINVAL);
	assert_string_equal(r->cap.buf,
		"error: sleep: bad duration '10': duration needs a unit: ns, us, ms or s\n"
		"usage: sleep DURATION\n"
		"  wait on the global timer\n");
}

static void test_missing_subcommand(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "dump"), -EINVAL);
	assert_output_has(r, "error: dump: missing subcommand\n");
	assert_output_has(r, "subcommands:\n");
	assert_output_has(r, "  rt    the runtime\n");
	assert_output_has(r, "  heap  heap use per size class\n");
	assert_int_equal(run(r, "dump arch"), -EINVAL);
	assert_output_has(r, "error: dump arch: missing subcommand\n");
	assert_output_has(r, "  cpuid  show a CPUID leaf\n");
	assert_int_equal(run(r, "dump arch msr 1"), -EINVAL);
	assert_output_has(r, "error: dump arch: unknown subcommand 'msr'\n");
}

static void test_help(void **state)
{
	struct rig *r = *state;

	assert_int_equal(run(r, "help"), 0);
	assert_output_has(r, "commands:\n");
	assert_output_has(r, "  dump   print internal state\n");
	assert_output_has(r, "  sleep  wait on the global timer\n");
	assert_output_has(r, "  echo   print the arguments\n");
	assert_output_has(r, "  rt     runtime summary\n");
	assert_output_has(r, "  help   list the commands");

	assert_int_equal(run(r, "help sleep"), 0);
	assert_string_equal(r->cap.buf, "usage: sleep DURATION\n  wait on the global timer\n");
	/* CMD help is the same as help CMD. */
	{
		char first[256];

		strcpy(first, r->cap.buf);
		assert_int_equal(run(r, "sleep help"), 0);
		assert_string_equal(r->cap.buf, first);
	}
	assert_int_equal(run(r, "help dump arch"), 0);
	assert_output_has(r, "usage: dump arch WHAT\n");
	assert_output_has(r, "  cpuid  show a CPUID leaf\n");
	assert_int_equal(run(r, "dump arch help"), 0);
	assert_output_has(r, "usage: dump arch WHAT\n");
	assert_int_equal(run(r, "dump arch cpuid help"), 0);
	assert_output_has(r, "usage: dump arch cpuid LEAF [SUBLEAF]\n");
	assert_int_equal(run(r, "help help"), 0);
	assert_output_has(r, "usage: help [COMMAND");

	assert_int_equal(run(r, "help nosuch"), -ENOENT);
	assert_output_has(r, "error: help: unknown command 'nosuch'");
	assert_int_equal(run(r, "help dump arch nosuch"), -EINVAL);
	assert_output_has(r, "error: dump arch: no subcommand 'nosuch'\n");
	assert_int_equal(run(r, "help he"), -ENOENT);
	assert_int_equal(seen.calls, 0);
}

/* A start handler that goes on as a job only when asked to. */
static int start_job(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out, struct shell_job *job)
{
	(void)out;
	seen.cmd = cmd->name;
	seen.argc = argc;
	seen.calls++;
	if (argc > 1 && strcmp(argv[1], "later") == 0) {
		/* A real handler spawns a task into job->jh here. */
		assert_null(job->jh.task);
		return SHELL_PENDING;
	}
	return 0;
}

static void test_start_handlers(void **state)
{
	struct rig *r = *state;
	static const struct shell_cmd both = { .name = "both", .run = record,
					       .start = start_job };
	static const struct shell_cmd waits = { .name = "waits", .usage = "waits [later]",
						.start = start_job, .max_args = 1 };
	struct shell_job job = { .cmd = NULL };
	char line[32];

	assert_int_equal(shell_register(&r->reg, &both), -EINVAL);
	assert_int_equal(shell_register(&r->reg, &waits), 0);
	/* Without a job to fill, a start handler is not called. */
	assert_int_equal(run(r, "waits later"), -ENOSYS);
	assert_output_has(r, "error: waits: waits, so it runs only in the shell task\n");
	assert_int_equal(seen.calls, 0);
	/* With one: it may finish at once, or leave the job running. */
	strcpy(line, "waits");
	assert_int_equal(shell_exec_job(&r->reg, line, &r->cap.out, &job), 0);
	assert_int_equal(seen.calls, 1);
	strcpy(line, "waits later");
	assert_int_equal(shell_exec_job(&r->reg, line, &r->cap.out, &job), SHELL_PENDING);
	assert_ptr_equal(job.cmd, &waits);
	assert_int_equal(seen.argc, 2);
	/* Argument counts are checked before the handler, as for run. */
	strcpy(line, "waits a b");
	capture_reset(&r->cap);
	assert_int_equal(shell_exec_job(&r->reg, line, &r->cap.out, &job), -EINVAL);
	assert_output_has(r, "too many arguments (2)");
	assert_int_equal(seen.calls, 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_register),
		T(test_whole_word_matching),
		T(test_empty_and_tokenizer_error),
		T(test_handler_arguments),
		T(test_argument_counts),
		T(test_handler_error),
		T(test_missing_subcommand),
		T(test_help),
		T(test_start_handlers),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
