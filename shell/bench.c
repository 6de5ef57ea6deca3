/*
 * bench.c - the `bench` command (see rt_commands.h).
 * Not yet: the benchmarks themselves; this placeholder says so.
 */
#include "errno.h"
#include "shell/rt_commands.h"

int shell_bench_start(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out, struct shell_job *job)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	(void)job;
	shell_puts(out, "error: bench: not implemented yet\n");
	return -ENOSYS;
}
