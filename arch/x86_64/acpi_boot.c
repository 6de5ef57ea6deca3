/*
 * acpi_boot.c - the kernel's side of acpi.c: find the tables, parse them
 * through the identity map, log the machine, fall back to one core.
 *
 * The mapper hands out a table only when every page it touches is mapped
 * (paging_lookup), so a firmware pointer into a hole is a parse error, not
 * a page fault.  The null page is never mapped, so the legacy scan's EBDA
 * pointer (0x40e) is skipped and only 0xe0000-0xfffff is searched when
 * GRUB gave no RSDP tag.  Reference: ACPI 6.5 section 5.2.5.1.
 */
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/x86.h"
#include "lib/log.h"

#define RSDP_MAP_LEN	36	/* an ACPI 2.0 RSDP; 1.0 uses the first 20 */
#define XAPIC_ID_SHIFT	24	/* CPUID.1:EBX[31:24] */

static struct acpi_info machine;

static const void *identity_map(const struct acpi_mem *mem, uint64_t pa,
				size_t len)
{
	uint64_t end = pa + len;
	uint64_t entry;
	size_t size;

	(void)mem;
	if (end < pa || len == 0)
		return NULL;
	for (uint64_t p = pa & ~(uint64_t)PAGE_MASK; p < end; p += PAGE_SIZE)
		if (!paging_lookup((uintptr_t)p, &entry, &size))
			return NULL;
	return (const void *)(uintptr_t)pa;
}

static const struct acpi_mem kernel_mem = { identity_map, NULL };

const struct acpi_info *acpi_get(void)
{
	return &machine;
}

void acpi_fallback_one_core(struct acpi_info *out, const char *why)
{
	log_warn("acpi: %s; falling back to one core", why);
	out->ncpus = 1;
	out->cpus_ignored = 0;
	out->cpus[0] = (struct acpi_cpu){
		.apic_id = cpuid(1, 0).ebx >> XAPIC_ID_SHIFT,
		.enabled = true,
	};
	out->nioapics = 0;
	out->noverrides = 0;
	out->lapic_addr = 0;
	out->pcat_compat = true;
}

static void log_machine(const struct acpi_info *info)
{
	log_info("acpi: %s, MADT: %u processor%s%s, %u I/O APIC%s, %u override%s",
		 info->used_xsdt ? "XSDT" : "RSDT", info->ncpus,
		 info->ncpus == 1 ? "" : "s",
		 info->cpus_ignored ? " (more ignored)" : "",
		 info->nioapics, info->nioapics == 1 ? "" : "s",
		 info->noverrides, info->noverrides == 1 ? "" : "s");
	for (unsigned i = 0; i < info->noverrides; i++)
		log_debug("acpi: IRQ %u -> GSI %u (flags 0x%x)",
			  info->overrides[i].irq, info->overrides[i].gsi,
			  info->overrides[i].flags);
}

int acpi_load_madt(const void *madt, size_t len, struct acpi_info *out)
{
	int err = acpi_parse_madt(madt, len, out);

	if (err)
		acpi_fallback_one_core(out, out->error);
	return err;
}

void acpi_init(const struct mb2_info *mb)
{
	const void *rsdp = mb->rsdp;
	size_t len = mb->rsdp_size;

	if (!rsdp) {
		uint64_t pa = acpi_find_rsdp(&kernel_mem);

		log_info("acpi: no RSDP tag from the loader; BIOS area scan: %s",
			 pa ? "found" : "none");
		if (pa) {
			len = RSDP_MAP_LEN;
			rsdp = identity_map(&kernel_mem, pa, len);
		}
	}
	if (!rsdp) {
		acpi_fallback_one_core(&machine, "no RSDP");
		return;
	}
	if (acpi_parse(rsdp, len, &kernel_mem, &machine) != 0) {
		acpi_fallback_one_core(&machine, machine.error);
		return;
	}
	log_machine(&machine);
}
