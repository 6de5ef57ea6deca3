/*
 * x86.h - thin wrappers around x86_64 instructions, for arch/x86_64 only.
 *
 * Port I/O, MSRs, control registers, CPUID, the TSC and HLT.  Every
 * wrapper is one instruction; the ones that order memory say so with a
 * "memory" clobber.  Reference: Intel SDM vol. 2 (instruction set) and
 * vol. 3 chapter 2 (control registers, MSRs).
 */
#ifndef HYPHAE_X86_64_X86_H
#define HYPHAE_X86_64_X86_H

#include <stdbool.h>
#include <stdint.h>

#include "compiler.h"

/* ---- MSRs ---------------------------------------------------------------- */
#define MSR_TSC			0x10u
#define MSR_APIC_BASE		0x1bu
#define   APIC_BASE_BSP		  (1ull << 8)
#define   APIC_BASE_X2APIC	  (1ull << 10)
#define   APIC_BASE_ENABLE	  (1ull << 11)
#define   APIC_BASE_ADDR_MASK	  0x000ffffffffff000ull
#define MSR_MTRRCAP		0xfeu
#define MSR_SYSENTER_CS		0x174u
#define MSR_SYSENTER_ESP	0x175u
#define MSR_SYSENTER_EIP	0x176u
#define MSR_PAT			0x277u
#define MSR_MTRR_DEF_TYPE	0x2ffu
#define MSR_TSC_DEADLINE	0x6e0u
#define MSR_X2APIC_BASE		0x800u	/* x2APIC register off: 0x800 + off >> 4 */
#define MSR_STAR		0xc0000081u
#define MSR_LSTAR		0xc0000082u
#define MSR_FMASK		0xc0000084u
#define MSR_EFER		0xc0000080u
#define   EFER_LME		(1u << 8)	/* long mode enable */
#define   EFER_NXE		(1u << 11)	/* no-execute bit in page tables */
#define MSR_FS_BASE		0xc0000100u
#define MSR_GS_BASE		0xc0000101u
#define MSR_KERNEL_GS_BASE	0xc0000102u

/* ---- control registers ---------------------------------------------------- */
#define CR0_WP			(1ul << 16)	/* supervisor writes honour R/O */
#define CR0_PG			(1ul << 31)
#define CR4_PAE			(1ul << 5)
#define CR4_PGE			(1ul << 7)	/* global pages */

/* ---- RFLAGS --------------------------------------------------------------- */
#define RFLAGS_IF		(1ul << 9)	/* interrupts enabled */
#define RFLAGS_ID		(1ul << 21)

/* ---- CPUID bits ----------------------------------------------------------- */
#define CPUID_1_ECX_X2APIC	(1u << 21)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)
#define CPUID_1_ECX_RDRAND	(1u << 30)
#define CPUID_1_EDX_TSC		(1u << 4)
#define CPUID_80000001_EDX_NX	(1u << 20)
#define CPUID_80000001_EDX_PDPE1GB (1u << 26)
#define CPUID_80000007_EDX_INVTSC (1u << 8)

struct cpuid_regs {
	uint32_t eax, ebx, ecx, edx;
};

static __always_inline struct cpuid_regs cpuid(uint32_t leaf, uint32_t sub)
{
	struct cpuid_regs r;

	__asm__ volatile("cpuid"
			 : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx)
			 : "a"(leaf), "c"(sub));
	return r;
}

static __always_inline uint32_t cpuid_max_ext(void)
{
	return cpuid(0x80000000u, 0).eax;
}

static __always_inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static __always_inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port) : "memory");
	return v;
}

static __always_inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port) : "memory");
}

static __always_inline uint64_t rdmsr(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static __always_inline void wrmsr(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr"
			 : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static __always_inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* RDRAND: true and *out set when the hardware delivered a value. */
static __always_inline bool rdrand64(uint64_t *out)
{
	unsigned char ok;

	__asm__ volatile("rdrand %0; setc %1" : "=r"(*out), "=qm"(ok) : : "cc");
	return ok;
}

#define DEFINE_CR(n)							\
static __always_inline uint64_t read_cr##n(void)			\
{									\
	uint64_t v;							\
	__asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));		\
	return v;							\
}									\
static __always_inline void write_cr##n(uint64_t v)			\
{									\
	__asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory");	\
}
DEFINE_CR(0)
DEFINE_CR(2)
DEFINE_CR(3)
DEFINE_CR(4)
#undef DEFINE_CR

static __always_inline void invlpg(uintptr_t va)
{
	__asm__ volatile("invlpg (%0)" : : "r"(va) : "memory");
}

static __always_inline uint64_t read_rflags(void)
{
	uint64_t f;

	__asm__ volatile("pushfq; popq %0" : "=r"(f) : : "memory");
	return f;
}

static __always_inline void cli(void)
{
	__asm__ volatile("cli" : : : "memory");
}

static __always_inline void sti(void)
{
	__asm__ volatile("sti" : : : "memory");
}

static __always_inline uint64_t read_rbp(void)
{
	uint64_t v;

	__asm__ volatile("mov %%rbp, %0" : "=r"(v));
	return v;
}

/* Stop this core for good: interrupts off, HLT forever (NMIs return here). */
static __always_inline _Noreturn void halt_forever(void)
{
	for (;;)
		__asm__ volatile("cli; hlt" : : : "memory");
}

#endif /* HYPHAE_X86_64_X86_H */
