/*
 * tsc.c - the TSC's frequency, and the kernel clock built on it.
 *
 * The frequency comes from the CPU when it says: CPUID leaf 0x15 (TSC /
 * crystal ratio times the crystal frequency; when the crystal is not
 * enumerated, the base frequency of leaf 0x16 stands in, as Linux does),
 * else the hypervisor's timing leaf 0x40000010 (TSC kHz), checking the
 * maximum leaf before each.  A CPUID value is trusted only if one PIT
 * measurement agrees within CPUID_TRUST_PCT.  Otherwise the TSC is
 * measured against PIT channel 2: its gate is software-controlled (port
 * 0x61 bit 0) and its output readable (bit 5), so no interrupt is needed.
 * A vCPU descheduled during a run makes that run's delta too large, so of
 * CALIBRATE_RUNS runs the median is kept (the outliers on either side
 * are rejected).  The clock's zero is the TSC at the kernel's entry
 * (boot.asm saves it).  now() converts with a 32.32 fixed-point multiplier
 * through a 128-bit product: nanoseconds, tick_ns = 1, no division on the
 * hot path.  Reference: Intel SDM vol. 2 (CPUID leaves 0x15, 0x16),
 * vol. 3 section 18.17 (TSC, invariant TSC); Intel 8254 data sheet (mode
 * 0); Linux arch/x86/kernel/tsc.c (native_calibrate_tsc, pit_calibrate_tsc).
 */
#include <stdbool.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "lib/log.h"
#include "timer/clock.h"

#define PIT_HZ		1193182u
#define PIT_CH2_DATA	0x42
#define PIT_CMD		0x43
#define   PIT_CMD_CH2	  0x80
#define   PIT_CMD_LOHI	  0x30	/* low byte then high byte */
#define   PIT_CMD_MODE0	  0x00	/* interrupt on terminal count */
#define PORT_B		0x61
#define   PORT_B_GATE2	  0x01	/* channel 2 gate */
#define   PORT_B_SPEAKER  0x02	/* speaker data enable: keep off */
#define   PORT_B_OUT2	  0x20	/* channel 2 output (read-only) */

#define CPUID_LEAF_TSC		0x15	/* eax: denominator, ebx: numerator, ecx: crystal Hz */
#define CPUID_LEAF_FREQ		0x16	/* eax[15:0]: base MHz */
#define   FREQ_MHZ_MASK		  0xffffu
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_HV_BASE		0x40000000u	/* eax: max hypervisor leaf */
#define CPUID_HV_TIMING		0x40000010u	/* eax: TSC kHz */
#define CPUID_EXT_POWER		0x80000007u

#define CALIBRATE_MS	10
#define CALIBRATE_RUNS	5	/* odd: the median is one run */
#define CPUID_TRUST_PCT	2	/* CPUID vs PIT disagreement tolerated */
#define PERCENT		100
#define HZ_PER_KHZ	1000u
#define HZ_PER_MHZ	1000000u
#define MS_PER_SEC	1000u
#define NS_PER_SEC	1000000000ull
#define FIXED_SHIFT	32

/* The TSC at the kernel's entry (boot.asm): the clock's zero. */
extern uint64_t boot_tsc;

static uint64_t tsc_origin;
static uint64_t tsc_freq;
static const char *tsc_source = "none";
static bool tsc_invariant;
/* ns = (ticks * ns_mult) >> FIXED_SHIFT; 0 until calibrated. */
static uint64_t ns_mult;

/* TSC ticks during one PIT one-shot of CALIBRATE_MS. */
static uint64_t pit_measure(void)
{
	uint16_t count = PIT_HZ * CALIBRATE_MS / MS_PER_SEC;
	uint8_t b = inb(PORT_B);
	uint64_t t0, t1;

	/* Gate low while programming, speaker off. */
	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	outb(PIT_CMD, PIT_CMD_CH2 | PIT_CMD_LOHI | PIT_CMD_MODE0);
	outb(PIT_CH2_DATA, (uint8_t)(count & 0xff));
	outb(PIT_CH2_DATA, (uint8_t)(count >> 8));
	/* Rising gate starts the count; OUT rises at terminal count. */
	outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	t0 = rdtsc();
	while (!(inb(PORT_B) & PORT_B_OUT2))
		;
	t1 = rdtsc();
	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	return t1 - t0;
}

/* Median of CALIBRATE_RUNS PIT measurements, in Hz. */
static uint64_t pit_calibrate(void)
{
	uint64_t runs[CALIBRATE_RUNS];

	for (int i = 0; i < CALIBRATE_RUNS; i++) {
		uint64_t d = pit_measure();
		int j = i;

		/* Insertion sort as we go: five values. */
		for (; j > 0 && runs[j - 1] > d; j--)
			runs[j] = runs[j - 1];
		runs[j] = d;
	}
	return runs[CALIBRATE_RUNS / 2] * (MS_PER_SEC / CALIBRATE_MS);
}

/* The TSC frequency the CPU (or hypervisor) states, or 0. */
static uint64_t cpuid_tsc_hz(const char **source)
{
	uint32_t max = cpuid(0, 0).eax;

	if (max >= CPUID_LEAF_TSC) {
		struct cpuid_regs r = cpuid(CPUID_LEAF_TSC, 0);

		if (r.eax && r.ebx && r.ecx) {
			*source = "CPUID 0x15";
			return (uint64_t)r.ecx * r.ebx / r.eax;
		}
		if (r.eax && r.ebx && max >= CPUID_LEAF_FREQ &&
		    (cpuid(CPUID_LEAF_FREQ, 0).eax & FREQ_MHZ_MASK)) {
			*source = "CPUID 0x16 base frequency";
			return (uint64_t)(cpuid(CPUID_LEAF_FREQ, 0).eax &
					  FREQ_MHZ_MASK) * HZ_PER_MHZ;
		}
	}
	if ((cpuid(1, 0).ecx & CPUID_1_ECX_HYPERVISOR) &&
	    cpuid(CPUID_HV_BASE, 0).eax >= CPUID_HV_TIMING &&
	    cpuid(CPUID_HV_TIMING, 0).eax) {
		*source = "hypervisor leaf 0x40000010";
		return (uint64_t)cpuid(CPUID_HV_TIMING, 0).eax * HZ_PER_KHZ;
	}
	return 0;
}

void tsc_init(void)
{
	const char *src = NULL;
	uint64_t stated = cpuid_tsc_hz(&src);

	tsc_invariant = cpuid_max_ext() >= CPUID_EXT_POWER &&
			(cpuid(CPUID_EXT_POWER, 0).edx & CPUID_80000007_EDX_INVTSC);
	if (stated) {
		uint64_t measured = pit_measure() * (MS_PER_SEC / CALIBRATE_MS);
		uint64_t diff = measured > stated ? measured - stated : stated - measured;

		if (diff * PERCENT <= stated * CPUID_TRUST_PCT) {
			tsc_freq = stated;
			tsc_source = src;
		}
	}
	if (!tsc_freq) {
		tsc_freq = pit_calibrate();
		tsc_source = stated ? "PIT calibrated, median of 5 (CPUID disagreed)"
				    : "PIT calibrated, median of 5";
	}
	if (tsc_freq == 0)
		tsc_freq = 1;
	/* 1e9 << 32 < 2^64: a 64-bit division suffices (no libgcc). */
	ns_mult = (NS_PER_SEC << FIXED_SHIFT) / tsc_freq;
	/* Time counts from the kernel's entry, so the log's timestamps
	 * include serial, per-core and clock set-up. */
	tsc_origin = boot_tsc && boot_tsc <= rdtsc() ? boot_tsc : rdtsc();
}

uint64_t tsc_entry_ns(void)
{
	return tsc_to_ns(tsc_origin);
}

void tsc_log(void)
{
	log_info("tsc: %llu.%03llu MHz (%s)",
		 (unsigned long long)(tsc_freq / HZ_PER_MHZ),
		 (unsigned long long)(tsc_freq % HZ_PER_MHZ / HZ_PER_KHZ),
		 tsc_source);
	/* A TSC that starts at 0 on reset (hardware, QEMU, KVM) dates the
	 * kernel's entry: what came before is firmware and boot loader. */
	log_info("boot: kernel entered %llu.%03llu s after reset by the TSC "
		 "(firmware and boot loader)",
		 (unsigned long long)(tsc_entry_ns() / NS_PER_SEC),
		 (unsigned long long)(tsc_entry_ns() % NS_PER_SEC / 1000000u));
	if (!tsc_invariant)
		log_warn("tsc: CPUID does not report an invariant TSC; the clock "
			 "may drift if the frequency changes");
}

uint64_t tsc_hz(void)
{
	return tsc_freq;
}

uint64_t tsc_to_ns(uint64_t ticks)
{
	return (uint64_t)(((unsigned __int128)ticks * ns_mult) >> FIXED_SHIFT);
}

static ticks_t tsc_clock_now(const struct clock *clk)
{
	(void)clk;
	if (ns_mult == 0)
		return 0;
	return tsc_to_ns(rdtsc() - tsc_origin);
}

static const struct clock tsc_clock = {
	.name = "TSC",
	.tick_ns = 1,
	.now = tsc_clock_now,
	.max_ticks = UINT64_MAX,
};

const struct clock *arch_clock(void)
{
	return &tsc_clock;
}
