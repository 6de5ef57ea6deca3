/*
 * fault_context.c - what a fault report says the core was running: the
 * task being polled (name, id, spawn site, polls so far), if any.
 * kmain installs it as the fault report's context hook (trap.h); it runs
 * inside the report, on the faulting core, so it only reads.
 */
#include "arch/x86_64/trap.h"
#include "kernel/kernel.h"
#include "lib/fmt.h"
#include "sched/task.h"

void kernel_fault_context(void)
{
	struct task *t = task_current();
	char id[TASK_ID_STR];

	if (t == NULL) {
		kprintf("task   none (not in a task's poll)\n");
		return;
	}
	kprintf("task   %s (id %s), spawned at %s:%u, %u polls before this one\n",
		task_name(t), task_id_str(t->id, id),
		t->site ? t->site->file : "?", t->site ? t->site->line : 0,
		(unsigned)atomic_load_explicit(&t->polls, memory_order_relaxed));
}
