/*
 * shell_kernel.c - the kernel's shell: its command table, the serial
 * input, and the shell task, started by kernel_spawn_initial_tasks().
 *
 * Portable commands come from shell/ (builtins, rt_commands); the ones
 * that read the machine (dump heap, and later dump arch, cpus, version,
 * fault, halt) live here.  Output goes to the serial console.
 */
#include "arch.h"
#include "arch/x86_64/kernel_rt.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/serial_rx.h"
#include "kmalloc.h"
#include "lib/heap.h"
#include "lib/log.h"
#include "panic.h"
#include "rt/rt.h"
#include "shell/builtins.h"
#include "shell/rt_commands.h"
#include "shell/task.h"

static struct shell_commands kernel_cmds;
static struct shell_input kernel_input;

static void console_out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

static const struct shell_out console_out = { .write = console_out_write };

static int cmd_dump_heap(const struct shell_cmd *cmd, int argc, char **argv,
			 const struct shell_out *out)
{
	struct heap_stats st;

	(void)cmd;
	(void)argc;
	(void)argv;
	heap_stats(kmalloc_heap(), &st);
	shell_print_heap_stats(out, &st);
	return 0;
}

static const struct shell_cmd dump_extra[] = {
	{ .name = "heap", .help = "kernel heap: bytes used/free, per size class",
	  .usage = "dump heap", .run = cmd_dump_heap },
	{ 0 },
};

void kernel_spawn_initial_tasks(struct runtime *rt)
{
	struct join_handle jh = JOIN_HANDLE_NONE;

	shell_commands_init(&kernel_cmds);
	if (shell_register_builtins(&kernel_cmds) != 0 ||
	    shell_register_rt_commands(&kernel_cmds, rt, dump_extra) != 0)
		panic("kernel_spawn_initial_tasks: shell command table");
	shell_input_init(&kernel_input);
	if (shell_task_spawn(rt, &kernel_input, &kernel_cmds, &console_out, &jh) != 0)
		panic("kernel_spawn_initial_tasks: cannot spawn the shell");
	join_detach(&jh);
	serial_rx_init(&kernel_input);
}
