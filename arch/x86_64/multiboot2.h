/*
 * multiboot2.h - the boot information GRUB hands the kernel.
 *
 * mb2_parse() validates the whole block before anything uses it and
 * records where the interesting tags are: the command line, the loader
 * name, the memory map and the ACPI RSDP (old tag: ACPI 1.0 RSDP; new tag:
 * ACPI 2.0+ XSDP, preferred).  It is pure C with no hardware access, so
 * the host tests (tests/arch/x86_64/test_multiboot2.c) feed it valid, truncated
 * and malformed blocks.  Malformed input is an error code with a reason;
 * the kernel turns it into a panic.  Reference: Multiboot2 specification
 * 1.0, section 3.6 (boot information format).
 */
#ifndef HYPHAE_X86_64_MULTIBOOT2_H
#define HYPHAE_X86_64_MULTIBOOT2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "compiler.h"

#define MB2_BOOTLOADER_MAGIC	0x36d76289u

/* Tag types. */
#define MB2_TAG_END		0
#define MB2_TAG_CMDLINE		1
#define MB2_TAG_LOADER_NAME	2
#define MB2_TAG_BASIC_MEMINFO	4
#define MB2_TAG_MMAP		6
#define MB2_TAG_ACPI_OLD	14
#define MB2_TAG_ACPI_NEW	15

/* Memory map entry types. */
#define MB2_MEM_AVAILABLE	1
#define MB2_MEM_RESERVED	2
#define MB2_MEM_ACPI_RECLAIM	3
#define MB2_MEM_NVS		4
#define MB2_MEM_BAD		5

/* Sizes fixed by the specification and ACPI. */
#define MB2_INFO_HEADER_SIZE	8	/* total_size, reserved */
#define MB2_TAG_HEADER_SIZE	8	/* type, size */
#define MB2_TAG_ALIGN		8
#define MB2_MMAP_HEADER_SIZE	16	/* tag header, entry_size, version */
#define MB2_MMAP_ENTRY_MIN	24
#define MB2_RSDP_V1_SIZE	20
#define MB2_RSDP_V2_SIZE	36
/* A sanity bound for the kernel, which cannot know the block's size. */
#define MB2_INFO_MAX		(1024 * 1024)

struct mb2_mmap_entry {
	uint64_t base;
	uint64_t len;
	uint32_t type;
	uint32_t reserved;
};

struct mb2_info {
	const uint8_t *base;		/* the info block */
	uint32_t total_size;
	const char *cmdline;		/* "" when there is no command line */
	const char *loader_name;	/* NULL when absent */
	const uint8_t *mmap;		/* first entry, NULL when absent */
	uint32_t mmap_entry_size;
	size_t mmap_count;
	const uint8_t *rsdp;		/* RSDP copy inside the block, or NULL */
	uint32_t rsdp_size;		/* bytes at rsdp (20 or the XSDP length) */
	unsigned rsdp_revision;		/* 0: ACPI 1.0 (old tag), 2+: new tag */
	bool has_meminfo;
	uint32_t mem_lower_kib, mem_upper_kib;
	/* When mb2_parse() fails: why, and where. */
	const char *error;
	size_t error_offset;
	uint32_t error_tag;
};

/*
 * Validate the info block at `info`, of which `avail` bytes are readable,
 * and fill *out.  Returns 0, or -EINVAL with out->error set when the block
 * is truncated (total_size > avail) or malformed (a tag overruns the
 * block, bad sizes, no end tag, an unterminated string, a bad RSDP
 * signature or checksum).  Pure; any context.
 */
int __must_check mb2_parse(const void *info, size_t avail, struct mb2_info *out);

/*
 * The kernel's entry point to the parser: the block's size is only known
 * from its own total_size field (bounded by MB2_INFO_MAX), and a block
 * that does not parse is a panic naming the reason and the offending tag.
 * Returns out.  Boot core.
 */
const struct mb2_info *mb2_parse_or_panic(const void *info, struct mb2_info *out);

/* Entry i (< mmap_count) of the memory map, copied out (no alignment needs). */
struct mb2_mmap_entry mb2_mmap_get(const struct mb2_info *mb, size_t i);

/* "available", "reserved", "ACPI reclaimable", "ACPI NVS", "bad", else
 * "unknown type".  Pure. */
const char *mb2_mem_type_name(uint32_t type);

/*
 * Find `key=value` among the space-separated words of a command line and
 * copy value into buf (NUL-terminated, size n > 0).  A bare `key` yields
 * "".  Returns the value's length, -ENOENT when absent, -ENAMETOOLONG when
 * it did not fit (buf then holds a truncated copy).  Pure.
 */
int __must_check cmdline_get(const char *cmdline, const char *key,
			     char *buf, size_t n);

/* True if `key` (bare or `key=...`) is among the command line's words.
 * Pure. */
bool cmdline_has(const char *cmdline, const char *key);

#endif /* HYPHAE_X86_64_MULTIBOOT2_H */
