/*
 * ioapic.c - I/O APIC redirection entries and device interrupt dispatch.
 *
 * Each I/O APIC is two MMIO registers: IOREGSEL selects an internal
 * register, IOWIN reads or writes it; a spinlock (irqsave) keeps the pair
 * together.  Redirection entry n is internal registers 0x10 + 2n (low
 * word: vector, delivery and polarity/trigger, mask) and 0x11 + 2n (high
 * word: destination APIC id in bits 24-31).  irq_register() stores the
 * handler in a table read by one common trap handler, which sends the
 * EOI after the driver's function.  Reference: Intel 82093AA data sheet
 * sections 3.2-3.2.4.
 */
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "errno.h"
#include "lib/log.h"
#include "panic.h"
#include "spinlock.h"

#define IOREGSEL		0x00
#define IOWIN			0x10
#define IOAPIC_REG_VER		0x01
#define   VER_MAX_REDIR_SHIFT	  16
#define   VER_MAX_REDIR_MASK	  0xff
#define IOAPIC_REG_REDIR	0x10	/* + 2n: low word, + 2n + 1: high */
#define   REDIR_POLARITY_LOW	  (1u << 13)
#define   REDIR_TRIGGER_LEVEL	  (1u << 15)
#define   REDIR_MASKED		  (1u << 16)
#define   REDIR_DEST_SHIFT	  24	/* in the high word */
#define MAX_XAPIC_DEST		0xff

struct ioapic {
	volatile uint32_t *mmio;
	uint32_t gsi_base;
	unsigned inputs;		/* redirection entries */
};

static struct ioapic ioapics[ACPI_MAX_IOAPICS];
static unsigned nioapics;
static const struct acpi_info *acpi;
static struct spinlock ioapic_lock = SPINLOCK_INIT;

/* Written at registration (before routing), read by any core's IRQ. */
static void (*irq_fn[TRAP_VECTORS])(void *arg);
static void *irq_arg[TRAP_VECTORS];

static uint32_t reg_read(const struct ioapic *io, uint32_t reg)
{
	io->mmio[IOREGSEL / sizeof(uint32_t)] = reg;
	return io->mmio[IOWIN / sizeof(uint32_t)];
}

static void reg_write(const struct ioapic *io, uint32_t reg, uint32_t v)
{
	io->mmio[IOREGSEL / sizeof(uint32_t)] = reg;
	io->mmio[IOWIN / sizeof(uint32_t)] = v;
}

void ioapic_init(const struct acpi_info *info)
{
	acpi = info;
	for (unsigned i = 0; i < info->nioapics; i++) {
		const struct acpi_ioapic *a = &info->ioapics[i];
		struct ioapic *io = &ioapics[nioapics];

		if (paging_protect((uintptr_t)a->addr, PAGE_SIZE,
				   PAGE_RW | PAGE_NOCACHE) != 0) {
			log_warn("ioapic: cannot map I/O APIC %u at 0x%llx; skipped",
				 a->id, (unsigned long long)a->addr);
			continue;
		}
		io->mmio = (volatile uint32_t *)(uintptr_t)a->addr;
		io->gsi_base = a->gsi_base;
		io->inputs = ((reg_read(io, IOAPIC_REG_VER) >> VER_MAX_REDIR_SHIFT) &
			      VER_MAX_REDIR_MASK) + 1;
		for (unsigned n = 0; n < io->inputs; n++)
			reg_write(io, IOAPIC_REG_REDIR + 2 * n, REDIR_MASKED);
		log_info("ioapic: id %u at 0x%llx, GSI %u-%u, all masked", a->id,
			 (unsigned long long)a->addr, io->gsi_base,
			 io->gsi_base + io->inputs - 1);
		nioapics++;
	}
	if (nioapics == 0)
		log_warn("ioapic: none; legacy IRQs (serial input) stay off");
}

/* The I/O APIC input for ISA IRQ irq, and the entry's mode bits. */
static struct ioapic *lookup(unsigned irq, unsigned *input, uint32_t *mode)
{
	const struct acpi_override *o = acpi ? acpi_irq_override(acpi, irq) : NULL;
	uint32_t gsi = o ? o->gsi : irq;

	*mode = 0;
	if (o && (o->flags & ACPI_POLARITY_MASK) == ACPI_POLARITY_LOW)
		*mode |= REDIR_POLARITY_LOW;
	if (o && (o->flags & ACPI_TRIGGER_MASK) == ACPI_TRIGGER_LEVEL)
		*mode |= REDIR_TRIGGER_LEVEL;
	for (unsigned i = 0; i < nioapics; i++)
		if (gsi >= ioapics[i].gsi_base &&
		    gsi - ioapics[i].gsi_base < ioapics[i].inputs) {
			*input = gsi - ioapics[i].gsi_base;
			return &ioapics[i];
		}
	return NULL;
}

int ioapic_route_irq(unsigned irq, uint8_t vector, uint32_t dest_apic)
{
	struct ioapic *io;
	unsigned input;
	uint32_t mode;
	unsigned long flags;

	if (vector < TRAP_EXCEPTIONS || dest_apic > MAX_XAPIC_DEST)
		return -EINVAL;
	io = lookup(irq, &input, &mode);
	if (!io)
		return -ENOENT;
	flags = spin_lock_irqsave(&ioapic_lock);
	/* Destination first, then the unmasking low word. */
	reg_write(io, IOAPIC_REG_REDIR + 2 * input + 1,
		  dest_apic << REDIR_DEST_SHIFT);
	reg_write(io, IOAPIC_REG_REDIR + 2 * input, mode | vector);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	log_debug("ioapic: IRQ %u -> input %u, vector 0x%x, apic %u", irq, input,
		  vector, dest_apic);
	return 0;
}

int ioapic_mask_irq(unsigned irq)
{
	struct ioapic *io;
	unsigned input;
	uint32_t mode;
	unsigned long flags;

	io = lookup(irq, &input, &mode);
	if (!io)
		return -ENOENT;
	flags = spin_lock_irqsave(&ioapic_lock);
	reg_write(io, IOAPIC_REG_REDIR + 2 * input, REDIR_MASKED);
	spin_unlock_irqrestore(&ioapic_lock, flags);
	return 0;
}

static void irq_dispatch(struct trap_frame *f)
{
	irq_fn[f->vector](irq_arg[f->vector]);
	lapic_eoi();
}

int irq_register(unsigned vector, void (*fn)(void *arg), void *arg)
{
	if (vector < TRAP_EXCEPTIONS || vector >= TRAP_VECTORS)
		return -EINVAL;
	if (irq_fn[vector])
		return -EBUSY;
	irq_arg[vector] = arg;
	irq_fn[vector] = fn;
	return trap_set_handler(vector, irq_dispatch);
}
