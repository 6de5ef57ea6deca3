/*
 * task.h - the shell as an async task: input bytes from a ring filled by
 * an interrupt handler, a session (shell.h), and the commands' jobs.
 *
 * The task pops bytes from the ring and feeds them to the session; when
 * the ring is empty it awaits the input's wait cell, which the receive
 * interrupt wakes after pushing.  While a command's job runs, the task
 * awaits the job and the wait cell at once: Ctrl-C cancels the job (and
 * discards typed-ahead input, as a terminal does on an interrupt); other
 * bytes are kept in a type-ahead buffer and fed once the job has ended,
 * so pasted lines after a `sleep` still run.  Bytes lost to a full ring
 * (or type-ahead buffer) are reported once per overflow episode, when the
 * input has drained.  Nothing here spins: with no input and no job the
 * task is parked on the wait cell.
 */
#ifndef HYPHAE_SHELL_TASK_H
#define HYPHAE_SHELL_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "sched/sync.h"
#include "sched/task.h"
#include "shell/ring.h"
#include "shell/shell.h"

/* Bytes fed per poll before the task yields to others. */
#define SHELL_TASK_BUDGET	128
/* Input kept while a command's job runs. */
#define SHELL_TYPEAHEAD		512
#define SHELL_KEY_CTRL_C	0x03

/*
 * Where input comes from.  The producer (an interrupt handler) calls
 * shell_input_push() for each received byte, then shell_input_wake() once.
 * Closing the cell ends the shell task (host tests).
 */
struct shell_input {
	struct shell_ring ring;
	struct wait_cell cell;
};

void shell_input_init(struct shell_input *in);

/* Producer side: queue one byte (false: dropped, counted).  IRQ-safe. */
static inline bool shell_input_push(struct shell_input *in, uint8_t byte)
{
	return shell_ring_push(&in->ring, byte);
}

/* Producer side: wake the shell task after pushing.  IRQ-safe. */
static inline void shell_input_wake(struct shell_input *in)
{
	(void)wait_cell_wake(&in->cell);
}

struct runtime;

/*
 * Spawn the shell task on `rt`: it prints the prompt and serves `in` with
 * the commands of `cmds`, writing to `out` (all three must outlive it).
 * It completes only when in->cell is closed.  0 or -ENOMEM.  Task or boot
 * context.
 */
int __must_check shell_task_spawn(struct runtime *rt, struct shell_input *in,
				  const struct shell_commands *cmds,
				  const struct shell_out *out,
				  struct join_handle *jh);

/*
 * The session of the shell task being polled on this core (the one
 * running a command right now), or NULL: how `jobs` and `kill` find the
 * background jobs of the shell that typed them.  Task context.
 */
struct shell *shell_task_session(void);

#endif /* HYPHAE_SHELL_TASK_H */
