/*
 * tsc.c - the TSC's frequency, and the kernel clock built on it.
 *
 * The frequency comes from the CPU when it says: CPUID leaf 0x15 (TSC /
 * crystal ratio times the crystal frequency; when the crystal is not
 * enumerated, the base frequency of leaf 0x16 stands in, as Linux does),
 * else the hypervisor's timing leaf 0x40000010 (TSC kHz), checking the
 * maximum leaf before each.  A CPUID value is trusted only if one PIT
 * measurement agrees within CPUID_TRUST_PCT.  Otherwise the TSC is
 * measured against PIT channel 2, counting down with its gate under
 * software control (port 0x61 bit 0), so no interrupt is needed: the
 * count is latched and read at both ends of a window while the TSC
 * spins in between, each read bracketed by two RDTSCs.  The window grows
 * until one PIT tick and the two reads' lengths together bound the error
 * to about 500 ppm (Linux's quick_pit_calibrate does the same with the
 * count's MSB), usually 3.4 ms: a vCPU descheduled during a read makes
 * that read long, which widens the window.  Of three such runs the
 * median is kept, against what no bracket shows (a TSC that jumps
 * between the reads): about 11 ms in all, where polling the output pin
 * (one port read per loop turn, each a VM exit under a hypervisor) for a
 * median of five 10 ms runs took 52 ms.  The clock's zero is the TSC at the kernel's entry
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
#include "clock.h"

#define PIT_HZ		1193182u
#define PIT_CH2_DATA	0x42
#define PIT_CMD		0x43
#define   PIT_CMD_CH2	  0x80
#define   PIT_CMD_LOHI	  0x30	/* low byte then high byte */
#define   PIT_CMD_MODE0	  0x00	/* interrupt on terminal count */
#define PORT_B		0x61
#define   PORT_B_GATE2	  0x01	/* channel 2 gate */
#define   PORT_B_SPEAKER  0x02	/* speaker data enable: keep off */

#define CPUID_LEAF_TSC		0x15	/* eax: denominator, ebx: numerator, ecx: crystal Hz */
#define CPUID_LEAF_FREQ		0x16	/* eax[15:0]: base MHz */
#define   FREQ_MHZ_MASK		  0xffffu
#define CPUID_1_ECX_HYPERVISOR	(1u << 31)
#define CPUID_HV_BASE		0x40000000u	/* eax: max hypervisor leaf */
#define CPUID_HV_TIMING		0x40000010u	/* eax: TSC kHz */
#define CPUID_EXT_POWER		0x80000007u

#define PIT_CMD_LATCH	0x00	/* with PIT_CMD_CH2: latch its count */
#define PIT_START_COUNT	0xffffu
/* A window of at least CAL_MIN_TICKS PIT ticks (one tick: 244 ppm), long
 * enough that the reads' lengths add at most CAL_ERR_PPM; at most
 * CAL_MAX_TICKS (50 ms, inside the 16-bit count). */
#define CAL_MIN_TICKS	4096u
#define CAL_MAX_TICKS	60000u
#define CAL_ERR_PPM	250u
#define CAL_RUNS	3	/* odd: the median is one run */
#define CAL_TRIES	6
#define CAL_START_TRIES	100000u
#define CAL_FIRST_SPIN	(1u << 14)	/* TSC cycles: a few microseconds */
#define PPM		1000000u
#define CPUID_TRUST_PCT	2	/* CPUID vs PIT disagreement tolerated */
#define PERCENT		100
#define HZ_PER_KHZ	1000u
#define HZ_PER_MHZ	1000000u
#define FIXED_SHIFT	32

/* The TSC at the kernel's entry (boot.asm): the clock's zero. */
extern uint64_t boot_tsc;

static uint64_t tsc_origin;
static uint64_t tsc_freq;
static const char *tsc_source = "none";
static unsigned tsc_ppm;	/* the PIT measurement's error bound */
static bool tsc_invariant;
/* ns = (ticks * ns_mult) >> FIXED_SHIFT; 0 until calibrated. */
static uint64_t ns_mult;

/* Channel 2's count now, and the TSC midway through reading it. */
struct pit_sample {
	uint64_t tsc;		/* midpoint of the read */
	uint64_t err;		/* half its length: how far off tsc may be */
	uint16_t count;
};

static struct pit_sample pit_sample(void)
{
	struct pit_sample s;
	uint64_t a, b;
	uint8_t lo, hi;

	a = rdtsc();
	outb(PIT_CMD, PIT_CMD_CH2 | PIT_CMD_LATCH);
	lo = inb(PIT_CH2_DATA);
	hi = inb(PIT_CH2_DATA);
	b = rdtsc();
	s.tsc = a + (b - a) / 2;
	s.err = (b - a) / 2 + 1;
	s.count = (uint16_t)(lo | (uint16_t)hi << 8);
	return s;
}

static void spin_cycles(uint64_t cycles)
{
	uint64_t t0 = rdtsc();

	while (rdtsc() - t0 < cycles)
		__builtin_ia32_pause();
}

/*
 * One measurement of the TSC rate against PIT channel 2, counting down
 * from 0xffff: Hz, and in *ppm the error bound (one PIT tick over the
 * window plus both reads' lengths over the window); 0 Hz when no window
 * up to CAL_MAX_TICKS met CAL_ERR_PPM (reads that slow: a vCPU
 * descheduled during one).  The PIT is read at the two ends only, and in
 * between the TSC spins alone: a handful of port accesses, each a VM
 * exit under a hypervisor, instead of one per loop turn.
 */
static uint64_t pit_measure(unsigned *ppm)
{
	uint8_t b = inb(PORT_B);
	struct pit_sample s0, s1;
	uint64_t hz = 0;
	unsigned tries = 0;

	/* Gate low while programming, speaker off; a rising gate starts it. */
	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	outb(PIT_CMD, PIT_CMD_CH2 | PIT_CMD_LOHI | PIT_CMD_MODE0);
	outb(PIT_CH2_DATA, PIT_START_COUNT & 0xff);
	outb(PIT_CH2_DATA, PIT_START_COUNT >> 8);
	outb(PORT_B, (b & ~PORT_B_SPEAKER) | PORT_B_GATE2);
	/* The first window starts once the count is seen moving. */
	s1 = pit_sample();
	do {
		s0 = s1;
		s1 = pit_sample();
	} while (s1.count == s0.count && ++tries < CAL_START_TRIES);
	s0 = s1;
	for (;;) {
		uint64_t ticks, cycles, err, want;

		spin_cycles(CAL_FIRST_SPIN);
		s1 = pit_sample();
		ticks = (uint16_t)(s0.count - s1.count);
		cycles = s1.tsc - s0.tsc;
		err = s0.err + s1.err;
		if (ticks >= CAL_MIN_TICKS && err * PPM <= cycles * CAL_ERR_PPM) {
			hz = cycles * PIT_HZ / ticks;
			*ppm = (unsigned)(PPM / ticks + err * PPM / cycles);
			break;
		}
		if (ticks >= CAL_MAX_TICKS || ticks == 0)
			break;
		/* Enough ticks for both bounds, taking the end read to be as
		 * slow as the start's; spin most of the way there. */
		want = MAX((uint64_t)CAL_MIN_TICKS,
			   2 * s0.err * PPM / CAL_ERR_PPM * ticks / cycles + 1);
		if (want > CAL_MAX_TICKS)
			want = CAL_MAX_TICKS;
		if (want > ticks)
			spin_cycles(cycles / ticks * (want - ticks) * 15 / 16);
	}
	outb(PORT_B, b & ~(PORT_B_GATE2 | PORT_B_SPEAKER));
	return hz;
}

/*
 * The median of CAL_RUNS measurements (a TSC that jumps during one, which
 * no read bracket can see, is voted out), with that run's bound in
 * *ppm; runs that failed are retried, CAL_TRIES in all at most.  0 if
 * none succeeded.
 */
static uint64_t pit_calibrate(unsigned *ppm)
{
	uint64_t hz[CAL_RUNS];
	unsigned bound[CAL_RUNS], n = 0;

	for (unsigned i = 0; i < CAL_TRIES && n < CAL_RUNS; i++) {
		unsigned b;
		uint64_t h = pit_measure(&b);
		unsigned j = n++;

		if (!h) {
			n--;
			continue;
		}
		/* Insertion sort as we go: three values. */
		for (; j > 0 && hz[j - 1] > h; j--) {
			hz[j] = hz[j - 1];
			bound[j] = bound[j - 1];
		}
		hz[j] = h;
		bound[j] = b;
	}
	if (n == 0)
		return 0;
	*ppm = bound[(n - 1) / 2];
	return hz[(n - 1) / 2];
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
	uint64_t stated = cpuid_tsc_hz(&src), measured;

	tsc_invariant = cpuid_max_ext() >= CPUID_EXT_POWER &&
			(cpuid(CPUID_EXT_POWER, 0).edx & CPUID_80000007_EDX_INVTSC);
	measured = pit_calibrate(&tsc_ppm);
	if (stated && measured) {
		uint64_t diff = measured > stated ? measured - stated : stated - measured;

		if (diff * PERCENT <= stated * CPUID_TRUST_PCT) {
			tsc_freq = stated;
			tsc_source = src;
		}
	}
	if (!tsc_freq) {
		tsc_freq = measured;
		tsc_source = stated ? "PIT calibrated (CPUID disagreed)" : "PIT calibrated";
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
	log_info("tsc: %llu.%03llu MHz (%s; the PIT's measurement within "
		 "%u ppm)",
		 (unsigned long long)(tsc_freq / HZ_PER_MHZ),
		 (unsigned long long)(tsc_freq % HZ_PER_MHZ / HZ_PER_KHZ),
		 tsc_source, tsc_ppm);
	if (tsc_freq == 1)
		log_warn("tsc: the PIT could not be measured; the clock is wrong");
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
