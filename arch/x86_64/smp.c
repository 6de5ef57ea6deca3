/*
 * smp.c - application processor start-up, the slot -> APIC id table
 * behind arch_wake(), and stopping the other cores on panic.
 *
 * Bring-up is serial: the trampoline's parameter block (one page above the
 * code) holds one AP's stack and argument at a time, and the boot core
 * waits for each AP to report itself online (an acquire load of its flag,
 * paired with the AP's release store) before starting the next.  Each AP
 * gets a struct cpu, a KSTACK_SIZE stack and three IST stacks, all from
 * kstack_alloc() (so each has an unmapped guard page), all allocated
 * before the first INIT so no page-table change happens while other
 * cores run (there is no TLB shootdown).  The
 * trampoline page is made executable for the kernel tables (it runs there
 * between enabling paging and its jump to kernel text) and is left so;
 * nothing else uses low memory.  Delays are TSC spins.  Reference: Intel
 * SDM vol. 3 section 8.4.4.1 (INIT-SIPI-SIPI), Linux smpboot.c.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "clock.h"
#include "config.h"
#include "kmalloc.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"


/* Must match boot/trampoline.asm. */
#define TRAMPOLINE_PA		0x8000u
#define TRAMPOLINE_DATA_PA	(TRAMPOLINE_PA + PAGE_SIZE)
#define TRAMPOLINE_SIPI_PAGE	(TRAMPOLINE_PA >> PAGE_SHIFT)

#define INIT_DELAY_US		10000	/* INIT -> first STARTUP (SDM) */
#define SIPI_DELAY_US		200	/* between STARTUPs (SDM) */
#define CR3_32BIT_LIMIT		(1ull << 32)	/* the trampoline loads CR3 in 32-bit mode */
#define MAX_XAPIC_ID		0xfe	/* 0xff is the broadcast id */

/* The parameter block at TRAMPOLINE_DATA_PA (offsets in trampoline.asm). */
struct trampoline_data {
	uint32_t started;	/* set by the AP in real mode */
	uint32_t cr3;
	uint32_t efer;		/* bits the AP sets in EFER */
	uint32_t reserved;
	uint64_t stack;
	uint64_t entry;
	uint64_t arg;
};
_Static_assert(offsetof(struct trampoline_data, stack) == 16, "D_STACK");
_Static_assert(offsetof(struct trampoline_data, entry) == 24, "D_ENTRY");
_Static_assert(offsetof(struct trampoline_data, arg) == 32, "D_ARG");

extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];

/* One per started AP; written by the boot core before the INIT. */
struct smp_ap {
	struct cpu *cpu;
	unsigned number;
	uint32_t apic_id;
	struct cpu_stack stack;
	struct cpu_stack ist[IST_COUNT];
	atomic_bool online;	/* release by the AP; acquire by the boot core */
};

static struct smp_ap aps[MAX_CORES];
static unsigned aps_used = 1;		/* records are never reused */
static uint32_t cpu_apic[MAX_CORES];	/* by bring-up number */
static atomic_uint cpus_online = 1;
static atomic_bool stopping;
/* What each AP runs last (smp_init's argument); set before the first INIT. */
static void (*ap_start_fn)(unsigned number);

/* Runtime slot -> APIC id + 1 (0: not bound).  Relaxed: a slot is bound
 * by its core before the runtime lets anyone see it idle (rt's idle bit
 * RMWs order the rest). */
static _Atomic uint32_t slot_apic[MAX_CORES];

static void delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc(), cycles = tsc_hz() * us / US_PER_SEC;

	while (rdtsc() - t0 < cycles)
		__builtin_ia32_pause();
}

unsigned smp_cpus_online(void)
{
	return atomic_load_explicit(&cpus_online, memory_order_relaxed);
}

uint32_t smp_cpu_apic(unsigned n)
{
	return n < MAX_CORES ? cpu_apic[n] : 0;
}

void smp_bind(unsigned index, uint32_t apic_id)
{
	if (index >= MAX_CORES)
		panic("smp_bind: slot %u beyond %u", index, MAX_CORES);
	atomic_store_explicit(&slot_apic[index], apic_id + 1, memory_order_relaxed);
}

bool smp_slot_apic(unsigned index, uint32_t *apic_id)
{
	uint32_t v;

	if (index >= MAX_CORES)
		return false;
	v = atomic_load_explicit(&slot_apic[index], memory_order_relaxed);
	if (v == 0)
		return false;
	*apic_id = v - 1;
	return true;
}

int smp_number_of_apic(uint32_t apic_id)
{
	unsigned n = smp_cpus_online();

	for (unsigned i = 0; i < n && i < MAX_CORES; i++)
		if (cpu_apic[i] == apic_id)
			return (int)i;
	return -1;
}

void smp_wake(unsigned index)
{
	uint32_t v;

	if (index >= MAX_CORES)
		panic("arch_wake: slot %u beyond %u", index, MAX_CORES);
	v = atomic_load_explicit(&slot_apic[index], memory_order_relaxed);
	if (v == 0)
		panic("arch_wake: slot %u is bound to no core", index);
	/* The caller runs, so it is not asleep: nothing to send. */
	if (v - 1 == this_cpu()->hwid)
		return;
	lapic_send_ipi(v - 1, VECTOR_WAKE);
}

void smp_stop_others(void)
{
	bool was = atomic_exchange_explicit(&stopping, true, memory_order_acq_rel);

	/* acq_rel: the NMI'd cores' acquire load in smp_stop_requested()
	 * sees it.  Only the first caller sends the NMIs. */
	if (!was && smp_cpus_online() > 1)
		lapic_send_nmi_others();
}

bool smp_stop_requested(void)
{
	/* acquire: pairs with the exchange in smp_stop_others(). */
	return atomic_load_explicit(&stopping, memory_order_acquire);
}

/* The AP's first C code, on its own stack, interrupts off, kernel tables. */
static _Noreturn void ap_entry(struct smp_ap *ap)
{
	cpu_init_ap(ap->cpu, ap->number, ap->stack, ap->ist);
	lapic_init_cpu();
	log_info("smp: cpu%u online (apic %u)", ap->number, lapic_id());
	atomic_fetch_add_explicit(&cpus_online, 1, memory_order_relaxed);
	/* release: the boot core may reuse the trampoline block after this. */
	atomic_store_explicit(&ap->online, true, memory_order_release);
	ap_start_fn(ap->number);
	panic("ap_entry: cpu%u's entry returned", ap->number);
}

/* Stacks and the per-core block for one AP; false if out of memory. */
static bool ap_alloc(struct smp_ap *ap)
{
	ap->cpu = kmalloc_aligned(sizeof(struct cpu), CACHE_LINE);
	if (!ap->cpu || kstack_alloc(&ap->stack) != 0)
		return false;
	memset(ap->cpu, 0, sizeof(*ap->cpu));
	for (unsigned i = 0; i < IST_COUNT; i++)
		if (kstack_alloc(&ap->ist[i]) != 0)
			return false;
	return true;
}

/* INIT-SIPI-SIPI and wait; true when the AP reported itself online. */
static bool ap_start(struct smp_ap *ap)
{
	volatile struct trampoline_data *d =
		(volatile struct trampoline_data *)(uintptr_t)TRAMPOLINE_DATA_PA;
	uint64_t t0, limit = tsc_hz() / US_PER_MS * SMP_AP_TIMEOUT_MS;

	d->started = 0;
	d->stack = ap->stack.top;
	d->entry = (uint64_t)(uintptr_t)ap_entry;
	d->arg = (uint64_t)(uintptr_t)ap;
	/* The block is plain memory written before the IPIs: x86 keeps
	 * stores in order, and the ICR write is after them. */
	atomic_signal_fence(memory_order_seq_cst);
	lapic_send_init(ap->apic_id);
	delay_us(INIT_DELAY_US);
	lapic_send_startup(ap->apic_id, TRAMPOLINE_SIPI_PAGE);
	delay_us(SIPI_DELAY_US);
	if (!d->started) {
		lapic_send_startup(ap->apic_id, TRAMPOLINE_SIPI_PAGE);
		delay_us(SIPI_DELAY_US);
	}
	t0 = rdtsc();
	while (!atomic_load_explicit(&ap->online, memory_order_acquire)) {
		if (rdtsc() - t0 > limit) {
			log_warn("smp: apic %u did not come online within %u ms "
				 "(trampoline %s); skipped", ap->apic_id,
				 SMP_AP_TIMEOUT_MS, d->started ? "entered" : "not entered");
			return false;
		}
		__builtin_ia32_pause();
	}
	return true;
}

/* Copy the trampoline below 1 MiB and fill the constant parameters. */
static bool trampoline_install(void)
{
	volatile struct trampoline_data *d =
		(volatile struct trampoline_data *)(uintptr_t)TRAMPOLINE_DATA_PA;
	size_t len = (size_t)(smp_trampoline_end - smp_trampoline_start);
	uint64_t cr3 = read_cr3();

	if (cr3 >= CR3_32BIT_LIMIT || len > PAGE_SIZE) {
		log_warn("smp: page tables above 4 GiB or trampoline too big; one core");
		return false;
	}
	if (paging_protect(TRAMPOLINE_PA, 2 * PAGE_SIZE, PAGE_RW) != 0)
		return false;
	memcpy((void *)(uintptr_t)TRAMPOLINE_PA, smp_trampoline_start, len);
	/* The AP executes it with the kernel's tables between enabling
	 * paging and jumping to kernel text: it must not be NX. */
	if (paging_protect(TRAMPOLINE_PA, PAGE_SIZE, PAGE_RX) != 0)
		return false;
	d->cr3 = (uint32_t)cr3;
	d->efer = EFER_LME | (cpu_has_nx() ? EFER_NXE : 0);
	return true;
}

unsigned smp_init(const struct acpi_info *info, void (*entry)(unsigned))
{
	uint32_t self = lapic_id();
	unsigned n = smp_cpus_online(), first = aps_used;

	ap_start_fn = entry;
	cpu_apic[0] = self;
	if (info->ncpus <= 1) {
		log_info("smp: one core (apic %u)", self);
		return 1;
	}
	if (!trampoline_install())
		return 1;
	/* First every AP's memory: unmapping stack guards changes the page
	 * tables, and there is no TLB shootdown once other cores run. */
	for (unsigned i = 0; i < info->ncpus && aps_used < MAX_CORES; i++) {
		const struct acpi_cpu *c = &info->cpus[i];

		if (c->apic_id == self)
			continue;
		if (c->apic_id > MAX_XAPIC_ID && !lapic_x2apic()) {
			log_warn("smp: apic %u needs x2APIC mode; skipped", c->apic_id);
			continue;
		}
		aps[aps_used].apic_id = c->apic_id;
		if (!ap_alloc(&aps[aps_used])) {
			log_warn("smp: out of memory for the AP with apic %u; "
				 "not starting more", c->apic_id);
			break;
		}
		aps_used++;
	}
	/* A silent AP keeps its record and stacks: it might still run. */
	for (unsigned k = first; k < aps_used && n < MAX_CORES; k++) {
		aps[k].number = n;
		if (ap_start(&aps[k]))
			cpu_apic[n++] = aps[k].apic_id;
	}
	log_info("smp: %u of %u cores online", smp_cpus_online(), info->ncpus);
	return smp_cpus_online();
}
