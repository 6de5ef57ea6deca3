/*
 * lapic.c - local APIC driver: enable, EOI, IPIs and the idle timer.
 *
 * Registers are reached through two accessors, MMIO (xAPIC: base + off)
 * or MSR (x2APIC: 0x800 + off / 16), chosen once on the boot core; every
 * core then runs the same mode.  IPIs in xAPIC mode write ICR high then
 * low with interrupts off (an interrupt handler sending its own IPI
 * between the two writes would corrupt the pair) after the previous IPI
 * left the delivery-pending state; in x2APIC mode they are one WRMSR,
 * with no masking.  The timer: TSC-deadline when the CPU
 * has it (the deadline MSR takes the TSC value directly), else one-shot
 * with divide-by-16, its rate measured against the TSC on the boot core
 * (1-10 ms, see measure_oneshot_rate), the count clamped to 32 bits (a far
 * deadline fires early and the idle loop re-arms).  Reference: Intel SDM
 * vol. 3 sections 11.4-11.6, 11.5.4.1 (TSC-deadline), 11.12 (x2APIC).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "config.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "panic.h"
#include "clock.h"

/* Register offsets (xAPIC MMIO; x2APIC MSR = 0x800 + off >> 4). */
#define LAPIC_ID		0x020
#define   XAPIC_ID_SHIFT	  24
#define LAPIC_VERSION		0x030
#define   VERSION_MASK		  0xff
#define   VERSION_MAX_LVT_SHIFT	  16	/* LVT entries - 1 */
#define LAPIC_TPR		0x080
#define LAPIC_EOI		0x0b0
#define LAPIC_SVR		0x0f0
#define   SVR_ENABLE		  (1u << 8)
#define LAPIC_ESR		0x280
#define LAPIC_ICR_LO		0x300
#define LAPIC_ICR_HI		0x310	/* xAPIC only: destination << 24 */
#define   ICR_FIXED		  (0u << 8)
#define   ICR_NMI		  (4u << 8)
#define   ICR_INIT		  (5u << 8)
#define   ICR_STARTUP		  (6u << 8)
#define   ICR_PENDING		  (1u << 12)	/* xAPIC delivery status */
#define   ICR_ASSERT		  (1u << 14)
#define   ICR_LEVEL		  (1u << 15)
#define   ICR_ALL_BUT_SELF	  (3u << 18)
#define   ICR_DEST_SHIFT_XAPIC	  24
#define LAPIC_LVT_TIMER		0x320
#define   LVT_MASKED		  (1u << 16)
#define   LVT_TIMER_ONESHOT	  (0u << 17)
#define   LVT_TIMER_DEADLINE	  (2u << 17)
#define LAPIC_LVT_LINT0		0x350
#define LAPIC_LVT_LINT1		0x360
#define LAPIC_LVT_ERROR		0x370
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_CURRENT	0x390
#define LAPIC_TIMER_DIV		0x3e0
#define   TIMER_DIV_16		  0x3

#define MSR_REG_SHIFT		4
#define LAPIC_CAL_MIN_MS	1
#define LAPIC_CAL_MAX_MS	10
#define LAPIC_CAL_ERR_PPM	500
#define LAPIC_CAL_START_READS	4
#define PPM			1000000u
#define RATE_SHIFT		32	/* lapic ticks per TSC cycle, 32.32 */
#define TIMER_COUNT_MAX		0xffffffffu
#define NS_TSC_SHIFT		24	/* TSC cycles per ns, 40.24 */
/*
 * The timer interrupt comes `early` ns before the deadline and the rest is
 * polled with interrupts on, so the interrupt's delivery latency (a few
 * microseconds on hardware, hundreds for QEMU's emulated timer on a loaded
 * host) is not added to every sleep.  `early` adapts per core: twice the
 * average lateness of its timer interrupts (an EWMA, weight 1/8) plus a
 * floor, capped, starting at the cap; so real hardware polls a few
 * microseconds, QEMU up to half a millisecond.
 */
#define TIMER_EARLY_MIN_NS	10000ull
#define TIMER_EARLY_MAX_NS	500000ull
#define LATE_EWMA_SHIFT		3	/* new = old + (sample - old) / 8 */
#define LATE_INITIAL_NS		(TIMER_EARLY_MAX_NS / 2)

static volatile uint32_t *xapic;	/* MMIO window; NULL in x2APIC mode */
static bool x2apic;
static bool tsc_deadline;
static uint64_t oneshot_rate;		/* LAPIC ticks per TSC cycle, 32.32 */
static uint64_t ns_to_tsc_mult;		/* TSC cycles per ns, rounded up */
static atomic_uint_least64_t timer_fired;
/* By bring-up number, owner core only (its timer interrupt included):
 * the armed deadline is near, so lapic_wait_for_interrupt() polls. */
static bool timer_poll[MAX_CORES];
/* Timer interrupts per core (by number, owner only): a wait ends on any
 * other interrupt, not on a late or stale one of the timer's own. */
static uint64_t timer_irqs[MAX_CORES];
/* By number, owner only: when the hardware was set to fire (ns, 0: not
 * set), and the average lateness of its interrupts (0: not measured yet,
 * LATE_INITIAL_NS assumed). */
static uint64_t hw_fire_ns[MAX_CORES];
static uint64_t late_avg_ns[MAX_CORES];
/* By number, owner only: the hardware counts toward timer_deadline and
 * has not interrupted since (so arming the same deadline again is a
 * no-op, not a register write). */
static bool hw_armed[MAX_CORES];

static uint64_t timer_early_ns(unsigned n)
{
	uint64_t late = late_avg_ns[n] ? late_avg_ns[n] : LATE_INITIAL_NS;

	return MIN(TIMER_EARLY_MAX_NS, TIMER_EARLY_MIN_NS + 2 * late);
}

static uint32_t rd(uint32_t off)
{
	TRAPSTAT_INC(apic_read);
	if (x2apic)
		return (uint32_t)rdmsr(MSR_X2APIC_BASE + (off >> MSR_REG_SHIFT));
	return xapic[off / sizeof(uint32_t)];
}

static void wr(uint32_t off, uint32_t v)
{
	TRAPSTAT_INC(apic_write);
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + (off >> MSR_REG_SHIFT), v);
	else
		xapic[off / sizeof(uint32_t)] = v;
}

bool lapic_x2apic(void)
{
	return x2apic;
}

bool lapic_tsc_deadline(void)
{
	return tsc_deadline;
}

uint32_t lapic_id(void)
{
	uint32_t id = rd(LAPIC_ID);

	return x2apic ? id : id >> XAPIC_ID_SHIFT;
}

void lapic_eoi(void)
{
	wr(LAPIC_EOI, 0);
}

/* Write the ICR: dest and the low word (vector, mode, shorthand). */
static void send_icr(uint32_t dest, uint32_t lo)
{
	unsigned long flags;

	if (x2apic) {
		/* WRMSR to the ICR is not serialising: fence so the woken core
		 * sees our earlier stores (as Linux's weak_wrmsr_fence).  One
		 * MSR write, no pending state to wait for, and nothing an
		 * interrupt could split: no masking (each cli/sti may trap). */
		__asm__ volatile("mfence; lfence" : : : "memory");
		wrmsr(MSR_X2APIC_BASE + (LAPIC_ICR_LO >> MSR_REG_SHIFT),
		      ((uint64_t)dest << 32) | lo);
		TRAPSTAT_INC(apic_write);
		return;
	}
	/* xAPIC: two writes, high then low; an interrupt handler sending its
	 * own IPI between them would corrupt the pair. */
	flags = read_rflags();
	cli();
	TRAPSTAT_INC(irq_mask);
	while (rd(LAPIC_ICR_LO) & ICR_PENDING)
		__builtin_ia32_pause();
	wr(LAPIC_ICR_HI, dest << ICR_DEST_SHIFT_XAPIC);
	wr(LAPIC_ICR_LO, lo);
	if (flags & RFLAGS_IF) {
		sti();
		TRAPSTAT_INC(irq_mask);
	}
}

void lapic_send_ipi(uint32_t apic_id, uint8_t vector)
{
	TRAPSTAT_INC(ipi);
	send_icr(apic_id, ICR_FIXED | ICR_ASSERT | vector);
}

void lapic_send_nmi_others(void)
{
	/* Called from panic: the MMIO window or MSRs are set up by then
	 * whenever another core can exist. */
	if (!x2apic && !xapic)
		return;
	send_icr(0, ICR_NMI | ICR_ASSERT | ICR_ALL_BUT_SELF);
}

void lapic_send_nmi(uint32_t apic_id)
{
	send_icr(apic_id, ICR_NMI | ICR_ASSERT);
}

void lapic_send_init(uint32_t apic_id)
{
	send_icr(apic_id, ICR_INIT | ICR_ASSERT | ICR_LEVEL);
}

void lapic_send_startup(uint32_t apic_id, uint8_t page)
{
	send_icr(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

/* ---- timer ----------------------------------------------------------------- */

void lapic_timer_arm_tsc(uint64_t tsc)
{
	uint64_t now, count = 1;

	if (tsc_deadline) {
		/* 0 disarms; a value in the past fires at once (SDM 11.5.4.1). */
		wrmsr(MSR_TSC_DEADLINE, tsc);
		TRAPSTAT_INC(msr_write);
		return;
	}
	if (tsc == 0) {
		wr(LAPIC_TIMER_INIT, 0);	/* 0 stops the one-shot count */
		return;
	}
	now = rdtsc();
	if (tsc > now) {
		count = (uint64_t)(((unsigned __int128)(tsc - now) * oneshot_rate)
				   >> RATE_SHIFT);
		if (count == 0)
			count = 1;
		if (count > TIMER_COUNT_MAX)
			count = TIMER_COUNT_MAX;
	}
	wr(LAPIC_TIMER_INIT, (uint32_t)count);
}

/* Program the hardware for `deadline` (lapic_timer_arm without the
 * unchanged-deadline shortcut). */
static void timer_program(struct cpu *c, uint64_t deadline)
{
	unsigned n = c->number;
	uint64_t now_ns, tsc, target, early = timer_early_ns(n);

	c->timer_deadline = deadline;
	timer_poll[n] = false;
	hw_fire_ns[n] = 0;
	hw_armed[n] = false;
	if (deadline == UINT64_MAX) {
		lapic_timer_arm_tsc(0);
		return;
	}
	now_ns = clock_now(arch_clock());
	tsc = rdtsc();
	target = tsc;			/* in the past: fire at once */
	if (deadline > now_ns && deadline - now_ns <= early) {
		lapic_timer_arm_tsc(0);
		timer_poll[n] = true;
		return;
	}
	if (deadline > now_ns) {
		target += (uint64_t)(((unsigned __int128)(deadline - now_ns - early) *
				      ns_to_tsc_mult) >> NS_TSC_SHIFT);
		hw_fire_ns[n] = deadline - early;
	}
	lapic_timer_arm_tsc(target);
	hw_armed[n] = true;
}

void lapic_timer_arm(uint64_t deadline)
{
	struct cpu *c = this_cpu();
	unsigned n = c->number;

	/*
	 * The same deadline as armed, and the hardware (or the interim
	 * poll) still serves it: a second write would only trap.  An idle
	 * core re-arms on every sleep, mostly with no deadline at all.
	 */
	if (deadline == c->timer_deadline &&
	    (deadline == UINT64_MAX || timer_poll[n] || hw_armed[n]))
		return;
	timer_program(c, deadline);
}

bool lapic_timer_polling(void)
{
	return timer_poll[this_cpu()->number];
}

/* Poll with interrupts on until the armed deadline or any interrupt. */
static void poll_deadline(struct cpu *c)
{
	uint64_t deadline = c->timer_deadline;
	uint64_t others = c->interrupts - timer_irqs[c->number];
	const struct clock *clk = arch_clock();

	sti();
	while (clock_now(clk) < deadline &&
	       c->interrupts - timer_irqs[c->number] == others)
		__builtin_ia32_pause();
	cli();
	if (c->timer_deadline == deadline && clock_now(clk) >= deadline) {
		c->timer_deadline = UINT64_MAX;
		timer_poll[c->number] = false;
	}
	sti();
	TRAPSTAT_ADD(irq_mask, 3);
}

/* A spurious interrupt or an APIC error counts as a device here. */
enum arch_wake_reason lapic_wake_reason(const struct cpu *c, uint64_t others,
					uint64_t wakes)
{
	if (c->wake_irqs != wakes)
		return ARCH_WOKE_IPI;
	if (c->interrupts - timer_irqs[c->number] - c->wake_irqs !=
	    others - wakes)
		return ARCH_WOKE_DEVICE;
	return ARCH_WOKE_TIMER;
}

enum arch_wake_reason lapic_wait_for_interrupt(void)
{
	struct cpu *c = this_cpu();
	unsigned n = c->number;
	uint64_t others = c->interrupts - timer_irqs[n];
	uint64_t wakes = c->wake_irqs;

	for (;;) {
		if (timer_poll[n]) {
			/* Less than the early margin to go: poll it out. */
			poll_deadline(c);
			return lapic_wake_reason(c, others, wakes);
		}
		/* The STI shadow covers HLT: an interrupt pending at the STI
		 * (a wakeup IPI sent after the caller's last check) is taken
		 * once HLT has started, so it ends the HLT, not lost. */
		__asm__ volatile("sti; hlt; cli" : : : "memory");
		TRAPSTAT_ADD(irq_mask, 2);
		TRAPSTAT_INC(hlt);
		/* Another interrupt, or the deadline passed: return. */
		if (c->interrupts - timer_irqs[n] != others ||
		    c->timer_deadline == UINT64_MAX)
			break;
		/* Only our timer, far too early (a clamped count, a stale
		 * pending one): program it again and sleep on. */
		if (!timer_poll[n])
			timer_program(c, c->timer_deadline);
	}
	sti();
	TRAPSTAT_INC(irq_mask);
	return lapic_wake_reason(c, others, wakes);
}

uint64_t lapic_timer_early_ns(void)
{
	return timer_early_ns(this_cpu()->number);
}

uint64_t lapic_timer_fired(void)
{
	return atomic_load_explicit(&timer_fired, memory_order_relaxed);
}

static void timer_isr(struct trap_frame *f)
{
	struct cpu *c = this_cpu();
	unsigned n = c->number;
	uint64_t now;

	(void)f;
	/* relaxed: a statistic for tests and the shell. */
	atomic_fetch_add_explicit(&timer_fired, 1, memory_order_relaxed);
	timer_irqs[n]++;
	hw_armed[n] = false;
	now = clock_now(arch_clock());
	/* How late the hardware was (a stale interrupt is early: skipped). */
	if (hw_fire_ns[n] && now >= hw_fire_ns[n]) {
		uint64_t late = now - hw_fire_ns[n], avg = late_avg_ns[n];

		late_avg_ns[n] = avg ? avg - (avg >> LATE_EWMA_SHIFT) +
				       (late >> LATE_EWMA_SHIFT) : late;
		if (late_avg_ns[n] == 0)
			late_avg_ns[n] = 1;
		hw_fire_ns[n] = 0;
	}
	/*
	 * At or past the deadline: it has fired, disarm.  The early
	 * interrupt: lapic_wait_for_interrupt() polls the rest.  Far before
	 * it (a clamped one-shot count, or one left pending in the IRR when
	 * the timer was re-armed): nothing; the idle loop re-arms.
	 */
	if (c->timer_deadline == UINT64_MAX || now >= c->timer_deadline)
		c->timer_deadline = UINT64_MAX;
	else if (c->timer_deadline - now <= 2 * TIMER_EARLY_MAX_NS)
		timer_poll[n] = true;
	lapic_eoi();
}

static void wake_isr(struct trap_frame *f)
{
	/* The woken core's loop re-checks its queues after HLT returns. */
	(void)f;
	this_cpu()->wake_irqs++;
	lapic_eoi();
}

static void spurious_isr(struct trap_frame *f)
{
	/* A spurious interrupt is not in service: no EOI (SDM 11.9). */
	(void)f;
}

static void error_isr(struct trap_frame *f)
{
	uint32_t esr;

	(void)f;
	wr(LAPIC_ESR, 0);	/* latch the errors into the register */
	esr = rd(LAPIC_ESR);
	log_warn("lapic: cpu%u APIC error 0x%x", this_cpu()->index, esr);
	lapic_eoi();
}

/* The current count, and the TSC midway through reading it. */
struct count_sample {
	uint64_t tsc;
	uint64_t err;		/* half the read's length */
	uint32_t count;
};

static struct count_sample count_sample(void)
{
	struct count_sample c;
	uint64_t a = rdtsc(), b;

	c.count = rd(LAPIC_TIMER_CURRENT);
	b = rdtsc();
	c.tsc = a + (b - a) / 2;
	c.err = (b - a) / 2 + 1;
	return c;
}

static uint64_t cal_window_us;		/* the calibration's window and */
static uint64_t cal_err_ppm;		/* error bound, for the log */

/*
 * LAPIC ticks (divide by 16) per TSC cycle, 32.32.  The count runs down
 * from its maximum and is read at the two ends of a window, each read
 * bracketed by RDTSC (the quickest of LAPIC_CAL_START_READS for the
 * start; the end read is retaken when it was slow), with the TSC
 * spinning in between (no register access, so no VM
 * exit).  The window is LAPIC_CAL_MIN_MS, or longer until the reads'
 * lengths bound the error to LAPIC_CAL_ERR_PPM, at most LAPIC_CAL_MAX_MS.
 */
static uint64_t measure_oneshot_rate(void)
{
	uint64_t ms = tsc_hz() / MS_PER_SEC, window;
	struct count_sample s0, s1;

	wr(LAPIC_TIMER_DIV, TIMER_DIV_16);
	wr(LAPIC_LVT_TIMER, LVT_MASKED | LVT_TIMER_ONESHOT | VECTOR_TIMER);
	wr(LAPIC_TIMER_INIT, TIMER_COUNT_MAX);
	s0 = count_sample();
	for (unsigned i = 1; i < LAPIC_CAL_START_READS; i++) {
		struct count_sample s = count_sample();

		if (s.err < s0.err)
			s0 = s;
	}
	window = MAX(ms * LAPIC_CAL_MIN_MS, 2 * s0.err * PPM / LAPIC_CAL_ERR_PPM);
	for (;;) {
		uint64_t best = UINT64_MAX;

		window = MIN(window, ms * LAPIC_CAL_MAX_MS);
		while (rdtsc() - s0.tsc < window)
			__builtin_ia32_pause();
		/* A slow end read (the vCPU went elsewhere) is simply taken
		 * again: the window only grows by the read's length. */
		for (unsigned i = 0; i < LAPIC_CAL_START_READS; i++) {
			s1 = count_sample();
			if ((s0.err + s1.err) * PPM <=
			    (s1.tsc - s0.tsc) * LAPIC_CAL_ERR_PPM)
				break;
			best = MIN(best, s1.err);
		}
		if ((s0.err + s1.err) * PPM <= (s1.tsc - s0.tsc) * LAPIC_CAL_ERR_PPM ||
		    window >= ms * LAPIC_CAL_MAX_MS)
			break;
		window = 2 * (s0.err + best) * PPM / LAPIC_CAL_ERR_PPM;
	}
	wr(LAPIC_TIMER_INIT, 0);
	if (s1.count == 0 || s1.count >= s0.count || s1.tsc <= s0.tsc)
		panic("lapic_init: the LAPIC timer ran out during calibration");
	cal_window_us = (s1.tsc - s0.tsc) * MS_PER_SEC / (ms ? ms : 1);
	cal_err_ppm = (s0.err + s1.err) * PPM / (s1.tsc - s0.tsc) +
		      PPM / (s0.count - s1.count);
	return ((uint64_t)(s0.count - s1.count) << RATE_SHIFT) / (s1.tsc - s0.tsc);
}

void lapic_init_cpu(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE) | APIC_BASE_ENABLE;

	/* Disabled -> xAPIC -> x2APIC: the SDM's valid transitions (11.12.5). */
	wrmsr(MSR_APIC_BASE, base);
	if (x2apic)
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_X2APIC);
	wr(LAPIC_TPR, 0);
	wr(LAPIC_LVT_LINT0, LVT_MASKED);
	wr(LAPIC_LVT_LINT1, LVT_MASKED);
	wr(LAPIC_LVT_ERROR, VECTOR_ERROR);
	wr(LAPIC_ESR, 0);
	wr(LAPIC_ESR, 0);
	wr(LAPIC_TIMER_DIV, TIMER_DIV_16);
	wr(LAPIC_TIMER_INIT, 0);
	wr(LAPIC_LVT_TIMER, VECTOR_TIMER |
	   (tsc_deadline ? LVT_TIMER_DEADLINE : LVT_TIMER_ONESHOT));
	if (tsc_deadline) {
		/* In xAPIC mode the LVT write (MMIO) and a later deadline
		 * WRMSR are not ordered: the SDM's TSC-deadline section asks
		 * for MFENCE between them (Linux __setup_APIC_LVTT too). */
		__asm__ volatile("mfence" : : : "memory");
		wrmsr(MSR_TSC_DEADLINE, 0);
	}
	wr(LAPIC_SVR, SVR_ENABLE | VECTOR_SPURIOUS);
	/* Anything left in service from the firmware. */
	lapic_eoi();
	this_cpu()->timer_deadline = UINT64_MAX;
	this_cpu()->hwid = lapic_id();
}

void lapic_init(uint64_t base)
{
	struct cpuid_regs r = cpuid(1, 0);
	uint64_t msr = rdmsr(MSR_APIC_BASE);

	x2apic = r.ecx & CPUID_1_ECX_X2APIC;
	tsc_deadline = r.ecx & CPUID_1_ECX_TSC_DEADLINE;
	if (!base)
		base = msr & APIC_BASE_ADDR_MASK;
	if (!base)
		base = LAPIC_DEFAULT_BASE;
	if (!x2apic) {
		if (paging_protect((uintptr_t)base, PAGE_SIZE,
				   PAGE_RW | PAGE_NOCACHE) != 0)
			panic("lapic_init: cannot map the LAPIC at 0x%llx",
			      (unsigned long long)base);
		xapic = (volatile uint32_t *)(uintptr_t)base;
	}
	if (trap_set_handler(VECTOR_TIMER, timer_isr) ||
	    trap_set_handler(VECTOR_WAKE, wake_isr) ||
	    trap_set_handler(VECTOR_KICK, kick_isr) ||
	    trap_set_handler(VECTOR_SPURIOUS, spurious_isr) ||
	    trap_set_handler(VECTOR_ERROR, error_isr))
		panic("lapic_init: cannot install the LAPIC vectors");
	ns_to_tsc_mult = ((tsc_hz() << NS_TSC_SHIFT) + NS_PER_SEC - 1) / NS_PER_SEC;
	lapic_init_cpu();
	if (!tsc_deadline)
		oneshot_rate = measure_oneshot_rate();
	/* Set up again: calibration left the timer masked. */
	lapic_init_cpu();
	log_info("lapic: %s at 0x%llx, id %u, version 0x%x; timer %s",
		 x2apic ? "x2APIC" : "xAPIC", (unsigned long long)base,
		 lapic_id(), rd(LAPIC_VERSION) & VERSION_MASK,
		 tsc_deadline ? "TSC-deadline" : "one-shot (TSC-calibrated)");
	if (!tsc_deadline)
		log_info("lapic: one-shot timer at %llu kHz (divide by 16), "
			 "measured over %llu us within %llu ppm",
			 (unsigned long long)(((unsigned __int128)oneshot_rate *
					      (tsc_hz() / MS_PER_SEC)) >> RATE_SHIFT),
			 (unsigned long long)cal_window_us,
			 (unsigned long long)cal_err_ppm);
}

void lapic_dump(const struct fmt_out *out)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	uint32_t ver;

	fmt_printf(out, "IA32_APIC_BASE = 0x%llx: base 0x%llx,%s%s%s\n",
		   (unsigned long long)msr,
		   (unsigned long long)(msr & APIC_BASE_ADDR_MASK),
		   msr & APIC_BASE_ENABLE ? " enabled" : " disabled",
		   msr & APIC_BASE_BSP ? ", boot processor" : "",
		   msr & APIC_BASE_X2APIC ? ", x2APIC mode" : ", xAPIC mode");
	fmt_printf(out, "CPUID says x2APIC %s, TSC-deadline %s; timer %s\n",
		   cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC ? "supported" : "not supported",
		   cpuid(1, 0).ecx & CPUID_1_ECX_TSC_DEADLINE ? "supported" : "not supported",
		   tsc_deadline ? "TSC-deadline" : "one-shot");
	if (!(msr & APIC_BASE_ENABLE))
		return;
	ver = rd(LAPIC_VERSION);
	fmt_printf(out, "cpu%u: APIC id %u, version 0x%x (%u LVT entries), "
		   "SVR 0x%x (%s), LINT0 0x%x, LVT timer 0x%x\n",
		   arch_cpu_index(), lapic_id(), ver & VERSION_MASK,
		   ((ver >> VERSION_MAX_LVT_SHIFT) & VERSION_MASK) + 1, rd(LAPIC_SVR),
		   rd(LAPIC_SVR) & SVR_ENABLE ? "software enabled" : "software disabled",
		   rd(LAPIC_LVT_LINT0), rd(LAPIC_LVT_TIMER));
}
