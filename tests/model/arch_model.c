/*
 * arch_model.c - include/arch.h, kmalloc.h and panic.h for the model.
 *
 * A core is a model thread that called arch_cpu_bind().  Its interrupt
 * flag is kept per thread, and wakeups follow the kernel (arch/x86_64),
 * the stricter of the two implementations: arch_wake() of a core that
 * sleeps in arch_wait_for_interrupt() wakes it; of a core running with
 * interrupts disabled it stays pending until the core enables them or
 * sleeps (`sti; hlt` takes it at once); of a core running with interrupts
 * enabled it is taken by the (empty) handler right away and lost.  So a
 * protocol that relied on a wakeup being remembered across an interrupt
 * window would fail here.  arch_wake() carries no happens-before: the
 * runtime's bitmap RMWs must order the data, as rt.c says they do.
 *
 * Time stands still unless every thread is blocked and some core armed its
 * timer: then the clock jumps to the earliest deadline and that core's
 * wait returns (engine.c calls arch_model_fire_timer()).  Scenarios that
 * need time to move while threads run use a mock clock (timer/clock.h).
 *
 * kmalloc hands out tracked objects of the model heap (shadow.c); kfree
 * ends them.  panic and kassert fail the schedule with their message.
 */
#include <stdarg.h>
#include <stdio.h>

#include "arch.h"
#include "kmalloc.h"
#include "panic.h"
#include "tests/model/checker.h"
#include "clock.h"

static void ev(enum ev_kind kind, unsigned tid, const char *note)
{
	struct trace_ev e = { .tid = (uint8_t)tid, .kind = (uint8_t)kind,
			      .order = -1, .note = note };

	trace_add(&e);
}

void arch_model_reset(void)
{
	for (unsigned i = 0; i < sizeof(M.core_thread) / sizeof(M.core_thread[0]); i++)
		M.core_thread[i] = 0;
}

/* ---- per-core data ---------------------------------------------------------- */

void *arch_cpu_local(void)
{
	return arch_self()->cpu_local;
}

void arch_set_cpu_local(void *p)
{
	arch_self()->cpu_local = p;
}

void arch_cpu_bind(unsigned index)
{
	struct mthread *t = arch_self();

	if (index >= sizeof(M.core_thread) / sizeof(M.core_thread[0]))
		model_fail("arch_cpu_bind: slot %u (the model has 64 cores)", index);
	t->core = (int)index;
	M.core_thread[index] = (unsigned)(t - M.t);
}

unsigned arch_cpu_index(void)
{
	struct mthread *t = arch_self();

	return t->core < 0 ? 0 : (unsigned)t->core;
}

uint32_t arch_cpu_hwid(void)
{
	return (uint32_t)(arch_self() - M.t);
}

/* ---- interrupts ---------------------------------------------------------- */

unsigned long arch_irq_save(void)
{
	struct mthread *t = arch_self();
	unsigned long was_on = !t->irq_off;

	t->irq_off = true;
	return was_on;
}

void arch_irq_restore(unsigned long flags)
{
	if (flags)
		arch_irq_enable();
}

void arch_irq_disable(void)
{
	arch_self()->irq_off = true;
}

void arch_irq_enable(void)
{
	struct mthread *t = arch_self();

	t->irq_off = false;
	/* A pending wakeup interrupt is taken now; its handler does nothing. */
	t->ipi_pending = false;
}

/* ---- idle and wakeup --------------------------------------------------------- */

enum arch_wake_reason arch_wait_for_interrupt(void)
{
	struct mthread *t;
	enum arch_wake_reason why;

	if (!model_running())
		model_fail("arch_wait_for_interrupt: called outside a model thread");
	t = self();
	if (!t->irq_off)
		model_fail("arch_wait_for_interrupt: %s calls it with interrupts "
			   "enabled (a wakeup could slip in before the hlt)",
			   t->name);
	/* What the caller postponed happens before it sleeps. */
	mem_run_deferred();
	engine_point(true);
	t = self();
	if (t->ipi_pending) {
		t->ipi_pending = false;
		why = ARCH_WOKE_IPI;
		ev(EV_WFI, M.cur, "returns at once: a wakeup is pending");
	} else if (t->timer_deadline <= M.now) {
		why = ARCH_WOKE_TIMER;
		ev(EV_WFI, M.cur, "returns at once: its timer is due");
	} else {
		ev(EV_WFI, M.cur, "sleeps");
		engine_block(TS_BLOCKED_WFI, &t->ipi_pending);
		why = t->ipi_pending ? ARCH_WOKE_IPI : ARCH_WOKE_TIMER;
		ev(EV_WFI_RET, M.cur, NULL);
	}
	t->irq_off = false;
	engine_after_op();
	return why;
}

/* The count of spinlocks held: the checker's own locks (override/) do
 * not count; code that marks a window as a held lock (the oneshot's
 * claim) does, and must leave it balanced. */
void arch_lock_acquired(void)
{
	arch_self()->locks_held++;
}

void arch_lock_released(void)
{
	struct mthread *t = arch_self();

	if (t->locks_held == 0)
		model_fail("arch_lock_released: no lock is held");
	t->locks_held--;
}

unsigned arch_locks_held(void)
{
	return arch_self()->locks_held;
}

/* No interrupt handlers run in the model. */
bool arch_in_interrupt(void)
{
	return false;
}

/* The trace's stamps: the model's clock (tracing is off in scenarios). */
uint64_t arch_trace_stamp(void)
{
	return M.now;
}

void arch_wake(unsigned index)
{
	struct mthread *t;
	unsigned tid;
	char note[96];

	if (!model_running())
		return;
	engine_point(true);
	tid = index < sizeof(M.core_thread) / sizeof(M.core_thread[0]) ?
	      M.core_thread[index] : 0;
	if (tid == 0)
		model_fail("arch_wake(%u): no core is bound to that slot", index);
	t = &M.t[tid];
	if (t->state == TS_BLOCKED_WFI) {
		engine_unblock(t);
		snprintf(note, sizeof(note), "core %u (%s): wakes it", index, t->name);
	} else if (t->irq_off) {
		t->ipi_pending = true;
		snprintf(note, sizeof(note), "core %u (%s): interrupts off, pending",
			 index, t->name);
	} else {
		snprintf(note, sizeof(note), "core %u (%s): running, taken and lost",
			 index, t->name);
	}
	{
		static char notes[64][96];
		static unsigned next;
		char *n = notes[next++ % 64];

		/* The trace keeps a pointer: keep the text a while. */
		snprintf(n, sizeof(notes[0]), "%s", note);
		ev(EV_WAKE, M.cur, n);
	}
	engine_after_op();
}

void arch_timer_arm(uint64_t deadline)
{
	arch_self()->timer_deadline = deadline;
}

bool arch_model_fire_timer(void)
{
	struct mthread *best = NULL;

	for (unsigned i = 1; i <= M.nthreads; i++) {
		struct mthread *t = &M.t[i];

		if (t->state == TS_BLOCKED_WFI && t->timer_deadline != UINT64_MAX &&
		    (best == NULL || t->timer_deadline < best->timer_deadline))
			best = t;
	}
	if (best == NULL)
		return false;
	if (best->timer_deadline > M.now)
		M.now = best->timer_deadline;
	best->timer_deadline = UINT64_MAX;
	engine_unblock(best);
	ev(EV_TIMER, (unsigned)(best - M.t), "every thread waits: time jumps to "
	   "the armed deadline");
	return true;
}

void arch_cpu_relax(void)
{
	model_yield();
}

/* ---- time, randomness, console ------------------------------------------------ */

static ticks_t model_clock_now(const struct clock *clk)
{
	(void)clk;
	return M.now;
}

static const struct clock model_clock = {
	.name = "model",
	.tick_ns = 1,
	.now = model_clock_now,
	.max_ticks = UINT64_MAX,
};

const struct clock *arch_clock(void)
{
	return &model_clock;
}

uint64_t arch_random_seed(void)
{
	/* Fixed, so schedules replay. */
	return 0x9e3779b97f4a7c15ull ^ (uint64_t)(arch_self() - M.t);
}

void arch_console_write(const char *s, size_t n)
{
	if (M.verbose)
		fwrite(s, 1, n, stdout);
}

/* ---- memory ------------------------------------------------------------ */

void *kmalloc(size_t size)
{
	return shadow_alloc(size, 16, false);
}

void *kzalloc(size_t size)
{
	return shadow_alloc(size, 16, true);
}

void *kmalloc_aligned(size_t size, size_t align)
{
	return shadow_alloc(size, align < 16 ? 16 : align, false);
}

void kfree(void *p)
{
	shadow_free(p, __builtin_return_address(0));
}

/* ---- panics ------------------------------------------------------------- */

void panic_at(const char *file, int line, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	model_fail("panic at %s:%d: %s", file, line, buf);
}

void kassert_fail(const char *expr, const char *func, const char *file,
		  int line)
{
	model_fail("kassert failed at %s:%d in %s: %s", file, line, func, expr);
}

/* ---- the registry's and the watchdog's hooks --------------------------------- */

void *arch_cpu_sched(void)
{
	return model_running() ? self()->cpu_sched : NULL;
}

void arch_set_cpu_sched(void *s)
{
	self()->cpu_sched = s;
}

/* Poll timing runs on the model's clock, which moves only when every
 * thread is blocked: every poll takes no time, so no watchdog fires. */
uint64_t arch_cycles(void)
{
	return M.now;
}

uint64_t arch_cycles_to_ns(uint64_t cycles)
{
	return cycles;
}

uint64_t arch_ns_to_cycles(uint64_t ns)
{
	return ns;
}

/* No faults are contained in the model: a plain call. */
int arch_poll_call(int (*fn)(void *a, void *b), void *a, void *b)
{
	return fn(a, b);
}

/* Kicks only follow a long poll, which the model's clock never shows. */
void arch_set_kick_handler(void (*fn)(void))
{
	(void)fn;
}

void arch_kick(unsigned index)
{
	model_fail("arch_kick: core %u kicked, but no poll takes time here", index);
}

void arch_print_remote_backtrace(unsigned index)
{
	(void)index;
}
