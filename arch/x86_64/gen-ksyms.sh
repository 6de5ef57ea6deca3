#!/bin/sh
# gen-ksyms.sh - turn a linked kernel's text symbols into the .ksyms table.
#
# Usage: gen-ksyms.sh KERNEL.elf > ksyms.S   (assembled by gcc, linked last)
# Layout (arch/x86_64/ksyms.h): u64 count; count x {u64 addr, u32 name
# offset, u32 size} sorted by address; then the names, NUL-terminated.
# `nm -S` prints "addr size type name", or "addr type name" when the
# symbol has no size; only text symbols (t/T/W) are kept.
set -eu
NM=${NM:-nm}
"$NM" -n -S --defined-only "$1" | awk '
	BEGIN { n = 0 }
	NF == 4 { addr = $1; size = $2; type = $3; name = $4 }
	NF == 3 { addr = $1; size = "0"; type = $2; name = $3 }
	NF < 3 || NF > 4 { next }
	type !~ /^[tTwW]$/ { next }
	name ~ /"/ { next }
	{ a[n] = addr; s[n] = size; nm[n] = name; n++ }
	END {
		print "\t.section .ksyms,\"a\",@progbits"
		print "\t.balign 8"
		printf "\t.quad %d\n", n
		for (i = 0; i < n; i++)
			printf "\t.quad 0x%s\n\t.long .Lname%d - .Lnames\n\t.long 0x%s\n", a[i], i, s[i]
		print ".Lnames:"
		for (i = 0; i < n; i++)
			printf ".Lname%d:\t.asciz \"%s\"\n", i, nm[i]
	}'
