/*
 * builtins.h - shell commands that need nothing but lib/ and arch.h:
 *   echo [ARG...]      print the arguments
 *   log [LEVEL]        show or set the log level (debug, info, warn, error)
 *   uptime             time since the clock's origin (boot)
 *   panic MESSAGE...   panic on purpose, to see the report
 * Commands that need the runtime (rt, sleep, spawn, bench, cpus, dump ...)
 * are registered by their own parts with shell_register().
 */
#ifndef HYPHAE_SHELL_BUILTINS_H
#define HYPHAE_SHELL_BUILTINS_H

#include "shell/command.h"

/* Register the commands above; 0 or the first shell_register() error. */
int __must_check shell_register_builtins(struct shell_commands *reg);

#endif /* HYPHAE_SHELL_BUILTINS_H */
