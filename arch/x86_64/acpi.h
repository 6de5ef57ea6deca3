/*
 * acpi.h - the ACPI tables hyphae needs: RSDP, RSDT/XSDT and the MADT.
 *
 * The parser is pure C (host-tested in tests/arch/x86_64/test_acpi.c): it reads
 * physical memory only through a struct acpi_mem mapper, which refuses
 * ranges it cannot map, so a table with an absurd length or a pointer into
 * nowhere is an error, never a wild read.  Every table's checksum is
 * verified.  The result lists the processors (local APIC and x2APIC
 * entries that are enabled or online-capable, each APIC id once), the I/O
 * APICs and the interrupt source overrides.  On any error the caller gets
 * a negative code and a reason string and falls back to one core.
 * Reference: ACPI 6.5 sections 5.2.5 (RSDP), 5.2.7-5.2.8 (RSDT/XSDT),
 * 5.2.12 (MADT).
 */
#ifndef HYPHAE_X86_64_ACPI_H
#define HYPHAE_X86_64_ACPI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"
#include "config.h"

#define ACPI_MAX_IOAPICS	16
#define ACPI_MAX_OVERRIDES	32
#define ACPI_MAX_TABLES		256	/* RSDT/XSDT entries looked at */
#define ACPI_MAX_TABLE_LEN	(1u << 20)	/* longer is "absurd" */

/* Interrupt source override flags (MPS INTI flags). */
#define ACPI_POLARITY_MASK	0x3
#define   ACPI_POLARITY_BUS	  0x0	/* as the bus says (ISA: high) */
#define   ACPI_POLARITY_HIGH	  0x1
#define   ACPI_POLARITY_LOW	  0x3
#define ACPI_TRIGGER_SHIFT	2
#define ACPI_TRIGGER_MASK	(0x3 << ACPI_TRIGGER_SHIFT)
#define   ACPI_TRIGGER_BUS	  (0x0 << ACPI_TRIGGER_SHIFT)	/* ISA: edge */
#define   ACPI_TRIGGER_EDGE	  (0x1 << ACPI_TRIGGER_SHIFT)
#define   ACPI_TRIGGER_LEVEL	  (0x3 << ACPI_TRIGGER_SHIFT)

/*
 * How the parser reaches physical memory: map(mem, pa, len) returns a
 * pointer to len readable bytes at pa, or NULL if they are not mappable.
 * The kernel maps identity; tests map a buffer.
 */
struct acpi_mem {
	const void *(*map)(const struct acpi_mem *mem, uint64_t pa, size_t len);
	void *priv;
};

struct acpi_cpu {
	uint32_t apic_id;
	uint32_t uid;		/* ACPI processor UID */
	bool enabled;		/* false: online-capable, not yet enabled */
};

struct acpi_ioapic {
	uint32_t id;
	uint64_t addr;		/* MMIO base */
	uint32_t gsi_base;	/* first global system interrupt it serves */
};

struct acpi_override {
	uint8_t irq;		/* ISA IRQ (bus 0) */
	uint32_t gsi;
	uint16_t flags;		/* ACPI_POLARITY_* | ACPI_TRIGGER_* */
};

struct acpi_info {
	unsigned revision;		/* RSDP revision: 0 (ACPI 1.0) or 2+ */
	bool used_xsdt;
	uint64_t lapic_addr;		/* MADT base, or the 64-bit override */
	bool pcat_compat;		/* dual 8259s present (mask them) */
	unsigned ncpus;
	unsigned cpus_ignored;		/* beyond MAX_CORES */
	struct acpi_cpu cpus[MAX_CORES];
	unsigned nioapics;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned noverrides;
	struct acpi_override overrides[ACPI_MAX_OVERRIDES];
	const void *madt;		/* the table parsed (mapped), and its length */
	uint32_t madt_len;
	/* Set on failure: what was wrong, for the log line. */
	const char *error;
};

/*
 * Parse from an RSDP copy (the multiboot2 tag's, len bytes) down to the
 * MADT.  Returns 0 with *out filled, or -EINVAL/-ENOENT with out->error
 * set (the info is then unusable: fall back to one core).  Any context.
 */
int __must_check acpi_parse(const void *rsdp, size_t len,
			    const struct acpi_mem *mem, struct acpi_info *out);

/*
 * Find the RSDP the legacy way: the first KiB of the EBDA (segment at
 * 0x40e), then 0xe0000-0xfffff, on 16-byte boundaries with a valid
 * checksum.  Returns its physical address, or 0 if none.
 */
uint64_t acpi_find_rsdp(const struct acpi_mem *mem);

/*
 * Parse one MADT (header included, len bytes) into the processor, I/O
 * APIC and override lists of *out.  Returns 0, or -EINVAL with out->error.
 * Exposed so tests can feed it corrupted copies.
 */
int __must_check acpi_parse_madt(const void *madt, size_t len,
				 struct acpi_info *out);

/* The highest APIC id an xAPIC can address (0xff is its broadcast). */
#define ACPI_MAX_XAPIC_ID	0xfe

/*
 * Why processor c cannot be started in the machine's APIC mode (x2apic:
 * running in x2APIC mode), or NULL when it can.  An xAPIC IPI carries an
 * 8-bit destination, so an x2APIC entry with a larger id (or 0xff) is
 * out of reach: an INIT to it would hit id & 0xff, another processor.
 * Any context.
 */
const char *acpi_cpu_unreachable(const struct acpi_cpu *c, bool x2apic);

/* The override for ISA IRQ irq, or NULL when it maps identity. */
const struct acpi_override *acpi_irq_override(const struct acpi_info *info,
					      unsigned irq);

/* ---- kernel side (acpi_boot.c; not in the host build) ------------------ */

struct mb2_info;

/*
 * Read the machine's tables (RSDP from the boot information, else a BIOS
 * area scan) into the kernel's acpi_info and log what was found.  On any
 * failure logs why and leaves a one-core description (the boot core, no
 * I/O APIC).  Boot core, once, after mm_init.
 */
void acpi_init(const struct mb2_info *mb);

/* The kernel's tables (valid after acpi_init; never NULL then). */
const struct acpi_info *acpi_get(void);

/*
 * Parse a MADT copy into *out as acpi_init does: on failure log
 * "acpi: ...; falling back to one core" and describe only the calling
 * core.  Returns the parser's result.  Boot core (tests re-parse corrupted
 * copies with it).
 */
int acpi_load_madt(const void *madt, size_t len, struct acpi_info *out);

/* Make *out describe only the calling core (no I/O APIC), logging why. */
void acpi_fallback_one_core(struct acpi_info *out, const char *why);

#endif /* HYPHAE_X86_64_ACPI_H */
