/*
 * idt.c - the interrupt descriptor table and vector dispatch.
 *
 * One IDT, shared by every core: 256 interrupt gates (IF cleared on entry)
 * pointing at the isr.asm stubs.  #DF, NMI and #MC use IST stacks so they
 * are delivered even when the interrupted stack is unusable.  The legacy
 * PICs are remapped to vectors 0x20-0x2f and masked: left alone they would
 * deliver the PIT's IRQ 0 on vector 8 and look like a double fault.
 * Reference: Intel SDM vol. 3 sections 6.10-6.14; Intel 8259A data sheet.
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "lib/log.h"

#define GATE_INTERRUPT	0x8e	/* present, DPL 0, 64-bit interrupt gate */

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

	if (f->vector < TRAP_EXCEPTIONS) {
		/* Another core panicked and stops us: halt without a report. */
		if (f->vector == TRAP_NMI && smp_stop_requested())
			halt_forever();
		fault_handle(f);
		return;
	}
	/* Ends an interim timer poll in arch_wait_for_interrupt(). */
	this_cpu()->interrupts++;
	fn = handlers[f->vector];
	if (fn) {
		fn(f);
		return;
	}
	/* A masked 8259 can still raise its spurious IRQ 7/15: ignore those. */
	log_warn("trap: unexpected interrupt on vector %lu, ignored",
		 (unsigned long)f->vector);
}

/* ---- legacy 8259 PICs ------------------------------------------------------ */

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define ICW1_INIT	0x11	/* edge triggered, cascade, ICW4 follows */
#define ICW4_8086	0x01
#define PIC1_VECTOR	0x20	/* IRQ 0-7 -> 0x20-0x27 */
#define PIC2_VECTOR	0x28	/* IRQ 8-15 -> 0x28-0x2f */
#define PIC_CASCADE_IRQ	2
#define PIC_MASK_ALL	0xff

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT);
	outb(PIC2_CMD, ICW1_INIT);
	outb(PIC1_DATA, PIC1_VECTOR);
	outb(PIC2_DATA, PIC2_VECTOR);
	outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);	/* slave on IRQ 2 */
	outb(PIC2_DATA, PIC_CASCADE_IRQ);	/* slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}
