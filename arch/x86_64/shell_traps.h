/*
 * shell_traps.h - `dump traps [reset]`: the per-core counts of operations
 * that trap under virtualization (trapstat.h), as a table.
 */
#ifndef HYPHAE_X86_64_SHELL_TRAPS_H
#define HYPHAE_X86_64_SHELL_TRAPS_H

#include "shell/command.h"

/*
 * Print each core's counters since boot or the last `dump traps reset`,
 * and their sum; with `reset`, start counting afresh.  Task context.
 */
int shell_traps_run(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out);

#define SHELL_TRAPS_HELP	"operations that trap under virtualization, per core"
#define SHELL_TRAPS_USAGE	"dump traps [reset]"

#endif /* HYPHAE_X86_64_SHELL_TRAPS_H */
