/*
 * ioapic.h - I/O APICs: legacy (ISA) IRQs routed to a LAPIC vector, and
 * the registration of device interrupt handlers.
 *
 * ioapic_init() masks every input of every I/O APIC the MADT lists; a
 * driver then routes its IRQ (ioapic_route_irq) and registers its handler
 * (irq_register).  ISA IRQs are translated to global system interrupts
 * through the MADT's interrupt source overrides (QEMU, like most PCs,
 * moves the PIT's IRQ 0 to GSI 2), with the polarity and trigger mode the
 * override gives, ISA defaults (edge, active high) otherwise.  Delivery is
 * fixed, physical destination mode, to one APIC id (below 256: x2APIC ids
 * beyond need interrupt remapping, which hyphae does not do).
 * Reference: Intel 82093AA I/O APIC data sheet; ACPI 6.5 section 5.2.12.5.
 */
#ifndef HYPHAE_X86_64_IOAPIC_H
#define HYPHAE_X86_64_IOAPIC_H

#include <stdint.h>

#include "arch/x86_64/vectors.h"
#include "compiler.h"

struct acpi_info;

/*
 * Map and mask every I/O APIC of `info` (none: legacy IRQs stay off, as
 * with a failed MADT).  Boot core, once, after lapic_init.
 */
void ioapic_init(const struct acpi_info *info);

/*
 * Route ISA IRQ `irq` to `vector` on the core with APIC id `dest_apic`,
 * unmasked.  Returns 0, -ENOENT when no I/O APIC serves its GSI, -EINVAL
 * for a vector below 32 or an APIC id the redirection entry cannot hold.
 * Any core (a lock serialises register access).
 */
int __must_check ioapic_route_irq(unsigned irq, uint8_t vector,
				  uint32_t dest_apic);

/* Mask ISA IRQ `irq` again.  Returns 0 or -ENOENT.  Any core. */
int ioapic_mask_irq(unsigned irq);

/*
 * Call fn(arg) for every interrupt on `vector` (32..255), then send the
 * EOI.  fn runs on the interrupt stack, interrupts off, on whichever core
 * took it.  Register before routing the IRQ.  Returns 0, -EINVAL for an
 * exception vector, -EBUSY when the vector already has a handler.
 */
int __must_check irq_register(unsigned vector, void (*fn)(void *arg), void *arg);

#endif /* HYPHAE_X86_64_IOAPIC_H */
