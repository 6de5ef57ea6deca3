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
 * cores run (there is no TLB shootdown).  Start-up follows the SDM: INIT
 * (to every AP at once), 10 ms, then per AP a STARTUP, 200 us, and a
 * second STARTUP only if the AP has not entered the trampoline; the
 * delays are TSC spins on the calibrated clock.  An AP that faults before
 * it loads the kernel's IDT lands in the trampoline's exception stub,
 * which leaves vector, error code, IP and CR2 in the parameter block:
 * the boot core logs them and skips that AP.  The trampoline page is made
 * executable for the kernel tables (it runs there between enabling paging
 * and its jump to kernel text) and is left so; nothing else uses low
 * memory.  Reference: Intel SDM vol. 3 sections 8.4.4.1 (INIT-SIPI-SIPI)
 * and 8.4.4.2, Linux smpboot.c.
 */
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "arch/x86_64/acpi.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/idle.h"
#include "arch/x86_64/lapic.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/paging.h"
#include "arch/x86_64/smp.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/trapstat.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "clock.h"
#include "config.h"
#include "kmalloc.h"
#include "lib/log.h"
#include "lib/string.h"
#include "lib/trace.h"
#include "panic.h"

/* Must match boot/trampoline.asm. */
#define TRAMPOLINE_PA		0x8000u
#define TRAMPOLINE_DATA_PA	(TRAMPOLINE_PA + PAGE_SIZE)
#define TRAMPOLINE_SIPI_PAGE	(TRAMPOLINE_PA >> PAGE_SHIFT)

#define INIT_DELAY_US		10000	/* INIT -> first STARTUP (SDM) */
#define SIPI_DELAY_US		200	/* between STARTUPs (SDM) */
#define CR3_32BIT_LIMIT		(1ull << 32)	/* the trampoline loads CR3 in 32-bit mode */

/* The parameter block at TRAMPOLINE_DATA_PA (offsets in trampoline.asm). */
struct trampoline_data {
	uint32_t started;	/* set by the AP in real mode */
	uint32_t cr3;
	uint32_t efer;		/* bits the AP sets in EFER */
	uint32_t fault_test;	/* 32: the AP executes ud2 in 32-bit code */
	uint64_t stack;
	uint64_t entry;
	uint64_t arg;
	/* Written by the trampoline's exception stub, vector last. */
	uint32_t fault_vector;	/* vector + 1; 0: no fault */
	uint32_t fault_mode;	/* 32 or 64 (bits) */
	uint64_t fault_error;
	uint64_t fault_ip;
	uint64_t fault_cr2;
};
_Static_assert(offsetof(struct trampoline_data, fault_test) == 12, "D_FAULT_TEST");
_Static_assert(offsetof(struct trampoline_data, stack) == 16, "D_STACK");
_Static_assert(offsetof(struct trampoline_data, entry) == 24, "D_ENTRY");
_Static_assert(offsetof(struct trampoline_data, arg) == 32, "D_ARG");
_Static_assert(offsetof(struct trampoline_data, fault_vector) == 40, "D_FAULT_VECTOR");
_Static_assert(offsetof(struct trampoline_data, fault_mode) == 44, "D_FAULT_MODE");
_Static_assert(offsetof(struct trampoline_data, fault_error) == 48, "D_FAULT_ERROR");
_Static_assert(offsetof(struct trampoline_data, fault_ip) == 56, "D_FAULT_IP");
_Static_assert(offsetof(struct trampoline_data, fault_cr2) == 64, "D_FAULT_CR2");

/*
 * After smp_plant_ap_faults() (kmain does it for `ap_fault` on the
 * command line: tests of the early exception stub, tests/kernel/smp-check
 * --ap-fault), the first AP started faults in 32-bit code (the trampoline
 * executes ud2: #UD), the second in 64-bit code (its entry is address 0,
 * unmapped: #PF).
 */
enum ap_fault_test { AP_FAULT_NONE, AP_FAULT_32, AP_FAULT_64 };
#define FAULT_TEST_32		32

extern const uint8_t smp_trampoline_start[], smp_trampoline_end[];

/* One per started AP; written by the boot core before the INIT. */
struct smp_ap {
	struct cpu *cpu;
	unsigned number;
	uint32_t apic_id;
	struct cpu_stack stack;
	struct cpu_stack ist[IST_COUNT];
	enum ap_fault_test fault_test;
	atomic_bool online;	/* release by the AP; acquire by the boot core */
};

static struct smp_ap aps[MAX_CORES];
static unsigned aps_used = 1;		/* records are never reused */
static uint32_t cpu_apic[MAX_CORES];	/* by bring-up number */
static atomic_uint cpus_online = 1;
static atomic_bool stopping;
/* What each AP runs last (smp_init's argument); set before the first INIT. */
static void (*ap_start_fn)(unsigned number);
/* smp_plant_ap_faults(): the next smp_init()'s first two APs fault. */
static bool fault_tests;

/* Runtime slot -> its core (NULL: not bound).  Relaxed: a slot is bound
 * by its core before the runtime lets anyone see it idle (rt's idle bit
 * RMWs order the rest). */
static _Atomic(struct cpu *) slot_cpu[MAX_CORES];

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

void smp_bind(unsigned index, struct cpu *c)
{
	if (index >= MAX_CORES)
		panic("smp_bind: slot %u beyond %u", index, MAX_CORES);
	atomic_store_explicit(&slot_cpu[index], c, memory_order_relaxed);
}

bool smp_slot_apic(unsigned index, uint32_t *apic_id)
{
	struct cpu *c;

	if (index >= MAX_CORES)
		return false;
	c = atomic_load_explicit(&slot_cpu[index], memory_order_relaxed);
	if (c == NULL)
		return false;
	*apic_id = c->hwid;
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
	struct cpu *c;

	if (index >= MAX_CORES)
		panic("arch_wake: slot %u beyond %u", index, MAX_CORES);
	c = atomic_load_explicit(&slot_cpu[index], memory_order_relaxed);
	if (c == NULL)
		panic("arch_wake: slot %u is bound to no core", index);
	if (smp_wake_cpu(c))
		trace_event(TRACE_IPI, index, 0, 0);
}

bool smp_wake_cpu(struct cpu *c)
{
	/* The caller runs, so it is not asleep: nothing to send. */
	if (c == this_cpu())
		return false;
	/* Polling, not waiting yet, or already woken: no IPI. */
	if (!idle_kick(c)) {
		TRAPSTAT_INC(ipi_saved);
		return false;
	}
	lapic_send_ipi(c->hwid, VECTOR_WAKE);
	return true;
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

/* Log what the trampoline's exception stub left in the block. */
static void ap_fault_report(const struct smp_ap *ap,
			    volatile struct trampoline_data *d)
{
	unsigned vector = d->fault_vector - 1;

	log_error("smp: apic %u faulted in its start-up code (%u-bit), before "
		  "its IDT: vector %u (%s), error code 0x%llx, ip 0x%llx, "
		  "cr2 0x%llx; it halts, skipped", ap->apic_id, d->fault_mode,
		  vector, trap_name(vector),
		  (unsigned long long)d->fault_error,
		  (unsigned long long)d->fault_ip,
		  (unsigned long long)d->fault_cr2);
}

/*
 * STARTUP, 200 us, a second STARTUP only if the AP has not entered the
 * trampoline, then wait; true when the AP reported itself online.  The
 * AP took its INIT (and the 10 ms after it) in smp_init().
 */
static bool ap_start(struct smp_ap *ap)
{
	volatile struct trampoline_data *d =
		(volatile struct trampoline_data *)(uintptr_t)TRAMPOLINE_DATA_PA;
	uint64_t t0, limit = tsc_hz() / US_PER_MS * SMP_AP_TIMEOUT_MS;

	d->started = 0;
	d->fault_vector = 0;
	d->stack = ap->stack.top;
	d->entry = ap->fault_test == AP_FAULT_64 ? 0 : (uint64_t)(uintptr_t)ap_entry;
	d->fault_test = ap->fault_test == AP_FAULT_32 ? FAULT_TEST_32 : 0;
	d->arg = (uint64_t)(uintptr_t)ap;
	/* The block is plain memory written before the IPIs: x86 keeps
	 * stores in order, and the ICR write is after them. */
	atomic_signal_fence(memory_order_seq_cst);
	lapic_send_startup(ap->apic_id, TRAMPOLINE_SIPI_PAGE);
	delay_us(SIPI_DELAY_US);
	if (!d->started) {
		lapic_send_startup(ap->apic_id, TRAMPOLINE_SIPI_PAGE);
		delay_us(SIPI_DELAY_US);
	}
	t0 = rdtsc();
	while (!atomic_load_explicit(&ap->online, memory_order_acquire)) {
		if (d->fault_vector) {
			ap_fault_report(ap, d);
			return false;
		}
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

void smp_plant_ap_faults(void)
{
	fault_tests = true;
}

unsigned smp_init(const struct acpi_info *info, void (*entry)(unsigned))
{
	uint32_t self = lapic_id();
	unsigned n = smp_cpus_online(), first = aps_used, tests = 0;

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
		const char *why;

		if (c->apic_id == self)
			continue;
		if ((why = acpi_cpu_unreachable(c, lapic_x2apic())) != NULL) {
			log_warn("smp: apic %u %s; skipped", c->apic_id, why);
			continue;
		}
		aps[aps_used].apic_id = c->apic_id;
		aps[aps_used].fault_test = fault_tests && tests < AP_FAULT_64 ?
					   (enum ap_fault_test)++tests : AP_FAULT_NONE;
		if (!ap_alloc(&aps[aps_used])) {
			log_warn("smp: out of memory for the AP with apic %u; "
				 "not starting more", c->apic_id);
			break;
		}
		aps_used++;
	}
	/*
	 * INIT every AP, then the SDM's 10 ms once for all of them: each
	 * waits for its STARTUP, which ap_start() sends one AP at a time
	 * (they share the trampoline's parameter block).
	 */
	for (unsigned k = first; k < aps_used; k++)
		lapic_send_init(aps[k].apic_id);
	if (first < aps_used)
		delay_us(INIT_DELAY_US);
	/* A silent AP keeps its record and stacks: it might still run. */
	for (unsigned k = first; k < aps_used && n < MAX_CORES; k++) {
		aps[k].number = n;
		if (ap_start(&aps[k]))
			cpu_apic[n++] = aps[k].apic_id;
	}
	log_info("smp: %u of %u cores online", smp_cpus_online(), info->ncpus);
	return smp_cpus_online();
}
