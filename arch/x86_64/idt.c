/*
 * idt.c - the interrupt descriptor table and vector dispatch.
 *
 * One IDT, shared by every core: 256 interrupt gates (IF cleared on entry)
 * pointing at the isr.asm stubs.  #DF, NMI and #MC use IST stacks so they
 * are delivered even when the interrupted stack is unusable.  idt_init()
 * also remaps and masks the legacy PICs (pic.c) before anything can
 * enable interrupts.  The vector map is vectors.h.
 * Reference: Intel SDM vol. 3 sections 6.10-6.14.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/pic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "lib/fmt.h"
#include "lib/log.h"

#define GATE_INTERRUPT	0x8e	/* present, DPL 0, 64-bit interrupt gate */
#define GATE_PRESENT	0x80

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} __packed;

struct idt_ptr {
	uint16_t limit;
	uint64_t base;
} __packed;

/* The stubs, in isr.asm. */
extern const uint64_t isr_table[TRAP_VECTORS];

static struct idt_gate idt[TRAP_VECTORS] __aligned(16);
/* Written at boot before the vector is enabled, read by any core. */
static void (*handlers[TRAP_VECTORS])(struct trap_frame *f);

static void set_gate(unsigned v, uint64_t addr, uint8_t ist)
{
	idt[v] = (struct idt_gate){
		.offset_lo = (uint16_t)addr,
		.selector = SEL_KCODE,
		.ist = ist,
		.type = GATE_INTERRUPT,
		.offset_mid = (uint16_t)(addr >> 16),
		.offset_hi = (uint32_t)(addr >> 32),
	};
}

void idt_init(void)
{
	for (unsigned v = 0; v < TRAP_VECTORS; v++)
		set_gate(v, isr_table[v], 0);
	set_gate(TRAP_DF, isr_table[TRAP_DF], IST_DF);
	set_gate(TRAP_NMI, isr_table[TRAP_NMI], IST_NMI);
	set_gate(TRAP_MC, isr_table[TRAP_MC], IST_MC);
	pic_disable();
}

void idt_load(void)
{
	struct idt_ptr p = { .limit = sizeof(idt) - 1, .base = (uintptr_t)idt };

	__asm__ volatile("lidt %0" : : "m"(p) : "memory");
}

/* Vectors >= 32 with a handler (idt_dump). */
static unsigned idt_handlers_installed(void)
{
	unsigned n = 0;

	for (unsigned v = TRAP_EXCEPTIONS; v < TRAP_VECTORS; v++)
		n += handlers[v] != NULL;
	return n;
}

int trap_set_handler(unsigned vector, void (*fn)(struct trap_frame *f))
{
	if (vector < TRAP_EXCEPTIONS || vector >= TRAP_VECTORS)
		return -EINVAL;
	handlers[vector] = fn;
	return 0;
}

void trap_dispatch(struct trap_frame *f)
{
	void (*fn)(struct trap_frame *f);
	struct cpu *c;

	if (f->vector < TRAP_EXCEPTIONS) {
		if (f->vector == TRAP_NMI) {
			/* Another core panicked and stops us: halt without a
			 * report. */
			if (smp_stop_requested())
				halt_forever();
			/* Another core asked for our backtrace. */
			if (nmi_backtrace_take(f))
				return;
		}
		fault_handle(f);
		return;
	}
	c = this_cpu();
	/* Ends an interim timer poll in arch_wait_for_interrupt(). */
	c->interrupts++;
	/* arch_in_interrupt(); a fault in a handler is never contained. */
	c->irq_depth++;
	fn = handlers[f->vector];
	if (fn)
		fn(f);
	else
		/* A masked 8259 can raise its spurious IRQ 7/15: ignore it. */
		log_warn("trap: unexpected interrupt on vector %lu, ignored",
			 (unsigned long)f->vector);
	c->irq_depth--;
}

void idt_dump(const struct fmt_out *out)
{
	struct idt_ptr p;
	unsigned n, present = 0;

	__asm__ volatile("sidt %0" : "=m"(p));
	n = (p.limit + 1u) / sizeof(struct idt_gate);
	for (unsigned v = 0; v < n && v < TRAP_VECTORS; v++)
		present += (idt[v].type & GATE_PRESENT) != 0;
	fmt_printf(out, "idt: base 0x%llx, limit 0x%x: %u gates, %u present, "
		   "%u with a handler above the exceptions\n",
		   (unsigned long long)p.base, p.limit, n, present,
		   idt_handlers_installed());
	fmt_printf(out, "  exceptions on their own stack (IST):\n");
	for (unsigned v = 0; v < TRAP_EXCEPTIONS && v < n; v++)
		if (idt[v].ist)
			fmt_printf(out, "    vector %2u %-24s IST %u\n", v,
				   trap_name(v), idt[v].ist);
}
