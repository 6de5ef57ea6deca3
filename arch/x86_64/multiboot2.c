/*
 * multiboot2.c - validate and index the multiboot2 information block.
 *
 * One pass over the tags: each must have a size of at least its header,
 * lie entirely inside total_size, and the list must end with an end tag
 * (type 0, size 8) at or before total_size; tags start 8-aligned.  Known
 * tags are checked for their own consistency (strings terminated inside
 * the tag, memory-map entry size, RSDP signature and checksums).  Fields
 * are read with memcpy so any alignment is fine under UBSan.  Pure C, no
 * allocation: the result points into the block, which the caller keeps.
 */
#include <stdint.h>

#include "arch/x86_64/multiboot2.h"
#include "errno.h"
#include "lib/string.h"
#include "panic.h"

#define RSDP_SIGNATURE		"RSD PTR "
#define RSDP_SIGNATURE_LEN	8
#define RSDP_LENGTH_OFFSET	20	/* XSDP: u32 length of the structure */
#define MEMINFO_TAG_SIZE	16
#define MEMINFO_LOWER_OFF	8	/* u32 KiB below 1 MiB */
#define MEMINFO_UPPER_OFF	12	/* u32 KiB above 1 MiB */
#define MMAP_ENTRY_SIZE_OFF	8	/* u32, then u32 entry_version */
#define TAG_SIZE_OFF		4	/* u32 type at 0, u32 size at 4 */

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static int fail(struct mb2_info *out, const char *why, size_t off, uint32_t tag)
{
	out->error = why;
	out->error_offset = off;
	out->error_tag = tag;
	return -EINVAL;
}

static uint8_t sum_bytes(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

/* A string tag: the value must be NUL-terminated inside the tag. */
static const char *tag_string(const uint8_t *tag, uint32_t size)
{
	const char *s = (const char *)(tag + MB2_TAG_HEADER_SIZE);
	size_t max = size - MB2_TAG_HEADER_SIZE;

	return strnlen(s, max) < max ? s : NULL;
}

static int parse_rsdp(struct mb2_info *out, const uint8_t *tag, uint32_t size,
		      uint32_t type, size_t off)
{
	const uint8_t *r = tag + MB2_TAG_HEADER_SIZE;
	uint32_t avail = size - MB2_TAG_HEADER_SIZE;
	uint32_t len = MB2_RSDP_V1_SIZE;

	if (avail < (type == MB2_TAG_ACPI_NEW ? MB2_RSDP_V2_SIZE : MB2_RSDP_V1_SIZE))
		return fail(out, "ACPI RSDP tag too small", off, type);
	if (memcmp(r, RSDP_SIGNATURE, RSDP_SIGNATURE_LEN) != 0)
		return fail(out, "ACPI RSDP without \"RSD PTR \" signature", off, type);
	if (sum_bytes(r, MB2_RSDP_V1_SIZE) != 0)
		return fail(out, "ACPI RSDP checksum mismatch", off, type);
	if (type == MB2_TAG_ACPI_NEW) {
		len = rd32(r + RSDP_LENGTH_OFFSET);
		if (len < MB2_RSDP_V2_SIZE || len > avail)
			return fail(out, "ACPI XSDP length out of range", off, type);
		if (sum_bytes(r, len) != 0)
			return fail(out, "ACPI XSDP extended checksum mismatch", off, type);
	}
	/* The new (ACPI 2.0+) tag wins over the old one, in any order. */
	if (type == MB2_TAG_ACPI_NEW || out->rsdp_revision < 2) {
		out->rsdp = r;
		out->rsdp_size = len;
		out->rsdp_revision = type == MB2_TAG_ACPI_NEW ? 2 : 0;
	}
	return 0;
}

static int parse_tag(struct mb2_info *out, const uint8_t *tag, uint32_t type,
		     uint32_t size, size_t off)
{
	const char *s;

	switch (type) {
	case MB2_TAG_CMDLINE:
	case MB2_TAG_LOADER_NAME:
		s = tag_string(tag, size);
		if (!s)
			return fail(out, "string not terminated inside its tag", off, type);
		if (type == MB2_TAG_CMDLINE)
			out->cmdline = s;
		else
			out->loader_name = s;
		return 0;
	case MB2_TAG_BASIC_MEMINFO:
		if (size < MEMINFO_TAG_SIZE)
			return fail(out, "basic meminfo tag too small", off, type);
		out->has_meminfo = true;
		out->mem_lower_kib = rd32(tag + MEMINFO_LOWER_OFF);
		out->mem_upper_kib = rd32(tag + MEMINFO_UPPER_OFF);
		return 0;
	case MB2_TAG_MMAP: {
		uint32_t esize;

		if (size < MB2_MMAP_HEADER_SIZE)
			return fail(out, "memory map tag too small", off, type);
		esize = rd32(tag + MMAP_ENTRY_SIZE_OFF);
		if (esize < MB2_MMAP_ENTRY_MIN || esize % MB2_TAG_ALIGN != 0)
			return fail(out, "memory map entry size invalid", off, type);
		if ((size - MB2_MMAP_HEADER_SIZE) % esize != 0)
			return fail(out, "memory map tag size is not a whole number of entries",
				    off, type);
		out->mmap = tag + MB2_MMAP_HEADER_SIZE;
		out->mmap_entry_size = esize;
		out->mmap_count = (size - MB2_MMAP_HEADER_SIZE) / esize;
		return 0;
	}
	case MB2_TAG_ACPI_OLD:
	case MB2_TAG_ACPI_NEW:
		return parse_rsdp(out, tag, size, type, off);
	default:
		return 0;	/* framebuffer, ELF sections, ...: not used */
	}
}

int mb2_parse(const void *info, size_t avail, struct mb2_info *out)
{
	const uint8_t *base = info;
	uint32_t total;
	size_t off;

	*out = (struct mb2_info){ .base = base, .cmdline = "" };
	if (!info || ((uintptr_t)info & (MB2_TAG_ALIGN - 1)))
		return fail(out, "info block missing or not 8-byte aligned", 0, 0);
	if (avail < MB2_INFO_HEADER_SIZE)
		return fail(out, "truncated: no room for the header", 0, 0);
	total = rd32(base);
	out->total_size = total;
	if (total < MB2_INFO_HEADER_SIZE + MB2_TAG_HEADER_SIZE)
		return fail(out, "total_size too small for header and end tag", 0, 0);
	if (total > avail)
		return fail(out, "truncated: total_size exceeds the readable bytes", 0, 0);

	off = MB2_INFO_HEADER_SIZE;
	while (off + MB2_TAG_HEADER_SIZE <= total) {
		const uint8_t *tag = base + off;
		uint32_t type = rd32(tag), size = rd32(tag + TAG_SIZE_OFF);
		int err;

		if (size < MB2_TAG_HEADER_SIZE)
			return fail(out, "tag smaller than its header", off, type);
		if (size > total - off)
			return fail(out, "tag overruns the info block", off, type);
		if (type == MB2_TAG_END) {
			if (size != MB2_TAG_HEADER_SIZE)
				return fail(out, "end tag with size other than 8", off, type);
			return 0;
		}
		err = parse_tag(out, tag, type, size, off);
		if (err)
			return err;
		/* The next tag starts 8-aligned; size <= total - off keeps
		 * this from overflowing. */
		off += ((size_t)size + MB2_TAG_ALIGN - 1) & ~(size_t)(MB2_TAG_ALIGN - 1);
	}
	return fail(out, "no end tag before total_size", off, 0);
}

const struct mb2_info *mb2_parse_or_panic(const void *info, struct mb2_info *out)
{
	uint32_t total = 0;

	/* Only read total_size from a pointer mb2_parse() would accept. */
	if (info && !((uintptr_t)info & (MB2_TAG_ALIGN - 1)))
		total = rd32(info);
	if (mb2_parse(info, total < MB2_INFO_MAX ? total : MB2_INFO_MAX, out) != 0)
		panic("mb2_parse: malformed multiboot2 information at %p: %s "
		      "(tag type %u at offset %zu)", info, out->error,
		      (unsigned)out->error_tag, out->error_offset);
	return out;
}

struct mb2_mmap_entry mb2_mmap_get(const struct mb2_info *mb, size_t i)
{
	struct mb2_mmap_entry e;

	memcpy(&e, mb->mmap + i * mb->mmap_entry_size, sizeof(e));
	return e;
}

const char *mb2_mem_type_name(uint32_t type)
{
	switch (type) {
	case MB2_MEM_AVAILABLE:
		return "available";
	case MB2_MEM_RESERVED:
		return "reserved";
	case MB2_MEM_ACPI_RECLAIM:
		return "ACPI reclaimable";
	case MB2_MEM_NVS:
		return "ACPI NVS";
	case MB2_MEM_BAD:
		return "bad";
	default:
		return "unknown type";
	}
}

int cmdline_get(const char *cmdline, const char *key, char *buf, size_t n)
{
	size_t klen = strlen(key);
	const char *p = cmdline;

	while (p && *p) {
		const char *word, *end;

		while (*p == ' ')
			p++;
		word = p;
		while (*p && *p != ' ')
			p++;
		end = p;
		if ((size_t)(end - word) >= klen && strncmp(word, key, klen) == 0 &&
		    (word + klen == end || word[klen] == '=')) {
			const char *v = word + klen + (word + klen < end);
			size_t vlen = (size_t)(end - v);
			size_t copy = vlen < n ? vlen : n - 1;

			memcpy(buf, v, copy);
			buf[copy] = '\0';
			return vlen < n ? (int)vlen : -ENAMETOOLONG;
		}
	}
	return -ENOENT;
}

bool cmdline_has(const char *cmdline, const char *key)
{
	char v[2];
	int n = cmdline_get(cmdline, key, v, sizeof(v));

	return n >= 0 || n == -ENAMETOOLONG;
}
