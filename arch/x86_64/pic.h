/*
 * pic.h - the legacy 8259 interrupt controllers.
 *
 * hyphae routes device interrupts through the I/O APIC.  The two 8259s are
 * remapped to VECTOR_PIC1_BASE/VECTOR_PIC2_BASE and masked at boot (left
 * alone they would deliver the PIT's IRQ 0 on vector 8 and look like a
 * double fault); a machine without an I/O APIC gets its IRQ through them
 * (serial_rx.c's fallback).  Reference: Intel 8259A data sheet (ICW1-4,
 * OCW1 mask, OCW2 EOI).
 */
#ifndef HYPHAE_X86_64_PIC_H
#define HYPHAE_X86_64_PIC_H

/* Remap both PICs and mask every input.  Boot core, once, interrupts off. */
void pic_disable(void);

/* Unmask ISA IRQ `irq` (0-7, master only).  Boot core, interrupts off. */
void pic_unmask(unsigned irq);

/* End of interrupt for a master IRQ.  From its handler, interrupts off. */
void pic_eoi(void);

#endif /* HYPHAE_X86_64_PIC_H */
