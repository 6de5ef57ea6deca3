/*
 * test_multiboot2.c - the multiboot2 parser on valid, truncated and
 * malformed information blocks.
 *
 * A small builder lays out tags the way GRUB does (8-aligned, end tag
 * last) in an aligned buffer; each test then parses it whole, cut short,
 * or with one field broken, and checks the result or the error.  Random
 * corruptions of a valid block run under ASan, which would catch any read
 * outside the block.  Also cmdline_get().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86_64/multiboot2.h"
#include "errno.h"
#include "tests/support/rng.h"

#define BUF_SIZE	4096

struct builder {
	_Alignas(8) uint8_t buf[BUF_SIZE];
	size_t len;
};

static void put32(struct builder *b, size_t off, uint32_t v)
{
	memcpy(b->buf + off, &v, sizeof(v));
}

static void b_init(struct builder *b)
{
	memset(b->buf, 0, sizeof(b->buf));
	b->len = MB2_INFO_HEADER_SIZE;
}

/* Append a tag with `n` bytes of payload; returns its offset. */
static size_t b_tag(struct builder *b, uint32_t type, const void *payload, size_t n)
{
	size_t off = b->len;

	put32(b, off, type);
	put32(b, off + 4, (uint32_t)(MB2_TAG_HEADER_SIZE + n));
	if (n)
		memcpy(b->buf + off + MB2_TAG_HEADER_SIZE, payload, n);
	b->len = (off + MB2_TAG_HEADER_SIZE + n + 7) & ~(size_t)7;
	return off;
}

static void b_finish(struct builder *b)
{
	b_tag(b, MB2_TAG_END, NULL, 0);
	put32(b, 0, (uint32_t)b->len);
}

static size_t b_mmap(struct builder *b, uint32_t esize,
		     const struct mb2_mmap_entry *e, size_t n)
{
	uint8_t payload[8 + 8 * 64];
	size_t off = 8;

	memset(payload, 0xee, sizeof(payload));
	memcpy(payload, &esize, 4);
	memset(payload + 4, 0, 4);	/* entry_version */
	for (size_t i = 0; i < n; i++, off += esize)
		memcpy(payload + off, &e[i], sizeof(e[i]));
	return b_tag(b, MB2_TAG_MMAP, payload, off);
}

static void fix_checksum(uint8_t *p, size_t n, size_t at)
{
	uint8_t s = 0;

	p[at] = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	p[at] = (uint8_t)-s;
}

/* An ACPI 1.0 RSDP (20 bytes) or a 2.0 XSDP (36 bytes). */
static void make_rsdp(uint8_t *r, int v2, uint8_t oem_tag)
{
	uint32_t len = MB2_RSDP_V2_SIZE;

	memset(r, 0, MB2_RSDP_V2_SIZE);
	memcpy(r, "RSD PTR ", 8);
	r[9] = oem_tag;			/* OEM id, to tell copies apart */
	r[15] = v2 ? 2 : 0;		/* revision */
	fix_checksum(r, MB2_RSDP_V1_SIZE, 8);
	if (v2) {
		memcpy(r + 20, &len, 4);
		fix_checksum(r, MB2_RSDP_V2_SIZE, 32);
	}
}

static const struct mb2_mmap_entry test_map[] = {
	{ 0x0, 0x9fc00, MB2_MEM_AVAILABLE, 0 },
	{ 0x9fc00, 0x400, MB2_MEM_RESERVED, 0 },
	{ 0x100000, 0x7ee0000, MB2_MEM_AVAILABLE, 0 },
	{ 0xfffc0000, 0x40000, MB2_MEM_RESERVED, 0 },
};

/* A block like QEMU+GRUB's: cmdline, loader, meminfo, mmap, both RSDPs. */
static void build_valid(struct builder *b, int new_first)
{
	static const char cmd[] = "ktest=heap log=debug";
	static const char loader[] = "GRUB 2.06";
	uint32_t meminfo[2] = { 639, 130048 };
	uint8_t old[MB2_RSDP_V2_SIZE], new[MB2_RSDP_V2_SIZE];

	make_rsdp(old, 0, 'O');
	make_rsdp(new, 1, 'N');
	b_init(b);
	b_tag(b, MB2_TAG_CMDLINE, cmd, sizeof(cmd));
	b_tag(b, MB2_TAG_LOADER_NAME, loader, sizeof(loader));
	b_tag(b, MB2_TAG_BASIC_MEMINFO, meminfo, sizeof(meminfo));
	b_mmap(b, sizeof(struct mb2_mmap_entry), test_map, 4);
	if (new_first) {
		b_tag(b, MB2_TAG_ACPI_NEW, new, MB2_RSDP_V2_SIZE);
		b_tag(b, MB2_TAG_ACPI_OLD, old, MB2_RSDP_V1_SIZE);
	} else {
		b_tag(b, MB2_TAG_ACPI_OLD, old, MB2_RSDP_V1_SIZE);
		b_tag(b, MB2_TAG_ACPI_NEW, new, MB2_RSDP_V2_SIZE);
	}
	b_tag(b, 8 /* framebuffer: ignored */, "\1\2\3\4\5\6\7", 7);
	b_finish(b);
}

static void test_valid_full(void **state)
{
	struct builder b;
	struct mb2_info mb;
	(void)state;

	for (int new_first = 0; new_first < 2; new_first++) {
		build_valid(&b, new_first);
		assert_int_equal(mb2_parse(b.buf, b.len, &mb), 0);
		assert_null(mb.error);
		assert_int_equal(mb.total_size, b.len);
		assert_string_equal(mb.cmdline, "ktest=heap log=debug");
		assert_string_equal(mb.loader_name, "GRUB 2.06");
		assert_true(mb.has_meminfo);
		assert_int_equal(mb.mem_lower_kib, 639);
		assert_int_equal(mb.mem_upper_kib, 130048);
		assert_int_equal(mb.mmap_count, 4);
		for (size_t i = 0; i < 4; i++) {
			struct mb2_mmap_entry e = mb2_mmap_get(&mb, i);

			assert_int_equal(e.base, test_map[i].base);
			assert_int_equal(e.len, test_map[i].len);
			assert_int_equal(e.type, test_map[i].type);
		}
		/* The ACPI 2.0 tag wins whatever the order. */
		assert_non_null(mb.rsdp);
		assert_int_equal(mb.rsdp_revision, 2);
		assert_int_equal(mb.rsdp_size, MB2_RSDP_V2_SIZE);
		assert_int_equal(mb.rsdp[9], 'N');
		assert_true(mb.rsdp >= b.buf && mb.rsdp + mb.rsdp_size <= b.buf + b.len);
	}
}

static void test_valid_minimal(void **state)
{
	struct builder b;
	struct mb2_info mb;
	(void)state;

	b_init(&b);
	b_finish(&b);
	assert_int_equal(b.len, 16);
	assert_int_equal(mb2_parse(b.buf, b.len, &mb), 0);
	assert_string_equal(mb.cmdline, "");
	assert_null(mb.loader_name);
	assert_null(mb.mmap);
	assert_int_equal(mb.mmap_count, 0);
	assert_null(mb.rsdp);
	assert_false(mb.has_meminfo);
}

static void test_valid_old_rsdp_only_and_wide_entries(void **state)
{
	struct builder b;
	struct mb2_info mb;
	uint8_t old[MB2_RSDP_V2_SIZE];
	(void)state;

	make_rsdp(old, 0, 'O');
	b_init(&b);
	/* 32-byte entries (a future version): fields still read right. */
	b_mmap(&b, 32, test_map, 4);
	b_tag(&b, MB2_TAG_ACPI_OLD, old, MB2_RSDP_V1_SIZE);
	b_finish(&b);
	assert_int_equal(mb2_parse(b.buf, b.len, &mb), 0);
	assert_int_equal(mb.mmap_entry_size, 32);
	assert_int_equal(mb.mmap_count, 4);
	assert_int_equal(mb2_mmap_get(&mb, 2).base, 0x100000);
	assert_int_equal(mb2_mmap_get(&mb, 3).type, MB2_MEM_RESERVED);
	assert_int_equal(mb.rsdp_revision, 0);
	assert_int_equal(mb.rsdp_size, MB2_RSDP_V1_SIZE);
	assert_int_equal(mb.rsdp[9], 'O');
}

static void test_truncated(void **state)
{
	struct builder b;
	struct mb2_info mb;
	(void)state;

	build_valid(&b, 0);
	/* Every cut of the block is rejected, never read past. */
	for (size_t avail = 0; avail < b.len; avail++) {
		uint8_t *copy = malloc(avail ? avail : 1);

		/* malloc's 16-byte alignment satisfies the 8-byte rule. */
		memcpy(copy, b.buf, avail);
		assert_int_equal(mb2_parse(copy, avail, &mb), -EINVAL);
		assert_non_null(mb.error);
		assert_non_null(strstr(mb.error, "truncated"));
		free(copy);
	}
	assert_int_equal(mb2_parse(b.buf, b.len, &mb), 0);
}

/* Build a valid block, break it with `mutate`, expect the error text. */
static void expect_malformed(void (*mutate)(struct builder *b, size_t *tag),
			     const char *why)
{
	struct builder b;
	struct mb2_info mb;
	size_t tag = 0;

	mutate(&b, &tag);
	assert_int_equal(mb2_parse(b.buf, b.len, &mb), -EINVAL);
	assert_non_null(mb.error);
	if (!strstr(mb.error, why))
		fail_msg("error \"%s\" does not mention \"%s\"", mb.error, why);
	assert_int_equal(mb.error_offset, tag);
}

static void m_tag_too_small(struct builder *b, size_t *tag)
{
	build_valid(b, 0);
	*tag = 8;
	put32(b, 12, 4);
}

static void m_tag_overrun(struct builder *b, size_t *tag)
{
	build_valid(b, 0);
	*tag = 8;
	put32(b, 12, (uint32_t)b->len);
}

static void m_no_end_tag(struct builder *b, size_t *tag)
{
	b_init(b);
	b_tag(b, MB2_TAG_CMDLINE, "x", 2);
	put32(b, 0, (uint32_t)b->len);
	*tag = b->len;
}

static void m_end_size(struct builder *b, size_t *tag)
{
	b_init(b);
	*tag = b_tag(b, MB2_TAG_END, "12345678", 8);
	put32(b, 0, (uint32_t)b->len);
}

static void m_cmdline_unterminated(struct builder *b, size_t *tag)
{
	b_init(b);
	*tag = b_tag(b, MB2_TAG_CMDLINE, "abcdefgh", 8);
	b_finish(b);
}

static void m_mmap_entry_size(struct builder *b, size_t *tag)
{
	b_init(b);
	*tag = b_mmap(b, 20, test_map, 2);
	b_finish(b);
}

static void m_mmap_partial_entry(struct builder *b, size_t *tag)
{
	b_init(b);
	*tag = b_mmap(b, 24, test_map, 2);
	put32(b, *tag + 4, 16 + 24 + 8);	/* 1 entry and a third */
	b_finish(b);
}

static void m_rsdp_signature(struct builder *b, size_t *tag)
{
	uint8_t r[MB2_RSDP_V2_SIZE];

	make_rsdp(r, 0, 'O');
	r[0] = 'X';
	b_init(b);
	*tag = b_tag(b, MB2_TAG_ACPI_OLD, r, MB2_RSDP_V1_SIZE);
	b_finish(b);
}

static void m_rsdp_checksum(struct builder *b, size_t *tag)
{
	uint8_t r[MB2_RSDP_V2_SIZE];

	make_rsdp(r, 0, 'O');
	r[10] ^= 1;
	b_init(b);
	*tag = b_tag(b, MB2_TAG_ACPI_OLD, r, MB2_RSDP_V1_SIZE);
	b_finish(b);
}

static void m_xsdp_checksum(struct builder *b, size_t *tag)
{
	uint8_t r[MB2_RSDP_V2_SIZE];

	make_rsdp(r, 1, 'N');
	r[30] ^= 1;		/* outside the v1 part: only the extended sum */
	b_init(b);
	*tag = b_tag(b, MB2_TAG_ACPI_NEW, r, MB2_RSDP_V2_SIZE);
	b_finish(b);
}

static void m_xsdp_length(struct builder *b, size_t *tag)
{
	uint8_t r[MB2_RSDP_V2_SIZE];
	uint32_t len = 4096;

	make_rsdp(r, 1, 'N');
	memcpy(r + 20, &len, 4);
	fix_checksum(r, MB2_RSDP_V1_SIZE, 8);
	b_init(b);
	*tag = b_tag(b, MB2_TAG_ACPI_NEW, r, MB2_RSDP_V2_SIZE);
	b_finish(b);
}

static void m_xsdp_small_tag(struct builder *b, size_t *tag)
{
	uint8_t r[MB2_RSDP_V2_SIZE];

	make_rsdp(r, 1, 'N');
	b_init(b);
	*tag = b_tag(b, MB2_TAG_ACPI_NEW, r, MB2_RSDP_V1_SIZE);
	b_finish(b);
}

static void m_total_too_small(struct builder *b, size_t *tag)
{
	b_init(b);
	b_finish(b);
	put32(b, 0, 12);
	*tag = 0;
}

static void test_malformed(void **state)
{
	(void)state;
	expect_malformed(m_tag_too_small, "smaller than its header");
	expect_malformed(m_tag_overrun, "overruns");
	expect_malformed(m_no_end_tag, "no end tag");
	expect_malformed(m_end_size, "end tag");
	expect_malformed(m_cmdline_unterminated, "not terminated");
	expect_malformed(m_mmap_entry_size, "entry size");
	expect_malformed(m_mmap_partial_entry, "whole number");
	expect_malformed(m_rsdp_signature, "signature");
	expect_malformed(m_rsdp_checksum, "checksum");
	expect_malformed(m_xsdp_checksum, "extended checksum");
	expect_malformed(m_xsdp_length, "length");
	expect_malformed(m_xsdp_small_tag, "too small");
	expect_malformed(m_total_too_small, "too small");
}

static void test_misaligned_and_null(void **state)
{
	struct builder b;
	struct mb2_info mb;
	(void)state;

	build_valid(&b, 0);
	memmove(b.buf + 4, b.buf, b.len);
	assert_int_equal(mb2_parse(b.buf + 4, b.len, &mb), -EINVAL);
	assert_non_null(strstr(mb.error, "aligned"));
	assert_int_equal(mb2_parse(NULL, 64, &mb), -EINVAL);
}

/* Random corruption: parse must answer 0 or -EINVAL, reading only inside. */
static void test_random_corruption(void **state)
{
	struct builder b;
	struct xoroshiro128pp rng;
	int ok = 0, bad = 0;
	(void)state;

	test_rng_init(&rng, 0x9e3779b97f4a7c15ull);
	for (int iter = 0; iter < 20000; iter++) {
		struct mb2_info mb;
		uint8_t *copy;
		int flips, r;

		build_valid(&b, iter & 1);
		flips = 1 + (int)xoro_below(&rng, 4);
		for (int f = 0; f < flips; f++)
			b.buf[xoro_below(&rng, b.len)] ^=
				(uint8_t)(1u << xoro_below(&rng, 8));
		/* An exact-size heap copy: ASan flags any read past the end. */
		copy = malloc(b.len);
		memcpy(copy, b.buf, b.len);
		r = mb2_parse(copy, b.len, &mb);
		assert_true(r == 0 || r == -EINVAL);
		if (r == 0) {
			ok++;
			for (size_t i = 0; i < mb.mmap_count; i++)
				(void)mb2_mmap_get(&mb, i);
			assert_true(strlen(mb.cmdline) < b.len);
		} else {
			bad++;
			assert_non_null(mb.error);
		}
		free(copy);
	}
	/* Both outcomes happen: the corruption reaches checked fields. */
	assert_true(ok > 0);
	assert_true(bad > 0);
}

static void test_parse_or_panic(void **state)
{
	struct builder b;
	struct mb2_info mb;
	(void)state;

	build_valid(&b, 0);
	assert_ptr_equal(mb2_parse_or_panic(b.buf, &mb), &mb);
	assert_int_equal(mb.mmap_count, 4);
	put32(&b, 12, 4);	/* first tag smaller than its header */
	expect_assert_failure(mb2_parse_or_panic(b.buf, &mb));
	expect_assert_failure(mb2_parse_or_panic(b.buf + 4, &mb));
	expect_assert_failure(mb2_parse_or_panic(NULL, &mb));
}

static void test_cmdline_get(void **state)
{
	char buf[16];
	(void)state;

	assert_int_equal(cmdline_get("ktest=heap log=debug", "ktest", buf, sizeof(buf)), 4);
	assert_string_equal(buf, "heap");
	assert_int_equal(cmdline_get("  ktest=heap   log=debug ", "log", buf, sizeof(buf)), 5);
	assert_string_equal(buf, "debug");
	assert_int_equal(cmdline_get("quiet ktest", "ktest", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(cmdline_get("ktests=x", "ktest", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cmdline_get("xktest=x", "ktest", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cmdline_get("", "ktest", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(cmdline_get("k=0123456789abcdefXYZ", "k", buf, sizeof(buf)),
			 -ENAMETOOLONG);
	assert_string_equal(buf, "0123456789abcde");
	assert_int_equal(cmdline_get("a= b=2", "a", buf, sizeof(buf)), 0);
	assert_int_equal(cmdline_get("a= b=2", "b", buf, sizeof(buf)), 1);
	assert_string_equal(buf, "2");
}

static void test_mem_type_names(void **state)
{
	(void)state;
	assert_string_equal(mb2_mem_type_name(MB2_MEM_AVAILABLE), "available");
	assert_string_equal(mb2_mem_type_name(MB2_MEM_NVS), "ACPI NVS");
	assert_string_equal(mb2_mem_type_name(99), "unknown type");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_full),
		cmocka_unit_test(test_valid_minimal),
		cmocka_unit_test(test_valid_old_rsdp_only_and_wide_entries),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_misaligned_and_null),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_parse_or_panic),
		cmocka_unit_test(test_cmdline_get),
		cmocka_unit_test(test_mem_type_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
