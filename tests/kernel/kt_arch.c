/*
 * kt_arch.c - in-kernel tests of the arch.h contract on x86_64: per-core
 * pointer, binding, interrupt state, the clock, random seeds, the timer
 * deadline, the console, and the interrupt path for vectors >= 32.
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/console.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "lib/fmt.h"
#include "clock.h"
#include "tests/kernel/ktest.h"


KTEST(cpu_local_and_binding)
{
	int marker;
	void *old = arch_cpu_local();

	arch_set_cpu_local(&marker);
	KT_ASSERT(arch_cpu_local() == &marker);
	arch_set_cpu_local(old);
	KT_ASSERT(arch_cpu_local() == old);
	KT_ASSERT_EQ(arch_cpu_index(), 0);
	arch_cpu_bind(0);
	KT_ASSERT_EQ(arch_cpu_index(), 0);
	KT_ASSERT(this_cpu()->self == this_cpu());
	KT_ASSERT_EQ(arch_cpu_hwid(), cpuid(1, 0).ebx >> 24);
	/* Waking yourself is a no-op; there is no other core yet. */
	arch_wake(0);
}

KTEST(irq_save_restore)
{
	unsigned long outer, inner;

	arch_irq_enable();
	KT_ASSERT(read_rflags() & RFLAGS_IF);
	outer = arch_irq_save();
	KT_ASSERT(!(read_rflags() & RFLAGS_IF));
	inner = arch_irq_save();
	arch_irq_restore(inner);
	KT_ASSERT(!(read_rflags() & RFLAGS_IF));
	arch_irq_restore(outer);
	KT_ASSERT(read_rflags() & RFLAGS_IF);
	arch_irq_disable();
	KT_ASSERT(!(read_rflags() & RFLAGS_IF));
}

KTEST(clock_monotonic_and_calibrated)
{
	const struct clock *clk = arch_clock();
	uint64_t t0, t1, prev;

	KT_ASSERT(clk != NULL);
	KT_ASSERT_EQ(clk->tick_ns, 1);
	KT_ASSERT(tsc_hz() > 100 * 1000 * 1000ull);	/* > 100 MHz */
	prev = t0 = clock_now(clk);
	for (int i = 0; i < 100000; i++) {
		uint64_t t = clock_now(clk);

		KT_ASSERT(t >= prev);
		prev = t;
	}
	t1 = clock_now(clk);
	KT_ASSERT(t1 > t0);
	/* 1 ms of TSC converts to 1 ms, within rounding. */
	KT_ASSERT(tsc_to_ns(tsc_hz() / 1000) >= NS_PER_MS - 1000);
	KT_ASSERT(tsc_to_ns(tsc_hz() / 1000) <= NS_PER_MS + 1000);
}

KTEST(random_seeds_differ)
{
	uint64_t a = arch_random_seed(), b = arch_random_seed();

	KT_ASSERT(a != b);
	KT_ASSERT(a != 0 || b != 0);
}

KTEST(timer_arm_is_recorded)
{
	arch_timer_arm(12345);
	KT_ASSERT_EQ(this_cpu()->timer_deadline, 12345);
	arch_timer_arm(UINT64_MAX);
	KT_ASSERT_EQ(this_cpu()->timer_deadline, UINT64_MAX);
}

/*
 * Writes of 0, 1 and around kprintf's chunk size reach the UART whole: the
 * console's byte count grows by the length plus one "\r" per "\n".  Each
 * write is followed by a "\n" (outside the count) so this test's output
 * and its verdict start lines of their own.
 */
KTEST(console_write_any_length)
{
	static const size_t lens[] = {
		0, 1, KPRINTF_CHUNK - 1, KPRINTF_CHUNK, 3 * KPRINTF_CHUNK + 1,
	};
	static char text[3 * KPRINTF_CHUNK + 1];

	for (size_t i = 0; i < sizeof(text); i++)
		text[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	for (size_t k = 0; k < ARRAY_SIZE(lens); k++) {
		size_t newlines = 0;
		uint64_t before, sent;

		for (size_t i = 0; i < lens[k]; i++)
			newlines += text[i] == '\n';
		before = console_bytes_out();
		arch_console_write(text, lens[k]);
		sent = console_bytes_out() - before;
		arch_console_write("\n", 1);
		KT_ASSERT_EQ(sent, lens[k] + newlines);
	}
}

#define KT_VECTOR	0x40

static volatile unsigned handler_calls;
static volatile uint64_t handler_vector;

static void count_interrupt(struct trap_frame *f)
{
	handler_calls++;
	handler_vector = f->vector;
}

KTEST(interrupt_handler_runs_and_returns)
{
	uint64_t before = 0x1122334455667788ull, after;

	KT_ASSERT_EQ(trap_set_handler(TRAP_PF, count_interrupt), -EINVAL);
	KT_ASSERT_EQ(trap_set_handler(TRAP_VECTORS, count_interrupt), -EINVAL);
	KT_ASSERT_EQ(trap_set_handler(KT_VECTOR, count_interrupt), 0);
	/* A value in a register the stub must save and restore. */
	__asm__ volatile("mov %1, %%r11\n\t"
			 "int %2\n\t"
			 "mov %%r11, %0"
			 : "=r"(after) : "r"(before), "i"(KT_VECTOR) : "r11", "memory");
	KT_ASSERT_EQ(after, before);
	KT_ASSERT_EQ(handler_calls, 1);
	KT_ASSERT_EQ(handler_vector, KT_VECTOR);
	KT_ASSERT_EQ(trap_set_handler(KT_VECTOR, NULL), 0);
	/* Unregistered: logged and ignored, execution goes on. */
	__asm__ volatile("int %0" : : "i"(KT_VECTOR) : "memory");
	KT_ASSERT_EQ(handler_calls, 1);
}

KTEST(wait_for_interrupt_until_deadline)
{
	const struct clock *clk = arch_clock();
	uint64_t deadline = clock_now(clk) + 2 * NS_PER_MS;

	arch_timer_arm(deadline);
	arch_irq_disable();
	arch_wait_for_interrupt();
	/* Returns with interrupts on, not before the deadline, disarmed. */
	KT_ASSERT(read_rflags() & RFLAGS_IF);
	arch_irq_disable();
	KT_ASSERT(clock_now(clk) >= deadline);
	KT_ASSERT_EQ(this_cpu()->timer_deadline, UINT64_MAX);
	/* A deadline in the past returns at once. */
	arch_timer_arm(0);
	arch_wait_for_interrupt();
	arch_irq_disable();
	KT_ASSERT_EQ(this_cpu()->timer_deadline, UINT64_MAX);
}

/*
 * Every code and data descriptor in every GDT the kernel loads has its
 * accessed bit set, so that loading a selector never makes the CPU write
 * into the GDT: boot_gdt lives in .rodata, the AP trampoline's GDT in a
 * page mapped read-only, and under KVM or on hardware that write is a page
 * fault before any IDT exists (a triple fault; TCG skips the write).  The
 * assembler refuses such a descriptor too (gdt_desc in boot/x86.inc); this
 * also covers the per-core GDTs built in C.
 */
extern const uint64_t boot_gdt[], boot_gdt_end[];
extern const uint64_t smp_trampoline_gdt[], smp_trampoline_gdt_end[];

#define DESC_S_BIT		(1ull << 44)	/* code or data, not system */
#define DESC_ACCESSED_BIT	(1ull << 40)

static unsigned gdt_unaccessed(const uint64_t *gdt, const uint64_t *end)
{
	unsigned bad = 0;

	for (const uint64_t *d = gdt; d < end; d++)
		if ((*d & DESC_S_BIT) && !(*d & DESC_ACCESSED_BIT))
			bad++;
	return bad;
}

KTEST(gdt_descriptors_preaccessed)
{
	struct __attribute__((packed)) { uint16_t limit; uint64_t base; } gdtr;
	const uint64_t *live;

	__asm__ volatile("sgdt %0" : "=m"(gdtr));
	live = (const uint64_t *)(uintptr_t)gdtr.base;
	KT_ASSERT(boot_gdt_end - boot_gdt >= 3);
	KT_ASSERT(smp_trampoline_gdt_end - smp_trampoline_gdt >= 4);
	KT_ASSERT_EQ(gdt_unaccessed(boot_gdt, boot_gdt_end), 0);
	KT_ASSERT_EQ(gdt_unaccessed(smp_trampoline_gdt, smp_trampoline_gdt_end), 0);
	KT_ASSERT(live == this_cpu()->gdt);
	KT_ASSERT_EQ(gdt_unaccessed(live, live + (gdtr.limit + 1) / 8), 0);
}
