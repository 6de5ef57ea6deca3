/*
 * test_acpi.c - the ACPI parser on valid, truncated, bad-checksum and
 * absurd-length tables.
 *
 * A fake physical memory (one buffer at a chosen base address) stands in
 * for RAM: the mapper returns NULL for any range outside it, as the
 * kernel's does for unmapped memory, and ASan catches any read past what
 * was mapped.  A builder lays out RSDP -> XSDT/RSDT -> MADT with correct
 * checksums; each test breaks one thing.  Random corruptions (with and
 * without a repaired checksum) check that nothing crashes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/acpi.h"
#include "config.h"
#include "errno.h"
#include "tests/support/rng.h"

#define MEM_BASE	0x7fe0000ull
#define MEM_SIZE	(64 * 1024)
#define LOW_MEM_SIZE	0x100000	/* for the BIOS-area scan */

#define RSDT_PA		(MEM_BASE + 0x100)
#define XSDT_PA		(MEM_BASE + 0x200)
#define MADT_PA		(MEM_BASE + 0x400)
#define OTHER_PA	(MEM_BASE + 0x300)	/* a non-MADT table ("FACP") */
#define HDR		36

struct fake_mem {
	uint8_t *buf;
	uint64_t base;
	size_t size;
};

static const void *fake_map(const struct acpi_mem *mem, uint64_t pa, size_t len)
{
	const struct fake_mem *f = mem->priv;

	if (pa < f->base || pa - f->base > f->size || len > f->size - (pa - f->base))
		return NULL;
	return f->buf + (pa - f->base);
}

static uint8_t image[MEM_SIZE];
static struct fake_mem fmem = { image, MEM_BASE, MEM_SIZE };
static const struct acpi_mem mem = { fake_map, &fmem };
static struct acpi_info info;
static uint8_t rsdp[36];

static uint8_t *at(uint64_t pa)
{
	return image + (pa - MEM_BASE);
}

static void put16(uint8_t *p, uint16_t v) { memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* Fix the checksum byte (offset 9) of the table at p. */
static void sdt_fix(uint8_t *p)
{
	uint32_t len;

	memcpy(&len, p + 4, 4);
	p[9] = 0;
	p[9] = (uint8_t)-sum(p, len);
}

static void sdt_header(uint8_t *p, const char *sig, uint32_t len)
{
	memset(p, 0, HDR);
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = 1;
	memcpy(p + 10, "HYPHAE", 6);
}

static void rsdp_build(unsigned revision, uint32_t rsdt, uint64_t xsdt)
{
	memset(rsdp, 0, sizeof(rsdp));
	memcpy(rsdp, "RSD PTR ", 8);
	memcpy(rsdp + 9, "HYPHAE", 6);
	rsdp[15] = (uint8_t)revision;
	put32(rsdp + 16, rsdt);
	rsdp[8] = (uint8_t)-sum(rsdp, 20);
	if (revision >= 2) {
		put32(rsdp + 20, 36);
		put64(rsdp + 24, xsdt);
		rsdp[32] = (uint8_t)-sum(rsdp, 36);
	}
}

/* MADT builder: entries appended at madt_len. */
static size_t madt_len;

static void madt_begin(void)
{
	uint8_t *m = at(MADT_PA);

	sdt_header(m, "APIC", 44);
	put32(m + 36, 0xfee00000u);
	put32(m + 40, 1);		/* PCAT_COMPAT */
	madt_len = 44;
}

static void madt_add(const uint8_t *e, size_t n)
{
	memcpy(at(MADT_PA) + madt_len, e, n);
	madt_len += n;
}

static void madt_lapic(uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, id };

	put32(e + 4, flags);
	madt_add(e, sizeof(e));
}

static void madt_x2apic(uint32_t id, uint32_t flags, uint32_t uid)
{
	uint8_t e[16] = { 9, 16 };

	put32(e + 4, id);
	put32(e + 8, flags);
	put32(e + 12, uid);
	madt_add(e, sizeof(e));
}

static void madt_ioapic(uint8_t id, uint32_t addr, uint32_t gsi)
{
	uint8_t e[12] = { 1, 12, id, 0 };

	put32(e + 4, addr);
	put32(e + 8, gsi);
	madt_add(e, sizeof(e));
}

static void madt_override(uint8_t irq, uint32_t gsi, uint16_t flags)
{
	uint8_t e[10] = { 2, 10, 0, irq };

	put32(e + 4, gsi);
	put16(e + 8, flags);
	madt_add(e, sizeof(e));
}

static void madt_end(void)
{
	put32(at(MADT_PA) + 4, (uint32_t)madt_len);
	sdt_fix(at(MADT_PA));
}

/* A machine like QEMU's -smp 4: RSDT and XSDT both list FACP and APIC. */
static void build_machine(unsigned revision)
{
	uint8_t *r = at(RSDT_PA), *x = at(XSDT_PA), *o = at(OTHER_PA);

	memset(image, 0, sizeof(image));
	sdt_header(o, "FACP", HDR);
	sdt_fix(o);
	sdt_header(r, "RSDT", HDR + 8);
	put32(r + HDR, (uint32_t)OTHER_PA);
	put32(r + HDR + 4, (uint32_t)MADT_PA);
	sdt_fix(r);
	sdt_header(x, "XSDT", HDR + 16);
	put64(x + HDR, OTHER_PA);
	put64(x + HDR + 8, MADT_PA);
	sdt_fix(x);
	madt_begin();
	madt_lapic(0, 0, 1);
	madt_lapic(1, 1, 1);
	madt_lapic(2, 2, 0);		/* disabled, not online-capable: skipped */
	madt_lapic(3, 3, 2);		/* online-capable: listed */
	madt_x2apic(1, 1, 1);		/* duplicate of apic 1: listed once */
	madt_x2apic(300, 1, 7);		/* beyond xAPIC ids */
	madt_ioapic(0, 0xfec00000u, 0);
	madt_override(0, 2, 0);
	madt_override(9, 9, ACPI_POLARITY_HIGH | ACPI_TRIGGER_LEVEL);
	madt_end();
	rsdp_build(revision, (uint32_t)RSDT_PA, XSDT_PA);
}

static void check_machine(void)
{
	assert_int_equal(info.ncpus, 4);
	assert_int_equal(info.cpus[0].apic_id, 0);
	assert_int_equal(info.cpus[1].apic_id, 1);
	assert_int_equal(info.cpus[2].apic_id, 3);
	assert_false(info.cpus[2].enabled);
	assert_true(info.cpus[1].enabled);
	assert_int_equal(info.cpus[3].apic_id, 300);
	assert_int_equal(info.cpus[3].uid, 7);
	assert_int_equal(info.lapic_addr, 0xfee00000u);
	assert_true(info.pcat_compat);
	assert_int_equal(info.nioapics, 1);
	assert_int_equal(info.ioapics[0].addr, 0xfec00000u);
	assert_int_equal(info.ioapics[0].gsi_base, 0);
	assert_int_equal(info.noverrides, 2);
	assert_null(info.error);
}

static void test_valid_xsdt(void **state)
{
	(void)state;
	build_machine(2);
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), 0);
	assert_true(info.used_xsdt);
	assert_int_equal(info.revision, 2);
	assert_ptr_equal(info.madt, at(MADT_PA));
	assert_int_equal(info.madt_len, madt_len);
	check_machine();
}

static void test_valid_rsdt_acpi1(void **state)
{
	(void)state;
	build_machine(0);
	assert_int_equal(acpi_parse(rsdp, 20, &mem, &info), 0);
	assert_false(info.used_xsdt);
	check_machine();
}

static void test_bad_xsdt_falls_back_to_rsdt(void **state)
{
	(void)state;
	build_machine(2);
	at(XSDT_PA)[HDR] ^= 0x40;		/* checksum now wrong */
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), 0);
	assert_false(info.used_xsdt);
	check_machine();
}

static void test_overrides(void **state)
{
	const struct acpi_override *o;

	(void)state;
	build_machine(2);
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), 0);
	o = acpi_irq_override(&info, 0);
	assert_non_null(o);
	assert_int_equal(o->gsi, 2);
	o = acpi_irq_override(&info, 9);
	assert_non_null(o);
	assert_int_equal(o->flags & ACPI_TRIGGER_MASK, ACPI_TRIGGER_LEVEL);
	assert_int_equal(o->flags & ACPI_POLARITY_MASK, ACPI_POLARITY_HIGH);
	assert_null(acpi_irq_override(&info, 4));
}

static void test_bad_rsdp(void **state)
{
	(void)state;
	build_machine(2);
	rsdp[8] ^= 1;
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	assert_non_null(strstr(info.error, "RSDP"));
	build_machine(2);
	rsdp[32] ^= 1;				/* extended checksum */
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	build_machine(2);
	assert_int_equal(acpi_parse(rsdp, 24, &mem, &info), -EINVAL);	/* cut */
	assert_int_equal(acpi_parse(NULL, 0, &mem, &info), -EINVAL);
}

static void test_bad_madt_checksum(void **state)
{
	(void)state;
	build_machine(2);
	at(MADT_PA)[50] ^= 0x10;
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	assert_non_null(strstr(info.error, "checksum"));
}

static void test_absurd_madt_length(void **state)
{
	(void)state;
	build_machine(2);
	put32(at(MADT_PA) + 4, 0xffffffffu);	/* would read 4 GiB: must not */
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	assert_non_null(strstr(info.error, "absurd"));
	build_machine(2);
	put32(at(MADT_PA) + 4, 20);		/* shorter than a header */
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	assert_non_null(strstr(info.error, "absurd"));
}

static void test_madt_past_memory(void **state)
{
	(void)state;
	build_machine(2);
	put32(at(MADT_PA) + 4, MEM_SIZE);	/* sane, but runs off the RAM */
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -EINVAL);
	assert_non_null(strstr(info.error, "mappable"));
}

static void test_xsdt_entry_into_nowhere(void **state)
{
	(void)state;
	build_machine(2);
	put64(at(XSDT_PA) + HDR + 8, 0xdead00000000ull);
	sdt_fix(at(XSDT_PA));
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), -ENOENT);
	assert_non_null(strstr(info.error, "no MADT"));
}

/* Rewrite one entry's length byte and re-checksum the table. */
static int parse_with_entry_len(size_t entry_off, uint8_t len)
{
	build_machine(2);
	at(MADT_PA)[44 + entry_off + 1] = len;
	sdt_fix(at(MADT_PA));
	return acpi_parse(rsdp, sizeof(rsdp), &mem, &info);
}

static void test_truncated_entries(void **state)
{
	(void)state;
	assert_int_equal(parse_with_entry_len(0, 0), -EINVAL);	/* would loop */
	assert_non_null(strstr(info.error, "entry length"));
	assert_int_equal(parse_with_entry_len(0, 1), -EINVAL);
	assert_int_equal(parse_with_entry_len(0, 6), -EINVAL);	/* short LAPIC */
	assert_non_null(strstr(info.error, "short local APIC"));
	assert_int_equal(parse_with_entry_len(0, 250), -EINVAL);	/* past end */
	assert_non_null(strstr(info.error, "out of bounds"));
	/* x2APIC entry (5th, at 32) cut to 12 bytes. */
	assert_int_equal(parse_with_entry_len(32, 12), -EINVAL);
	assert_non_null(strstr(info.error, "short x2APIC"));
}

static void test_madt_direct(void **state)
{
	uint8_t copy[512];

	(void)state;
	build_machine(2);
	memcpy(copy, at(MADT_PA), madt_len);
	assert_int_equal(acpi_parse_madt(copy, madt_len, &info), 0);
	check_machine();
	/* The length field must agree with the buffer. */
	assert_int_equal(acpi_parse_madt(copy, madt_len - 1, &info), -EINVAL);
	/* A header-sized table is too short to carry the MADT fields. */
	assert_int_equal(acpi_parse_madt(copy, 40, &info), -EINVAL);
	copy[0] = 'X';
	sdt_fix(copy);
	assert_int_equal(acpi_parse_madt(copy, madt_len, &info), -EINVAL);
	assert_non_null(strstr(info.error, "signature"));
}

static void test_no_processor(void **state)
{
	(void)state;
	memset(image, 0, sizeof(image));
	madt_begin();
	madt_lapic(0, 0, 0);
	madt_ioapic(0, 0xfec00000u, 0);
	madt_end();
	assert_int_equal(acpi_parse_madt(at(MADT_PA), madt_len, &info), -EINVAL);
	assert_non_null(strstr(info.error, "no usable processor"));
}

/*
 * An x2APIC entry whose id an xAPIC cannot address (above 254; 255 is
 * the broadcast) is parsed, and the start-up is told to skip it unless
 * the machine runs in x2APIC mode.
 */
static void test_x2apic_ids_beyond_xapic(void **state)
{
	struct acpi_cpu c = { .enabled = true };
	static const struct { uint32_t id; bool xapic_ok; } cases[] = {
		{ 0, true }, { 1, true }, { 254, true }, { 255, false },
		{ 256, false }, { 300, false }, { 0xffffffffu, false },
	};

	(void)state;
	build_machine(2);
	assert_int_equal(acpi_parse(rsdp, sizeof(rsdp), &mem, &info), 0);
	assert_int_equal(info.cpus[3].apic_id, 300);
	assert_non_null(acpi_cpu_unreachable(&info.cpus[3], false));
	assert_null(acpi_cpu_unreachable(&info.cpus[3], true));
	assert_null(acpi_cpu_unreachable(&info.cpus[1], false));
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c.apic_id = cases[i].id;
		if (cases[i].xapic_ok)
			assert_null(acpi_cpu_unreachable(&c, false));
		else
			assert_non_null(acpi_cpu_unreachable(&c, false));
		assert_null(acpi_cpu_unreachable(&c, true));
	}
}

static void test_too_many_cpus(void **state)
{
	(void)state;
	memset(image, 0, sizeof(image));
	madt_begin();
	for (uint32_t i = 0; i < MAX_CORES + 88; i++)
		madt_x2apic(i, 1, i);
	madt_end();
	assert_int_equal(acpi_parse_madt(at(MADT_PA), madt_len, &info), 0);
	assert_int_equal(info.ncpus, MAX_CORES);
	assert_int_equal(info.cpus_ignored, 88);
	assert_int_equal(info.cpus[MAX_CORES - 1].apic_id, MAX_CORES - 1);
}

static void test_find_rsdp_scan(void **state)
{
	uint8_t *low = calloc(1, LOW_MEM_SIZE);
	struct fake_mem lf = { low, 0, LOW_MEM_SIZE };
	struct acpi_mem lm = { fake_map, &lf };

	(void)state;
	assert_non_null(low);
	assert_int_equal(acpi_find_rsdp(&lm), 0);
	/* A bad-checksum candidate first, then the real one. */
	rsdp_build(2, 0x1000, 0x2000);
	memcpy(low + 0xe0000, rsdp, sizeof(rsdp));
	low[0xe0000 + 8] ^= 1;
	memcpy(low + 0xf5a40, rsdp, sizeof(rsdp));
	assert_int_equal(acpi_find_rsdp(&lm), 0xf5a40);
	/* The EBDA (segment at 0x40e) is searched first. */
	put16(low + 0x40e, 0x9fc0);
	memcpy(low + 0x9fc00 + 0x30, rsdp, sizeof(rsdp));
	assert_int_equal(acpi_find_rsdp(&lm), 0x9fc30);
	free(low);
}

/* Random corruptions: whatever the result, no crash and no wild read. */
static void test_random_corruption(void **state)
{
	struct xoroshiro128pp rng;
	unsigned ok = 0, bad = 0;

	(void)state;
	test_rng_init(&rng, 12345);
	for (int round = 0; round < 20000; round++) {
		uint64_t tables[] = { RSDT_PA, XSDT_PA, MADT_PA };
		uint64_t pa = tables[xoro_below(&rng, 3)];
		uint8_t *t;
		uint32_t len;
		int flips = 1 + (int)xoro_below(&rng, 4), err;

		build_machine(xoro_below(&rng, 2) ? 2 : 0);
		t = at(pa);
		memcpy(&len, t + 4, 4);
		for (int i = 0; i < flips; i++)
			t[xoro_below(&rng, len + 8)] ^=
				(uint8_t)(1u << xoro_below(&rng, 8));
		/* Usually repair the checksum so the deeper checks run. */
		memcpy(&len, t + 4, 4);
		if (xoro_below(&rng, 4) && len >= HDR && len <= 4096)
			sdt_fix(t);
		err = acpi_parse(rsdp, sizeof(rsdp), &mem, &info);
		if (err == 0) {
			assert_true(info.ncpus >= 1 && info.ncpus <= MAX_CORES);
			ok++;
		} else {
			assert_non_null(info.error);
			bad++;
		}
	}
	/* Both outcomes are exercised. */
	assert_true(ok > 100);
	assert_true(bad > 100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_xsdt),
		cmocka_unit_test(test_valid_rsdt_acpi1),
		cmocka_unit_test(test_bad_xsdt_falls_back_to_rsdt),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_bad_rsdp),
		cmocka_unit_test(test_bad_madt_checksum),
		cmocka_unit_test(test_absurd_madt_length),
		cmocka_unit_test(test_madt_past_memory),
		cmocka_unit_test(test_xsdt_entry_into_nowhere),
		cmocka_unit_test(test_truncated_entries),
		cmocka_unit_test(test_madt_direct),
		cmocka_unit_test(test_no_processor),
		cmocka_unit_test(test_x2apic_ids_beyond_xapic),
		cmocka_unit_test(test_too_many_cpus),
		cmocka_unit_test(test_find_rsdp_scan),
		cmocka_unit_test(test_random_corruption),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
