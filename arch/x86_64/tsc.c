/*
 * tsc.c - TSC calibration against PIT channel 2, and the kernel clock.
 *
 * Channel 2's gate is software-controlled (port 0x61 bit 0) and its output
 * readable (bit 5), so no interrupt is needed: program a one-shot count of
 * CALIBRATE_MS, read the TSC when it starts and when OUT goes high.  A
 * vCPU descheduled during a run can only make the TSC delta too large, so
 * the smallest of CALIBRATE_RUNS runs is kept.  now() converts with a
 * 32.32 fixed-point multiplier through a 128-bit product (no division on
 * the hot path).  Reference: Intel 8254 data sheet (mode 0); Linux
 * arch/x86/kernel/tsc.c (pit_calibrate_tsc).
 */
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
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

#define CALIBRATE_MS	10
#define CALIBRATE_RUNS	3
#define MS_PER_SEC	1000u
#define NS_PER_SEC	1000000000ull
#define FIXED_SHIFT	32

static uint64_t tsc_origin;
static uint64_t tsc_freq;
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

void tsc_init(void)
{
	uint64_t best = UINT64_MAX;

	for (int i = 0; i < CALIBRATE_RUNS; i++) {
		uint64_t d = pit_measure();

		if (d < best)
			best = d;
	}
	if (best == 0)
		best = 1;
	tsc_freq = best * (MS_PER_SEC / CALIBRATE_MS);
	/* 1e9 << 32 < 2^64: a 64-bit division suffices (no libgcc). */
	ns_mult = (NS_PER_SEC << FIXED_SHIFT) / tsc_freq;
	tsc_origin = rdtsc();
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
