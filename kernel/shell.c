/*
 * shell.c - the kernel's shell: its command table, the serial input, and
 * the shell task, started by kernel_shell_start().
 *
 * Portable commands come from shell/ (builtins, rt_commands, trace); the ones
 * that read the machine are registered here: dump heap, dump serial,
 * dump arch (cpuid, msr, cr, gdt, idt, apic: each printed by its driver),
 * cpus, version, fault (in the shell's own poll: the report, then the
 * core halts; `fault task`: in a task of its own, which the fault ends
 * alone), halt.  Output goes to the serial console.  `halt`
 * stops every core (rt_core_stop, then the core parks in `cli; hlt`) and,
 * when the command line holds the word `qemu-exit`, ends QEMU through the
 * isa-debug-exit port.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/serial_rx.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "kernel/kernel.h"
#include "kmalloc.h"
#include "lib/fmt.h"
#include "lib/heap.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"
#include "rt/rt.h"
#include "shell/builtins.h"
#include "shell/rt_commands.h"
#include "shell/task.h"
#include "shell/trace_cmd.h"
#include "timer/sleep.h"

#define HZ_PER_MHZ	1000000ull
#define HZ_PER_KHZ	1000ull

/* isa-debug-exit (QEMU -device isa-debug-exit,iobase=0xf4): QEMU exits
 * with status (value << 1) | 1. */
#define QEMU_EXIT_PORT	0xf4
#define QEMU_EXIT_OK	0
#define QEMU_EXIT_FLAG	"qemu-exit"

/* Most time `halt` waits for the other cores. */
#define HALT_WAIT_NS		(1000ull * 1000 * 1000)
#define HALT_POLL_NS		(10ull * 1000 * 1000)

static struct shell_commands kernel_cmds;
static struct shell_input kernel_input;

static void console_out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

static const struct shell_out console_out = { .write = console_out_write };

/* The drivers' dump functions print through a struct fmt_out. */
static struct fmt_out fmt_of(const struct shell_out *out)
{
	return (struct fmt_out){ .write = out->write, .ctx = out->ctx };
}

/* ---- dump heap, dump serial ------------------------------------------------ */

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

static int cmd_dump_serial(const struct shell_cmd *cmd, int argc, char **argv,
			   const struct shell_out *out)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "serial: COM1 receive via the %s: %llu interrupts, %llu bytes, "
		     "%llu dropped (ring of %u full), %llu UART overruns\n",
		     serial_rx_route(), (unsigned long long)serial_rx_irqs(),
		     (unsigned long long)serial_rx_bytes(),
		     (unsigned long long)shell_ring_dropped(&kernel_input.ring),
		     SHELL_RING_SIZE, (unsigned long long)serial_rx_overruns());
	return 0;
}

static int cmd_dump_traps(const struct shell_cmd *cmd, int argc, char **argv,
			  const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);

	if (argc > 1) {
		if (strcmp(argv[1], "reset") != 0)
			return shell_usage_error(out, cmd, "'%s': expected 'reset'",
						 argv[1]);
		if (trapstat_reset() != 0) {
			shell_puts(out, "error: dump traps: out of memory\n");
			return -ENOMEM;
		}
		shell_puts(out, "traps: counters reset\n");
		return 0;
	}
	trapstat_dump(&f);
	return 0;
}

/* ---- dump arch ------------------------------------------------------------- */

static int parse_u32(const struct shell_cmd *cmd, const struct shell_out *out,
		     const char *s, uint32_t *v)
{
	uint64_t x;
	const char *why = "";

	if (shell_parse_u64(s, 0, UINT32_MAX, &x, &why) < 0)
		return shell_usage_error(out, cmd, "'%s': %s", s, why);
	*v = (uint32_t)x;
	return 0;
}

static int cmd_cpuid(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);
	uint32_t leaf = 0, sub = 0;

	if (parse_u32(cmd, out, argv[1], &leaf) ||
	    (argc > 2 && parse_u32(cmd, out, argv[2], &sub)))
		return -EINVAL;
	cpu_dump_cpuid(&f, leaf, sub);
	return 0;
}

static int cmd_msr(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);
	uint32_t num = 0;

	(void)argc;
	if (parse_u32(cmd, out, argv[1], &num))
		return -EINVAL;
	return cpu_dump_msr(&f, num);
}

static int cmd_cr(const struct shell_cmd *cmd, int argc, char **argv,
		  const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);

	(void)cmd;
	(void)argc;
	(void)argv;
	cpu_dump_cr(&f);
	return 0;
}

static int cmd_gdt(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);

	(void)cmd;
	(void)argc;
	(void)argv;
	gdt_dump(&f);
	return 0;
}

static int cmd_idt(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);

	(void)cmd;
	(void)argc;
	(void)argv;
	idt_dump(&f);
	shell_printf(out, "  COM1 receive: vector 0x%x (PIC) / 0x%x (I/O APIC), "
		     "routed via the %s\n", SERIAL_RX_VECTOR_PIC,
		     SERIAL_RX_VECTOR_IOAPIC, serial_rx_route());
	return 0;
}

static int cmd_apic(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	struct fmt_out f = fmt_of(out);

	(void)cmd;
	(void)argc;
	(void)argv;
	lapic_dump(&f);
	return 0;
}

static const struct shell_cmd arch_subs[] = {
	{ .name = "cpuid", .help = "run CPUID", .usage = "dump arch cpuid LEAF [SUBLEAF]",
	  .run = cmd_cpuid, .min_args = 1, .max_args = 2 },
	{ .name = "msr", .help = "read a model-specific register",
	  .usage = "dump arch msr NUM", .run = cmd_msr, .min_args = 1, .max_args = 1 },
	{ .name = "cr", .help = "control registers CR0/2/3/4 and EFER",
	  .usage = "dump arch cr", .run = cmd_cr },
	{ .name = "gdt", .help = "this core's GDT", .usage = "dump arch gdt",
	  .run = cmd_gdt },
	{ .name = "idt", .help = "the IDT", .usage = "dump arch idt", .run = cmd_idt },
	{ .name = "apic", .help = "this core's local APIC", .usage = "dump arch apic",
	  .run = cmd_apic },
	{ 0 },
};

static const struct shell_cmd dump_extra[] = {
	{ .name = "heap", .help = "kernel heap: bytes used/free, per size class",
	  .usage = "dump heap", .run = cmd_dump_heap },
	{ .name = "serial", .help = "serial input: interrupts, bytes, drops",
	  .usage = "dump serial", .run = cmd_dump_serial },
	{ .name = "arch", .help = "x86_64 state: cpuid, msr, cr, gdt, idt, apic",
	  .usage = "dump arch cpuid|msr|cr|gdt|idt|apic ...", .subcmds = arch_subs },
	{ .name = "traps", .help = "operations that trap under virtualization, per core",
	  .usage = "dump traps [reset]", .run = cmd_dump_traps, .max_args = 1 },
	{ 0 },
};

/* ---- cpus, version, fault --------------------------------------------------- */

static int cmd_cpus(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	static const char *const states[] = {
		[RT_CORE_UNCLAIMED] = "unclaimed", [RT_CORE_RUNNING] = "running",
		[RT_CORE_IDLE] = "idle", [RT_CORE_STOPPED] = "stopped",
	};
	struct runtime *rt = shell_runtime();
	unsigned n = rt_active_cores(rt);
	uint64_t hz = tsc_hz();

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "%u cores; this is cpu%u\n", n, arch_cpu_index());
	shell_printf(out, "  %4s %7s %-9s %s\n", "cpu", "apic id", "state", "TSC");
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *s = &rt->slots[i];
		int st = atomic_load_explicit(&s->state, memory_order_relaxed);

		shell_printf(out, "  %4u %7u %-9s %llu.%03llu MHz\n", i,
			     (unsigned)s->hwid,
			     st >= 0 && st <= RT_CORE_STOPPED ? states[st] : "?",
			     (unsigned long long)(hz / HZ_PER_MHZ),
			     (unsigned long long)(hz % HZ_PER_MHZ / HZ_PER_KHZ));
	}
	return 0;
}

static int cmd_version(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "hyphae %s (x86_64), built %s with gcc %s\n",
		     kernel_version, kernel_build_date, __VERSION__);
	return 0;
}

static int cmd_fault(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	uint32_t x = 1, zero = 0;

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "fault: dividing by zero on cpu%u (#DE), interrupts off\n",
		     arch_cpu_index());
	/* The shell's poll is guarded like any task's: with interrupts off
	 * the fault is not contained to it (poll_guard.c), so the core halts
	 * as this command promises.  The asm hides the zero from the
	 * compiler, which may not fold it. */
	arch_irq_disable();
	__asm__ volatile("xor %%edx, %%edx; divl %1" : "+a"(x) : "r"(zero) : "rdx");
	arch_irq_enable();
	shell_printf(out, "fault: still here (%u)?\n", x);
	return -EIO;
}

/* ---- fault task ------------------------------------------------------------------ */

/* A task whose poll divides by zero: the fault ends it alone. */
static enum poll divider_poll(struct task *t, struct context *cx)
{
	uint32_t x = 1, zero = 0;

	(void)t;
	(void)cx;
	/* The asm hides the zero from the compiler, which may not fold it. */
	__asm__ volatile("xor %%edx, %%edx; divl %1" : "+a"(x) : "r"(zero) : "rdx");
	return POLL_READY;
}

static const struct task_vtable divider_vt = {
	.poll = divider_poll,
	.name = "fault-task",
};

struct fault_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	struct join_handle child;
};

static enum poll fault_job_poll(struct task *t, struct context *cx)
{
	struct fault_job *j = container_of(t, struct fault_job, task);
	char id[TASK_ID_STR];

	TASK_BEGIN(j->pt);
	if (rt_spawn(shell_runtime(), &divider_vt, NULL, sizeof(struct task),
		     &j->child) != 0) {
		shell_puts(&j->out, "error: fault: cannot spawn the task\n");
		j->status = -ENOMEM;
		return POLL_READY;
	}
	shell_printf(&j->out, "fault: task fault-task (id %s) divides by zero\n",
		     task_id_str(j->child.task->id, id));
	TASK_AWAIT(join_poll(&j->child, cx, NULL, 0));
	shell_printf(&j->out, "fault: the task ended %s; every core goes on\n",
		     j->child.result == JOIN_FAULTED ? "by its fault (JOIN_FAULTED)" :
		     "without faulting?");
	j->status = j->child.result == JOIN_FAULTED ? 0 : -EIO;
	TASK_END;
}

static void fault_job_drop_state(struct task *t)
{
	join_drop(&container_of(t, struct fault_job, task)->child);
}

static const struct task_vtable fault_job_vt = {
	.poll = fault_job_poll,
	.drop_state = fault_job_drop_state,
	TASK_OUTPUT(struct fault_job, status),
	.name = "fault",
};

static int start_fault_task(const struct shell_cmd *cmd, int argc, char **argv,
			    const struct shell_out *out, struct shell_job *job)
{
	struct fault_job init = { .out = *out, .child = JOIN_HANDLE_NONE };
	int err;

	(void)cmd;
	(void)argc;
	(void)argv;
	err = rt_spawn(shell_runtime(), &fault_job_vt, &init, sizeof(init),
		       &job->jh);
	if (err) {
		shell_printf(out, "error: fault: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

static const struct shell_cmd fault_subs[] = {
	{ .name = "task", .help = "spawn a task that divides by zero: it ends, the core goes on",
	  .usage = "fault task", .start = start_fault_task },
	{ 0 },
};

/* ---- halt ---------------------------------------------------------------------- */

static atomic_uint cores_halted;

struct stopper {
	struct task task;
	unsigned target;	/* the slot whose core this task stops */
};

static enum poll stopper_poll(struct task *t, struct context *cx);

static const struct task_vtable stopper_vt = {
	.poll = stopper_poll,
	.name = "halt",
};

static enum poll stopper_poll(struct task *t, struct context *cx)
{
	struct stopper *s = container_of(t, struct stopper, task);
	struct rt_core *core = rt_current_core();
	struct runtime *rt = shell_runtime();

	(void)cx;
	if (core->slot->index != s->target) {
		/* Stolen on the way: send a fresh one to the target. */
		struct stopper init = { .target = s->target };

		if (sched_spawn(&rt->slots[s->target].sched, &stopper_vt, &init,
				sizeof(init), NULL) != 0)
			log_warn("halt: cannot resend the stopper of cpu%u", s->target);
		return POLL_READY;
	}
	rt_core_stop(core);
	/* relaxed: a count the halting core polls; nothing else is published. */
	atomic_fetch_add_explicit(&cores_halted, 1, memory_order_relaxed);
	halt_forever();
}

struct halt_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	unsigned others;
	ticks_t start;
	struct sleep sleep;
};

static enum poll halt_job_poll(struct task *t, struct context *cx)
{
	struct halt_job *j = container_of(t, struct halt_job, task);
	struct runtime *rt = shell_runtime();
	struct rt_core *core;

	TASK_BEGIN(j->pt);
	j->start = clock_now(rt->clock);
	core = rt_current_core();
	for (unsigned i = 0; i < rt_active_cores(rt); i++) {
		struct stopper init = { .target = i };

		if (i == core->slot->index)
			continue;
		if (sched_spawn(&rt->slots[i].sched, &stopper_vt, &init,
				sizeof(init), NULL) == 0)
			j->others++;
	}
	while (atomic_load_explicit(&cores_halted, memory_order_relaxed) < j->others &&
	       clock_now(rt->clock) - j->start < HALT_WAIT_NS) {
		if (sleep_init_duration(&j->sleep, &rt->timer, HALT_POLL_NS) != 0)
			break;
		TASK_AWAIT(sleep_poll(&j->sleep, cx));
	}
	core = rt_current_core();
	shell_printf(&j->out, "halt: %u of %u other cores stopped; cpu%u stops last\n",
		     atomic_load_explicit(&cores_halted, memory_order_relaxed),
		     j->others, core->slot->index);
	rt_core_stop(core);
	if (cmdline_has(kernel_cmdline(), QEMU_EXIT_FLAG)) {
		shell_puts(&j->out, "halt: exiting QEMU (isa-debug-exit)\n");
		outb(QEMU_EXIT_PORT, QEMU_EXIT_OK);
	}
	shell_puts(&j->out, "halt: halted\n");
	halt_forever();
	TASK_END;
}

static void halt_job_drop_state(struct task *t)
{
	struct halt_job *j = container_of(t, struct halt_job, task);

	if (j->sleep.timer)
		sleep_drop(&j->sleep);
}

static const struct task_vtable halt_job_vt = {
	.poll = halt_job_poll,
	.drop_state = halt_job_drop_state,
	TASK_OUTPUT(struct halt_job, status),
	.name = "halt",
};

static int start_halt(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out, struct shell_job *job)
{
	struct halt_job init = { .out = *out };
	int err;

	(void)cmd;
	(void)argc;
	(void)argv;
	err = rt_spawn(shell_runtime(), &halt_job_vt, &init, sizeof(init), &job->jh);
	if (err) {
		shell_printf(out, "error: halt: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

static const struct shell_cmd kernel_only[] = {
	{ .name = "cpus", .help = "each core: id, APIC id, state, TSC frequency",
	  .usage = "cpus", .run = cmd_cpus },
	{ .name = "version", .help = "version, build date and compiler",
	  .usage = "version", .run = cmd_version },
	{ .name = "fault", .help = "divide by zero on purpose (#DE report, core halts); 'fault task': in a task",
	  .usage = "fault [task]", .run = cmd_fault, .subcmds = fault_subs },
	{ .name = "halt", .help = "stop every core (QEMU exits with `qemu-exit` on the command line)",
	  .usage = "halt", .start = start_halt },
};

/* The serial receive interrupt's sink: the shell's input ring. */
static void serial_byte(void *ctx, uint8_t b)
{
	(void)shell_input_push(ctx, b);
}

static void serial_batch(void *ctx)
{
	shell_input_wake(ctx);
}

void kernel_shell_start(struct runtime *rt)
{
	static const struct serial_rx_sink sink = {
		.byte = serial_byte, .batch = serial_batch, .ctx = &kernel_input,
	};
	struct join_handle jh = JOIN_HANDLE_NONE;

	shell_commands_init(&kernel_cmds);
	if (shell_register_builtins(&kernel_cmds) != 0 ||
	    shell_register_rt_commands(&kernel_cmds, rt, dump_extra) != 0 ||
	    shell_register_trace(&kernel_cmds) != 0)
		panic("kernel_shell_start: shell command table");
	for (size_t i = 0; i < ARRAY_SIZE(kernel_only); i++)
		if (shell_register(&kernel_cmds, &kernel_only[i]) != 0)
			panic("kernel_shell_start: shell command %s",
			      kernel_only[i].name);
	shell_input_init(&kernel_input);
	if (shell_task_spawn(rt, &kernel_input, &kernel_cmds, &console_out, &jh) != 0)
		panic("kernel_shell_start: cannot spawn the shell");
	join_detach(&jh);
	serial_rx_init(&sink);
}
