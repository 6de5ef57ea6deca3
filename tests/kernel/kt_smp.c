/*
 * kt_smp.c - in-kernel tests of interrupts, time and every processor:
 * all cores online with their own per-core block and stack, the LAPIC
 * timer (arming, disarming, a past deadline), a legacy IRQ through the
 * I/O APIC and its source override (the PIT's IRQ 0 -> GSI 2), a
 * malformed MADT falling back to one core, and wakeup IPIs: 1,000
 * wake-to-run round trips to a core asleep in HLT, median and p99 logged.
 *
 * In the test kernel the APs do not join a runtime: each runs
 * kernel_ap_start(), a service loop that sleeps in arch_wait_for_interrupt()
 * and, when woken, runs the function the boot core posted to it
 * (kt_smp_call) or answers a ping.  It binds runtime slot = its bring-up
 * number, so arch_wake(n) reaches AP n.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/ioapic.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "config.h"
#include "errno.h"
#include "kernel/kernel.h"
#include "kmalloc.h"
#include "lib/log.h"
#include "lib/string.h"
#include "tests/kernel/kt_smp.h"
#include "tests/kernel/ktest.h"
#include "tests/support/sort.h"
#include "clock.h"

#define KT_WAIT_NS	(2000 * NS_PER_MS)	/* give up on an AP after this */
#define KT_PINGS	1000
#define KT_SETTLE_NS	(20 * NS_PER_US)	/* let the AP reach HLT */
#define PERCENT		100
#define KT_X2APIC_ONLY_ID	300

/* One per AP; the boot core posts, the AP consumes. */
struct kt_ap {
	/* release by the boot core after fn/arg; acquire by the AP. */
	atomic_bool call;
	void (*fn)(void *arg);
	void *arg;
	/* release by the AP when fn returned; acquire by the boot core. */
	atomic_uint calls_done;

	atomic_bool ping;		/* like call: the ping request */
	uint64_t ping_seen_ns;		/* when the AP ran after the wake */
	atomic_uint pings_done;		/* release by the AP */

	atomic_bool idle;		/* set just before its HLT */
	atomic_bool alive;
};

static struct kt_ap kt_aps[MAX_CORES];

void kernel_ap_start(unsigned number)
{
	struct kt_ap *ap = &kt_aps[number];

	arch_cpu_bind(number);
	atomic_store_explicit(&ap->alive, true, memory_order_release);
	for (;;) {
		arch_irq_disable();
		atomic_store_explicit(&ap->idle, false, memory_order_relaxed);
		/* acquire: pairs with the boot core's release of ping/call. */
		if (atomic_exchange_explicit(&ap->ping, false, memory_order_acquire)) {
			ap->ping_seen_ns = kt_now_ns();
			/* release: publishes ping_seen_ns. */
			atomic_fetch_add_explicit(&ap->pings_done, 1,
						  memory_order_release);
			continue;
		}
		if (atomic_exchange_explicit(&ap->call, false, memory_order_acquire)) {
			ap->fn(ap->arg);
			/* release: publishes what fn wrote. */
			atomic_fetch_add_explicit(&ap->calls_done, 1,
						  memory_order_release);
			continue;
		}
		/* seq_cst: the store must be visible before we sleep; the
		 * boot core only reads it to pace itself. */
		atomic_store_explicit(&ap->idle, true, memory_order_seq_cst);
		arch_wait_for_interrupt();
	}
}

/* Wait (spinning, bounded) until *counter leaves `old`. */
static bool wait_change(atomic_uint *counter, unsigned old)
{
	uint64_t t0 = kt_now_ns();

	/* acquire: pairs with the AP's release increment. */
	while (atomic_load_explicit(counter, memory_order_acquire) == old)
		if (kt_now_ns() - t0 > KT_WAIT_NS)
			return false;
	return true;
}

void kt_smp_post(unsigned n, void (*fn)(void *arg), void *arg)
{
	struct kt_ap *ap = &kt_aps[n];

	ap->fn = fn;
	ap->arg = arg;
	/* release: fn and arg before the flag; pairs with the AP's exchange. */
	atomic_store_explicit(&ap->call, true, memory_order_release);
	/* By APIC id, not arch_wake(n): a test runtime rebinds the slots. */
	lapic_send_ipi(smp_cpu_apic(n), VECTOR_WAKE);
}

unsigned kt_smp_calls_done(unsigned n)
{
	/* acquire: pairs with the AP's release increment. */
	return atomic_load_explicit(&kt_aps[n].calls_done, memory_order_acquire);
}

bool kt_smp_call(unsigned n, void (*fn)(void *arg), void *arg)
{
	unsigned done = kt_smp_calls_done(n);

	kt_smp_post(n, fn, arg);
	return wait_change(&kt_aps[n].calls_done, done);
}

/* ---- every core online ------------------------------------------------------ */

struct kt_whoami {
	struct cpu *cpu;
	uint32_t hwid;
	uint32_t lapic;
	unsigned number;
	bool on_own_stack;
	bool gs_self;
};

static void whoami(void *arg)
{
	struct kt_whoami *w = arg;
	int local;

	w->cpu = this_cpu();
	w->hwid = arch_cpu_hwid();
	w->lapic = lapic_id();
	w->number = this_cpu()->number;
	w->on_own_stack = cpu_on_stack(this_cpu(), (uintptr_t)&local, sizeof(local));
	w->gs_self = this_cpu()->self == (struct cpu *)rdmsr(MSR_GS_BASE);
}

KTEST(smp_every_core_online)
{
	unsigned online = smp_cpus_online();
	struct kt_whoami w[MAX_CORES / 8];

	log_info("kt_smp: %u cores online, MADT lists %u", online, acpi_get()->ncpus);
	KT_ASSERT_EQ(online, acpi_get()->ncpus);
	KT_ASSERT(online <= ARRAY_SIZE(w));
	KT_ASSERT_EQ(smp_cpu_apic(0), lapic_id());
	for (unsigned n = 1; n < online; n++) {
		memset(&w[n], 0, sizeof(w[n]));
		KT_ASSERT(atomic_load_explicit(&kt_aps[n].alive, memory_order_acquire));
		KT_ASSERT(kt_smp_call(n, whoami, &w[n]));
		KT_ASSERT_EQ(w[n].number, n);
		KT_ASSERT_EQ(w[n].hwid, smp_cpu_apic(n));
		KT_ASSERT_EQ(w[n].lapic, smp_cpu_apic(n));
		KT_ASSERT(w[n].on_own_stack);
		KT_ASSERT(w[n].gs_self);
		KT_ASSERT(w[n].cpu != this_cpu());
		for (unsigned m = 1; m < n; m++) {
			KT_ASSERT(w[m].cpu != w[n].cpu);
			KT_ASSERT(w[m].hwid != w[n].hwid);
		}
	}
}

/* ---- one clock for every core ------------------------------------------------ */

#define KT_CLOCK_ROUNDS	100

static void read_clock(void *arg)
{
	*(uint64_t *)arg = kt_now_ns();
}

/*
 * The global timer is turned by every core on arch_clock(): each AP's
 * reading must fall between the boot core's readings before the request
 * and after the answer (TSCs in step, same origin and rate everywhere).
 */
KTEST(smp_clock_agrees_across_cores)
{
	for (unsigned n = 1; n < smp_cpus_online(); n++)
		for (unsigned i = 0; i < KT_CLOCK_ROUNDS; i++) {
			uint64_t before = kt_now_ns(), ap = 0, after;

			KT_ASSERT(kt_smp_call(n, read_clock, &ap));
			after = kt_now_ns();
			KT_ASSERT(before <= ap);
			KT_ASSERT(ap <= after);
		}
}

/* ---- the LAPIC timer ---------------------------------------------------------- */

/* arch_wait_for_interrupt() until the armed deadline has passed (the
 * timer disarmed) or limit_ns; true if it did.  Interrupts off after. */
static bool wait_until_disarmed(uint64_t limit_ns)
{
	uint64_t t0 = kt_now_ns();

	arch_irq_disable();
	while (this_cpu()->timer_deadline != UINT64_MAX) {
		if (kt_now_ns() - t0 > limit_ns)
			return false;
		arch_wait_for_interrupt();
		arch_irq_disable();
	}
	return true;
}

KTEST(lapic_timer_fires_at_deadline)
{
	uint64_t fired = lapic_timer_fired();
	uint64_t t0 = kt_now_ns(), deadline = t0 + 2 * NS_PER_MS, t1;

	arch_irq_disable();
	arch_timer_arm(deadline);
	KT_ASSERT(wait_until_disarmed(500 * NS_PER_MS));
	t1 = kt_now_ns();
	log_info("kt_smp: a 2 ms deadline ended the wait after %llu us (%s timer, "
		 "interrupt %llu us early, then polled)",
		 (unsigned long long)((t1 - t0) / NS_PER_US),
		 lapic_tsc_deadline() ? "TSC-deadline" : "one-shot",
		 (unsigned long long)(lapic_timer_early_ns() / NS_PER_US));
	KT_ASSERT(t1 >= deadline);
	/* The hardware interrupt came (early), then the rest was polled. */
	KT_ASSERT_EQ(lapic_timer_fired(), fired + 1);
}

KTEST(lapic_timer_past_deadline_fires_at_once)
{
	uint64_t fired = lapic_timer_fired();
	uint64_t t0 = kt_now_ns();

	arch_irq_disable();
	arch_timer_arm(t0 > 1 ? t0 - 1 : 0);
	KT_ASSERT(wait_until_disarmed(500 * NS_PER_MS));
	/* "At once": a hardware interrupt, well within 50 ms even on TCG. */
	KT_ASSERT(kt_now_ns() - t0 < 50 * NS_PER_MS);
	KT_ASSERT_EQ(lapic_timer_fired(), fired + 1);
}

KTEST(lapic_timer_disarm)
{
	uint64_t fired = lapic_timer_fired();
	uint64_t t0 = kt_now_ns();

	/* Far enough that the (early) interrupt cannot already be pending. */
	arch_timer_arm(t0 + 50 * NS_PER_MS);
	arch_timer_arm(UINT64_MAX);
	KT_ASSERT_EQ(this_cpu()->timer_deadline, UINT64_MAX);
	/* Interrupts on past the deadline: nothing may fire. */
	arch_irq_enable();
	while (kt_now_ns() - t0 < 60 * NS_PER_MS)
		arch_cpu_relax();
	arch_irq_disable();
	KT_ASSERT_EQ(lapic_timer_fired(), fired);
}

/* ---- a legacy IRQ through the I/O APIC ------------------------------------- */

#define PIT_CH0_DATA	0x40
#define PIT_CMD		0x43
#define   PIT_CH0_LOHI_MODE0 0x30	/* channel 0, lo/hi byte, mode 0 */
#define PIT_HZ		1193182u
#define PIT_COUNT_1MS	(PIT_HZ / 1000)

static atomic_uint pit_irqs;

static void pit_irq(void *arg)
{
	(void)arg;
	atomic_fetch_add_explicit(&pit_irqs, 1, memory_order_relaxed);
}

KTEST(ioapic_routes_pit_irq0_through_override)
{
	const struct acpi_info *info = acpi_get();
	uint64_t t0;

	if (info->nioapics == 0) {
		/* An explicit failure, not a skip: the test machine has one. */
		KT_ASSERT(info->nioapics > 0);
	}
	/* Stop the firmware's periodic channel 0 first: writing the mode
	 * drives OUT low and the count waits for its new value. */
	outb(PIT_CMD, PIT_CH0_LOHI_MODE0);
	KT_ASSERT_EQ(irq_register(VECTOR_IOAPIC_IRQ(ISA_IRQ_PIT), pit_irq, NULL), 0);
	KT_ASSERT_EQ(irq_register(VECTOR_IOAPIC_IRQ(ISA_IRQ_PIT), pit_irq, NULL), -EBUSY);
	KT_ASSERT_EQ(ioapic_route_irq(ISA_IRQ_PIT, VECTOR_IOAPIC_IRQ(ISA_IRQ_PIT),
				      lapic_id()), 0);
	KT_ASSERT_EQ(ioapic_route_irq(ISA_IRQ_PIT, 8, lapic_id()), -EINVAL);
	/* Mode 0: OUT rises once at terminal count -> one edge, one IRQ. */
	outb(PIT_CH0_DATA, PIT_COUNT_1MS & 0xff);
	outb(PIT_CH0_DATA, PIT_COUNT_1MS >> 8);
	t0 = kt_now_ns();
	arch_irq_enable();
	while (atomic_load_explicit(&pit_irqs, memory_order_relaxed) == 0 &&
	       kt_now_ns() - t0 < 500 * NS_PER_MS)
		arch_cpu_relax();
	arch_irq_disable();
	KT_ASSERT_EQ(ioapic_mask_irq(ISA_IRQ_PIT), 0);
	KT_ASSERT_EQ(atomic_load_explicit(&pit_irqs, memory_order_relaxed), 1);
	log_info("kt_smp: PIT IRQ 0 -> GSI %u -> vector 0x%x after %llu us",
		 acpi_irq_override(info, ISA_IRQ_PIT) ?
		 acpi_irq_override(info, ISA_IRQ_PIT)->gsi : ISA_IRQ_PIT,
		 VECTOR_IOAPIC_IRQ(ISA_IRQ_PIT),
		 (unsigned long long)((kt_now_ns() - t0) / NS_PER_US));
}

/* ---- a malformed MADT ------------------------------------------------------- */

static struct acpi_info kt_info;

#define SDT_CHECKSUM_OFF	9	/* u8 in every ACPI table header */
#define MADT_FIRST_ENTRY_OFF	44	/* after the header, LAPIC address, flags */
#define MADT_ENTRY_LEN_OFF	1	/* u8 type, u8 length */

/* Corrupt a copy of the machine's MADT with `how`, re-parse, expect one core. */
static void reparse_corrupted(void (*how)(uint8_t *t, size_t len))
{
	const struct acpi_info *real = acpi_get();
	uint8_t *copy = kmalloc(real->madt_len);

	KT_ASSERT(copy != NULL);
	memcpy(copy, real->madt, real->madt_len);
	KT_ASSERT_EQ(acpi_load_madt(copy, real->madt_len, &kt_info), 0);
	KT_ASSERT_EQ(kt_info.ncpus, real->ncpus);
	how(copy, real->madt_len);
	KT_ASSERT(acpi_load_madt(copy, real->madt_len, &kt_info) < 0);
	KT_ASSERT(kt_info.error != NULL);
	KT_ASSERT_EQ(kt_info.ncpus, 1);
	KT_ASSERT_EQ(kt_info.cpus[0].apic_id, lapic_id());
	KT_ASSERT_EQ(kt_info.nioapics, 0);
	/* SMP bring-up on that description starts nobody. */
	KT_ASSERT_EQ(smp_init(&kt_info, kernel_ap_start), 1);
	kfree(copy);
}

static void flip_checksum(uint8_t *t, size_t len)
{
	(void)len;
	t[SDT_CHECKSUM_OFF] ^= 0x5a;
}

static void fix_checksum(uint8_t *t, size_t len)
{
	uint8_t s = 0;

	t[SDT_CHECKSUM_OFF] = 0;
	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + t[i]);
	t[SDT_CHECKSUM_OFF] = (uint8_t)-s;
}

/* First entry's length 0: a parser without checks loops forever. */
static void zero_entry_length(uint8_t *t, size_t len)
{
	t[MADT_FIRST_ENTRY_OFF + MADT_ENTRY_LEN_OFF] = 0;
	fix_checksum(t, len);
}

KTEST(acpi_malformed_madt_falls_back_to_one_core)
{
	KT_ASSERT(acpi_get()->madt != NULL);
	reparse_corrupted(flip_checksum);
	reparse_corrupted(zero_entry_length);
}

/* ---- an AP that does not answer ------------------------------------------ */

#define KT_ABSENT_APIC	200	/* no such processor in QEMU's machine */

KTEST(smp_silent_ap_is_skipped)
{
	unsigned online = smp_cpus_online();
	uint64_t t0 = kt_now_ns();

	kt_info = *acpi_get();
	kt_info.ncpus = 2;
	kt_info.cpus[0] = (struct acpi_cpu){ .apic_id = lapic_id(), .enabled = true };
	kt_info.cpus[1] = (struct acpi_cpu){ .apic_id = KT_ABSENT_APIC, .enabled = true };
	/* INIT-SIPI-SIPI into the void: logged after the timeout, skipped. */
	KT_ASSERT_EQ(smp_init(&kt_info, kernel_ap_start), online);
	KT_ASSERT_EQ(smp_cpus_online(), online);
	KT_ASSERT(kt_now_ns() - t0 >= (uint64_t)SMP_AP_TIMEOUT_MS * NS_PER_MS);
}

/*
 * An x2APIC MADT entry with an id an xAPIC cannot address (300): in
 * xAPIC mode it is skipped before any IPI (an INIT would reach apic
 * 300 & 0xff = 44), so at once, not after the silent-AP timeout.
 */
KTEST(smp_id_beyond_xapic_is_skipped)
{
	unsigned online = smp_cpus_online();
	uint64_t t0 = kt_now_ns();

	kt_info = *acpi_get();
	kt_info.ncpus = 2;
	kt_info.cpus[0] = (struct acpi_cpu){ .apic_id = lapic_id(), .enabled = true };
	kt_info.cpus[1] = (struct acpi_cpu){ .apic_id = KT_X2APIC_ONLY_ID, .enabled = true };
	KT_ASSERT_EQ(smp_init(&kt_info, kernel_ap_start), online);
	KT_ASSERT_EQ(smp_cpus_online(), online);
	if (!lapic_x2apic())
		KT_ASSERT(kt_now_ns() - t0 < (uint64_t)SMP_AP_TIMEOUT_MS * NS_PER_MS / 2);
}

/* ---- wakeup IPIs: wake-to-run latency ------------------------------------ */

static uint64_t kt_lat[KT_PINGS];

KTEST(smp_wake_ipi_latency)
{
	unsigned n = smp_cpus_online() - 1;	/* the last AP */
	struct kt_ap *ap = &kt_aps[n];
	struct trapstat before = this_cpu()->trapstat;

	KT_ASSERT(smp_cpus_online() >= 2);
	for (unsigned i = 0; i < KT_PINGS; i++) {
		unsigned done = atomic_load_explicit(&ap->pings_done, memory_order_relaxed);
		uint64_t t0 = kt_now_ns();

		/* Wait for it to be (about to be) asleep, then a little more. */
		while (!atomic_load_explicit(&ap->idle, memory_order_seq_cst))
			KT_ASSERT(kt_now_ns() - t0 < KT_WAIT_NS);
		t0 = kt_now_ns();
		while (kt_now_ns() - t0 < KT_SETTLE_NS)
			arch_cpu_relax();
		t0 = kt_now_ns();
		/* release: pairs with the AP's acquire exchange of ping. */
		atomic_store_explicit(&ap->ping, true, memory_order_release);
		arch_wake(n);
		KT_ASSERT(wait_change(&ap->pings_done, done));
		kt_lat[i] = ap->ping_seen_ns > t0 ? ap->ping_seen_ns - t0 : 0;
	}
	sort_u64(kt_lat, KT_PINGS);
	/* A waiting core halt-polls first (idle.c): the wakeups that found
	 * it in HLT took an IPI, the others none. */
	log_info("kt_smp: wake-to-run latency over %u wakeups of waiting cpu%u "
		 "(%llu by IPI to HLT, %llu found it polling): median %llu ns, "
		 "p99 %llu ns, max %llu ns", KT_PINGS, n,
		 (unsigned long long)(this_cpu()->trapstat.ipi - before.ipi),
		 (unsigned long long)(this_cpu()->trapstat.ipi_saved - before.ipi_saved),
		 (unsigned long long)kt_lat[KT_PINGS / 2],
		 (unsigned long long)kt_lat[KT_PINGS * 99 / PERCENT],
		 (unsigned long long)kt_lat[KT_PINGS - 1]);
	KT_ASSERT(kt_lat[KT_PINGS / 2] > 0);
}
