/*
 * vectors.h - the interrupt vector map, in one place.
 *
 *   0x00-0x1f  CPU exceptions (trap.h names them: TRAP_DE ... TRAP_XM)
 *   0x20-0x2f  the legacy 8259 PICs, remapped here and masked (pic.c)
 *   0x30-0x3f  ISA IRQs routed through the I/O APIC: 0x30 + IRQ (ioapic.c)
 *   0xf0-0xff  the local APIC's own: timer, wakeup IPI, the tests' IPI,
 *              the kick IPI, APIC error, spurious
 * The LAPIC's sources sit above every device (priority = vector >> 4).
 * Reference: Intel SDM vol. 3 sections 6.2 (vector numbers), 11.9
 * (spurious vector: its low nibble is all ones on older parts).
 */
#ifndef HYPHAE_X86_64_VECTORS_H
#define HYPHAE_X86_64_VECTORS_H

#define VECTOR_PIC1_BASE	0x20	/* 8259 master: IRQ 0-7 */
#define VECTOR_PIC2_BASE	0x28	/* 8259 slave: IRQ 8-15 */
#define VECTOR_IRQ_BASE		0x30	/* I/O APIC: ISA IRQ n -> 0x30 + n */

#define VECTOR_TIMER		0xf0	/* LAPIC one-shot / TSC-deadline timer */
#define VECTOR_WAKE		0xf1	/* arch_wake(): wakeup IPI */
#define VECTOR_TEST		0xf2	/* in-kernel tests' IPI */
#define VECTOR_KICK		0xf3	/* arch_kick(): the runtime's kick IPI */
#define VECTOR_ERROR		0xfe	/* APIC error */
#define VECTOR_SPURIOUS		0xff	/* low nibble all ones */

/* ISA IRQ lines (the I/O APIC's inputs after the MADT's overrides). */
#define ISA_IRQ_PIT		0
#define ISA_IRQ_COM1		4
#define ISA_IRQS		16

/* An ISA IRQ's vector through the 8259 or through the I/O APIC. */
#define VECTOR_PIC_IRQ(irq)	(VECTOR_PIC1_BASE + (irq))
#define VECTOR_IOAPIC_IRQ(irq)	(VECTOR_IRQ_BASE + (irq))

#endif /* HYPHAE_X86_64_VECTORS_H */
