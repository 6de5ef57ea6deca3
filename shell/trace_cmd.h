/*
 * trace_cmd.h - the shell's `trace` command (lib/trace.h):
 *   trace on | off | clear   switch tracing, forget what was recorded
 *   trace dump               the rings as Chrome trace-event JSON between
 *                            TRACE_JSON_BEGIN and TRACE_JSON_END lines,
 *                            then a summary line (events, lost, bytes);
 *                            a job (Ctrl-C stops it)
 *   trace COMMAND [ARGS...]  clear, trace on, run COMMAND (a job such as
 *                            spawn is awaited), trace off, dump
 * tools/trace finds the JSON between the marker lines in a serial log.
 */
#ifndef HYPHAE_SHELL_TRACE_CMD_H
#define HYPHAE_SHELL_TRACE_CMD_H

#include "compiler.h"
#include "shell/command.h"

#define TRACE_JSON_BEGIN	"---- trace json begin ----"
#define TRACE_JSON_END		"---- trace json end ----"

/*
 * Register `trace` in reg, which is also where `trace COMMAND` looks
 * COMMAND up.  Rings are given to the runtime's cores (shell_runtime(),
 * or one core without one) at the first `trace on`.  0 or the
 * shell_register() error.  Boot, before the shell runs.
 */
int __must_check shell_register_trace(struct shell_commands *reg);

#endif /* HYPHAE_SHELL_TRACE_CMD_H */
