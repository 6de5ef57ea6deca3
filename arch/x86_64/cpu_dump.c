/*
 * cpu_dump.c - the processor's state in words, for the shell's
 * `dump arch cpuid|msr|cr`: CPUID leaves, the MSRs every x86_64 processor
 * hyphae runs on has, and the control registers with their bits named.
 * Reference: Intel SDM vol. 2 (CPUID, RDMSR), vol. 3 chapter 2 (control
 * registers) and vol. 4 (MSRs).
 */
#include <stdint.h>

#include "arch/x86_64/cpu.h"
#include "arch/x86_64/x86.h"
#include "compiler.h"
#include "errno.h"
#include "lib/fmt.h"
#include "lib/string.h"

#define CPUID_VENDOR_LEN	12

void cpu_dump_cpuid(const struct fmt_out *out, uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r = cpuid(leaf, sub);

	fmt_printf(out, "cpuid 0x%x.%u: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
		   leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
	if (leaf == 0) {
		char vendor[CPUID_VENDOR_LEN + 1];

		memcpy(vendor, &r.ebx, 4);
		memcpy(vendor + 4, &r.edx, 4);
		memcpy(vendor + 8, &r.ecx, 4);
		vendor[CPUID_VENDOR_LEN] = '\0';
		fmt_printf(out, "  max leaf 0x%x, vendor \"%s\"\n", r.eax, vendor);
	}
}

/* MSRs every x86_64 CPU hyphae runs on has: reading another may #GP. */
static const struct {
	uint32_t num;
	const char *name;
} known_msrs[] = {
	{ MSR_TSC, "IA32_TIME_STAMP_COUNTER" },
	{ MSR_APIC_BASE, "IA32_APIC_BASE" },
	{ MSR_MTRRCAP, "IA32_MTRRCAP" },
	{ MSR_SYSENTER_CS, "IA32_SYSENTER_CS" },
	{ MSR_SYSENTER_ESP, "IA32_SYSENTER_ESP" },
	{ MSR_SYSENTER_EIP, "IA32_SYSENTER_EIP" },
	{ MSR_PAT, "IA32_PAT" },
	{ MSR_MTRR_DEF_TYPE, "IA32_MTRR_DEF_TYPE" },
	{ MSR_EFER, "IA32_EFER" },
	{ MSR_STAR, "IA32_STAR" },
	{ MSR_LSTAR, "IA32_LSTAR" },
	{ MSR_FMASK, "IA32_FMASK" },
	{ MSR_FS_BASE, "IA32_FS_BASE" },
	{ MSR_GS_BASE, "IA32_GS_BASE" },
	{ MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE" },
};

int cpu_dump_msr(const struct fmt_out *out, uint32_t num)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++) {
		if (known_msrs[i].num != num)
			continue;
		fmt_printf(out, "msr 0x%x %s = 0x%016llx\n", num, known_msrs[i].name,
			   (unsigned long long)rdmsr(num));
		return 0;
	}
	fmt_printf(out, "error: dump arch msr: 0x%x is not in the list of MSRs every "
		   "CPU has (reading an absent one faults); known:\n", num);
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++)
		fmt_printf(out, "  0x%08x %s\n", known_msrs[i].num, known_msrs[i].name);
	return -EINVAL;
}

static void print_flags(const struct fmt_out *out, uint64_t v,
			const char *const names[], unsigned n)
{
	for (unsigned b = 0; b < n; b++)
		if (names[b] && (v & (1ull << b)))
			fmt_printf(out, " %s", names[b]);
	fmt_printf(out, "\n");
}

void cpu_dump_cr(const struct fmt_out *out)
{
	static const char *const cr0_bits[32] = {
		[0] = "PE", [1] = "MP", [2] = "EM", [3] = "TS", [4] = "ET",
		[5] = "NE", [16] = "WP", [18] = "AM", [29] = "NW", [30] = "CD",
		[31] = "PG",
	};
	static const char *const cr4_bits[24] = {
		[0] = "VME", [1] = "PVI", [2] = "TSD", [3] = "DE", [4] = "PSE",
		[5] = "PAE", [6] = "MCE", [7] = "PGE", [8] = "PCE", [9] = "OSFXSR",
		[10] = "OSXMMEXCPT", [11] = "UMIP", [12] = "LA57", [13] = "VMXE",
		[16] = "FSGSBASE", [17] = "PCIDE", [18] = "OSXSAVE", [20] = "SMEP",
		[21] = "SMAP", [22] = "PKE", [23] = "CET",
	};
	static const char *const efer_bits[12] = {
		[0] = "SCE", [8] = "LME", [10] = "LMA", [11] = "NXE",
	};
	uint64_t cr0 = read_cr0(), cr4 = read_cr4(), efer = rdmsr(MSR_EFER);

	fmt_printf(out, "cr0  = 0x%016llx", (unsigned long long)cr0);
	print_flags(out, cr0, cr0_bits, ARRAY_SIZE(cr0_bits));
	fmt_printf(out, "cr2  = 0x%016llx (last page-fault address)\n",
		   (unsigned long long)read_cr2());
	fmt_printf(out, "cr3  = 0x%016llx (page tables)\n",
		   (unsigned long long)read_cr3());
	fmt_printf(out, "cr4  = 0x%016llx", (unsigned long long)cr4);
	print_flags(out, cr4, cr4_bits, ARRAY_SIZE(cr4_bits));
	fmt_printf(out, "efer = 0x%016llx", (unsigned long long)efer);
	print_flags(out, efer, efer_bits, ARRAY_SIZE(efer_bits));
}
