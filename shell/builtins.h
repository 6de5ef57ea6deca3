/*
 * builtins.h - shell commands that need nothing but lib/ and arch.h:
 *   echo [ARG...]      print the arguments
 *   log [LEVEL]        show or set the log level (debug, info, warn, error)
 *   uptime             time since the clock's origin (boot)
 *   panic MESSAGE...   panic on purpose, to see the report
 * and the formatter behind `dump heap`.
 * Commands that need the runtime (rt, sleep, spawn, bench, cpus, dump ...)
 * are registered by their own parts with shell_register().
 */
#ifndef HYPHAE_SHELL_BUILTINS_H
#define HYPHAE_SHELL_BUILTINS_H

#include "lib/heap.h"
#include "shell/command.h"

/* Register the commands above; 0 or the first shell_register() error. */
int __must_check shell_register_builtins(struct shell_commands *reg);

/*
 * Print heap statistics as `dump heap` shows them: totals, then one row
 * per size class that holds slabs or has been used.  The kernel's `dump
 * heap` command takes the snapshot (heap_stats()) and calls this.
 */
void shell_print_heap_stats(const struct shell_out *out,
			    const struct heap_stats *st);

#endif /* HYPHAE_SHELL_BUILTINS_H */
