/*
 * pic.c - the legacy 8259 PICs: remapped and masked at boot, and the
 * fallback route for one ISA IRQ on a machine without an I/O APIC.
 * Reference: Intel 8259A data sheet.
 */
#include <stdint.h>

#include "arch/x86_64/pic.h"
#include "arch/x86_64/vectors.h"
#include "arch/x86_64/x86.h"
#include "panic.h"

#define PIC1_CMD	0x20
#define PIC1_DATA	0x21
#define PIC2_CMD	0xa0
#define PIC2_DATA	0xa1
#define ICW1_INIT	0x11	/* edge triggered, cascade, ICW4 follows */
#define ICW4_8086	0x01
#define PIC_CASCADE_IRQ	2
#define PIC_MASK_ALL	0xff
#define PIC_EOI		0x20	/* OCW2: non-specific end of interrupt */
#define PIC_IRQS	8	/* per controller */

void pic_disable(void)
{
	outb(PIC1_CMD, ICW1_INIT);
	outb(PIC2_CMD, ICW1_INIT);
	outb(PIC1_DATA, VECTOR_PIC1_BASE);
	outb(PIC2_DATA, VECTOR_PIC2_BASE);
	outb(PIC1_DATA, 1u << PIC_CASCADE_IRQ);	/* slave on IRQ 2 */
	outb(PIC2_DATA, PIC_CASCADE_IRQ);	/* slave identity */
	outb(PIC1_DATA, ICW4_8086);
	outb(PIC2_DATA, ICW4_8086);
	outb(PIC1_DATA, PIC_MASK_ALL);
	outb(PIC2_DATA, PIC_MASK_ALL);
}

void pic_unmask(unsigned irq)
{
	if (irq >= PIC_IRQS)
		panic("pic_unmask: IRQ %u is not on the master PIC", irq);
	outb(PIC1_DATA, (uint8_t)(inb(PIC1_DATA) & ~(1u << irq)));
}

void pic_eoi(void)
{
	outb(PIC1_CMD, PIC_EOI);
}
