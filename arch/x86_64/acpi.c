/*
 * acpi.c - RSDP, RSDT/XSDT and MADT parsing (pure C, see acpi.h).
 *
 * The walk: RSDP (checksum over 20 bytes; revision 2+ also over its full
 * length) -> XSDT when present and valid, else RSDT -> each entry's header
 * through the mapper -> the "APIC" table.  Each table is mapped with its
 * header first, its length checked for sanity (at least the header, at
 * most ACPI_MAX_TABLE_LEN), then mapped whole and checksummed.  MADT
 * entries must each fit inside the table and be long enough for their
 * type; unknown types are skipped by their length.  Fields are read with
 * memcpy, so misaligned tables are fine under UBSan.  Reference: ACPI 6.5
 * sections 5.2.5-5.2.8 and 5.2.12.
 */
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "config.h"
#include "errno.h"
#include "lib/string.h"

#define RSDP_SIG		"RSD PTR "
#define RSDP_SIG_LEN		8
#define RSDP_V1_LEN		20
#define   RSDP_REVISION_OFF	  15
#define   RSDP_RSDT_OFF		  16	/* u32 */
#define RSDP_V2_MIN_LEN		36
#define   RSDP_LENGTH_OFF	  20	/* u32 */
#define   RSDP_XSDT_OFF		  24	/* u64 */

#define SDT_HEADER_LEN		36
#define   SDT_LENGTH_OFF	  4	/* u32, whole table */
#define SDT_SIG_LEN		4
#define RSDT_SIG		"RSDT"
#define XSDT_SIG		"XSDT"
#define MADT_SIG		"APIC"

#define MADT_LAPIC_ADDR_OFF	36	/* u32 */
#define MADT_FLAGS_OFF		40	/* u32 */
#define   MADT_PCAT_COMPAT	  (1u << 0)
#define MADT_ENTRIES_OFF	44
#define MADT_ENTRY_HDR		2	/* u8 type, u8 length */

#define MADT_LAPIC		0	/* u8 uid, u8 apic id, u32 flags */
#define   MADT_LAPIC_LEN	  8
#define MADT_IOAPIC		1	/* u8 id, u8 rsvd, u32 addr, u32 gsi base */
#define   MADT_IOAPIC_LEN	  12
#define MADT_OVERRIDE		2	/* u8 bus, u8 irq, u32 gsi, u16 flags */
#define   MADT_OVERRIDE_LEN	  10
#define MADT_LAPIC_OVERRIDE	5	/* u16 rsvd, u64 lapic address */
#define   MADT_LAPIC_OVERRIDE_LEN 12
#define MADT_X2APIC		9	/* u16 rsvd, u32 x2apic id, u32 flags, u32 uid */
#define   MADT_X2APIC_LEN	  16
#define LAPIC_ENABLED		(1u << 0)
#define LAPIC_ONLINE_CAPABLE	(1u << 1)
#define ISA_BUS			0

#define EBDA_SEGMENT_PTR	0x40e	/* u16 real-mode segment of the EBDA */
#define EBDA_SCAN_LEN		1024
#define BIOS_ROM_START		0xe0000
#define BIOS_ROM_END		0x100000
#define RSDP_ALIGN		16
#define SEGMENT_SHIFT		4

static uint16_t rd16(const uint8_t *p)
{
	uint16_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static int fail(struct acpi_info *out, int err, const char *why)
{
	out->error = why;
	return err;
}

/* A valid RSDP at p (len bytes readable): signature and checksums. */
static bool rsdp_valid(const uint8_t *p, size_t len)
{
	if (len < RSDP_V1_LEN || memcmp(p, RSDP_SIG, RSDP_SIG_LEN) != 0)
		return false;
	if (sum_bytes(p, RSDP_V1_LEN) != 0)
		return false;
	if (p[RSDP_REVISION_OFF] >= 2) {
		uint32_t full;

		if (len < RSDP_V2_MIN_LEN)
			return false;
		full = rd32(p + RSDP_LENGTH_OFF);
		if (full < RSDP_V2_MIN_LEN || full > len ||
		    sum_bytes(p, full) != 0)
			return false;
	}
	return true;
}

/*
 * Map the whole table at pa after checking its header: length sane, bytes
 * mappable, checksum zero.  Returns it and its length, or NULL with why.
 */
static const uint8_t *map_table(const struct acpi_mem *mem, uint64_t pa,
				uint32_t *len, const char **why)
{
	const uint8_t *h = mem->map(mem, pa, SDT_HEADER_LEN);
	const uint8_t *t;
	uint32_t n;

	if (!h) {
		*why = "table header not mappable";
		return NULL;
	}
	n = rd32(h + SDT_LENGTH_OFF);
	if (n < SDT_HEADER_LEN || n > ACPI_MAX_TABLE_LEN) {
		*why = "table length absurd";
		return NULL;
	}
	t = mem->map(mem, pa, n);
	if (!t) {
		*why = "table body not mappable";
		return NULL;
	}
	if (sum_bytes(t, n) != 0) {
		*why = "table checksum bad";
		return NULL;
	}
	*len = n;
	return t;
}

static void add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid,
		    uint32_t flags)
{
	if (!(flags & (LAPIC_ENABLED | LAPIC_ONLINE_CAPABLE)))
		return;
	/* Firmware may list a processor as both LAPIC and x2APIC entry. */
	for (unsigned i = 0; i < out->ncpus; i++)
		if (out->cpus[i].apic_id == apic_id)
			return;
	if (out->ncpus == MAX_CORES) {
		out->cpus_ignored++;
		return;
	}
	out->cpus[out->ncpus++] = (struct acpi_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.enabled = flags & LAPIC_ENABLED,
	};
}

/* One MADT entry of type `type` and length `len` at e (inside the table). */
static int madt_entry(struct acpi_info *out, const uint8_t *e, uint8_t type,
		      uint8_t len)
{
	switch (type) {
	case MADT_LAPIC:
		if (len < MADT_LAPIC_LEN)
			return fail(out, -EINVAL, "MADT: short local APIC entry");
		add_cpu(out, e[3], e[2], rd32(e + 4));
		break;
	case MADT_X2APIC:
		if (len < MADT_X2APIC_LEN)
			return fail(out, -EINVAL, "MADT: short x2APIC entry");
		add_cpu(out, rd32(e + 4), rd32(e + 12), rd32(e + 8));
		break;
	case MADT_IOAPIC:
		if (len < MADT_IOAPIC_LEN)
			return fail(out, -EINVAL, "MADT: short I/O APIC entry");
		if (out->nioapics < ACPI_MAX_IOAPICS)
			out->ioapics[out->nioapics++] = (struct acpi_ioapic){
				.id = e[2],
				.addr = rd32(e + 4),
				.gsi_base = rd32(e + 8),
			};
		break;
	case MADT_OVERRIDE:
		if (len < MADT_OVERRIDE_LEN)
			return fail(out, -EINVAL, "MADT: short interrupt override entry");
		if (e[2] == ISA_BUS && out->noverrides < ACPI_MAX_OVERRIDES)
			out->overrides[out->noverrides++] = (struct acpi_override){
				.irq = e[3],
				.gsi = rd32(e + 4),
				.flags = rd16(e + 8),
			};
		break;
	case MADT_LAPIC_OVERRIDE:
		if (len < MADT_LAPIC_OVERRIDE_LEN)
			return fail(out, -EINVAL, "MADT: short LAPIC address override");
		out->lapic_addr = rd64(e + 4);
		break;
	default:
		break;
	}
	return 0;
}

const char *acpi_cpu_unreachable(const struct acpi_cpu *c, bool x2apic)
{
	if (!x2apic && c->apic_id > ACPI_MAX_XAPIC_ID)
		return "needs x2APIC mode (an xAPIC addresses ids up to 254)";
	return NULL;
}

int acpi_parse_madt(const void *madt, size_t len, struct acpi_info *out)
{
	const uint8_t *t = madt;
	size_t off;

	out->ncpus = out->nioapics = out->noverrides = out->cpus_ignored = 0;
	out->error = NULL;
	if (len < MADT_ENTRIES_OFF || rd32(t + SDT_LENGTH_OFF) != len)
		return fail(out, -EINVAL, "MADT: length field disagrees with the table");
	if (memcmp(t, MADT_SIG, SDT_SIG_LEN) != 0)
		return fail(out, -EINVAL, "MADT: bad signature");
	if (sum_bytes(t, len) != 0)
		return fail(out, -EINVAL, "MADT: checksum bad");
	out->lapic_addr = rd32(t + MADT_LAPIC_ADDR_OFF);
	out->pcat_compat = rd32(t + MADT_FLAGS_OFF) & MADT_PCAT_COMPAT;
	for (off = MADT_ENTRIES_OFF; off < len;) {
		uint8_t type, elen;
		int err;

		if (len - off < MADT_ENTRY_HDR)
			return fail(out, -EINVAL, "MADT: entry header past the end");
		type = t[off];
		elen = t[off + 1];
		if (elen < MADT_ENTRY_HDR || elen > len - off)
			return fail(out, -EINVAL, "MADT: entry length out of bounds");
		err = madt_entry(out, t + off, type, elen);
		if (err)
			return err;
		off += elen;
	}
	if (out->ncpus == 0)
		return fail(out, -EINVAL, "MADT: no usable processor");
	return 0;
}

/* Find the MADT among the RSDT (entry_size 4) or XSDT (8) entries. */
static int find_madt(const struct acpi_mem *mem, const uint8_t *sdt,
		     uint32_t sdt_len, size_t entry_size, struct acpi_info *out)
{
	size_t n = (sdt_len - SDT_HEADER_LEN) / entry_size;

	if (n > ACPI_MAX_TABLES)
		n = ACPI_MAX_TABLES;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = sdt + SDT_HEADER_LEN + i * entry_size;
		uint64_t pa = entry_size == sizeof(uint64_t) ? rd64(p) : rd32(p);
		const uint8_t *h = mem->map(mem, pa, SDT_HEADER_LEN);
		const uint8_t *madt;
		const char *why = NULL;
		uint32_t len;

		if (!h || memcmp(h, MADT_SIG, SDT_SIG_LEN) != 0)
			continue;
		madt = map_table(mem, pa, &len, &why);
		if (!madt)
			return fail(out, -EINVAL, why);
		out->madt = madt;
		out->madt_len = len;
		return acpi_parse_madt(madt, len, out);
	}
	return fail(out, -ENOENT, "no MADT (APIC table) in the RSDT/XSDT");
}

int acpi_parse(const void *rsdp, size_t len, const struct acpi_mem *mem,
	       struct acpi_info *out)
{
	const uint8_t *r = rsdp;
	const uint8_t *sdt = NULL;
	const char *why = "RSDT not usable";
	uint32_t sdt_len = 0;

	out->error = NULL;
	out->madt = NULL;
	out->madt_len = 0;
	out->used_xsdt = false;
	out->ncpus = out->nioapics = out->noverrides = 0;
	if (!r || !rsdp_valid(r, len))
		return fail(out, -EINVAL, "RSDP signature or checksum bad");
	out->revision = r[RSDP_REVISION_OFF];
	if (out->revision >= 2 && rd64(r + RSDP_XSDT_OFF) != 0) {
		sdt = map_table(mem, rd64(r + RSDP_XSDT_OFF), &sdt_len, &why);
		if (sdt && memcmp(sdt, XSDT_SIG, SDT_SIG_LEN) != 0) {
			sdt = NULL;
			why = "XSDT: bad signature";
		}
		out->used_xsdt = sdt != NULL;
	}
	/* A broken XSDT with a good RSDT: the RSDT still describes the machine. */
	if (!sdt && rd32(r + RSDP_RSDT_OFF) != 0) {
		sdt = map_table(mem, rd32(r + RSDP_RSDT_OFF), &sdt_len, &why);
		if (sdt && memcmp(sdt, RSDT_SIG, SDT_SIG_LEN) != 0) {
			sdt = NULL;
			why = "RSDT: bad signature";
		}
	}
	if (!sdt)
		return fail(out, -EINVAL, why);
	return find_madt(mem, sdt, sdt_len,
			 out->used_xsdt ? sizeof(uint64_t) : sizeof(uint32_t), out);
}

static uint64_t scan_rsdp(const struct acpi_mem *mem, uint64_t start,
			  uint64_t end)
{
	for (uint64_t pa = start; pa + RSDP_V1_LEN <= end; pa += RSDP_ALIGN) {
		const uint8_t *p = mem->map(mem, pa, RSDP_V1_LEN);
		const uint8_t *full;

		if (!p || memcmp(p, RSDP_SIG, RSDP_SIG_LEN) != 0)
			continue;
		if (p[RSDP_REVISION_OFF] >= 2) {
			full = mem->map(mem, pa, RSDP_V2_MIN_LEN);
			if (full && rsdp_valid(full, RSDP_V2_MIN_LEN))
				return pa;
		} else if (rsdp_valid(p, RSDP_V1_LEN)) {
			return pa;
		}
	}
	return 0;
}

uint64_t acpi_find_rsdp(const struct acpi_mem *mem)
{
	const uint8_t *seg = mem->map(mem, EBDA_SEGMENT_PTR, sizeof(uint16_t));
	uint64_t pa = 0;

	if (seg) {
		uint64_t ebda = (uint64_t)rd16(seg) << SEGMENT_SHIFT;

		if (ebda)
			pa = scan_rsdp(mem, ebda, ebda + EBDA_SCAN_LEN);
	}
	if (!pa)
		pa = scan_rsdp(mem, BIOS_ROM_START, BIOS_ROM_END);
	return pa;
}

const struct acpi_override *acpi_irq_override(const struct acpi_info *info,
					      unsigned irq)
{
	for (unsigned i = 0; i < info->noverrides; i++)
		if (info->overrides[i].irq == irq)
			return &info->overrides[i];
	return NULL;
}
