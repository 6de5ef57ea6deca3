/*
 * shell_kernel.c - the kernel's shell: its command table, the serial
 * input, and the shell task, started by kernel_spawn_initial_tasks().
 *
 * Portable commands come from shell/ (builtins, rt_commands); the ones
 * that read the machine live here: dump heap, dump serial, dump arch
 * (cpuid, msr, cr, gdt, idt, apic), cpus, version, fault, halt.  Output
 * goes to the serial console.  `halt` stops every core (rt_core_stop,
 * then the core parks in `cli; hlt`, since kernel_rt.c treats a return
 * from rt_core_run() as a bug) and, when the command line holds the word
 * `qemu-exit`, ends QEMU through the isa-debug-exit port.
 * Reference: Intel SDM vol. 2 (CPUID, RDMSR), vol. 3 chapters 2-3
 * (control registers, descriptors) and 11 (APIC).
 */
#include <stdatomic.h>
#include <stdint.h>

#include "arch.h"
#include "arch/x86_64/cpu.h"
#include "arch/x86_64/kernel_rt.h"
#include "arch/x86_64/kmain.h"
#include "arch/x86_64/mm.h"
#include "arch/x86_64/multiboot2.h"
#include "arch/x86_64/serial_rx.h"
#include "arch/x86_64/shell_traps.h"
#include "arch/x86_64/trap.h"
#include "arch/x86_64/tsc.h"
#include "arch/x86_64/x86.h"
#include "errno.h"
#include "kmalloc.h"
#include "lib/heap.h"
#include "lib/log.h"
#include "lib/string.h"
#include "panic.h"
#include "rt/rt.h"
#include "shell/builtins.h"
#include "shell/rt_commands.h"
#include "shell/task.h"
#include "timer/sleep.h"

#ifndef HYPHAE_VERSION
#define HYPHAE_VERSION "unknown"
#endif
#ifndef HYPHAE_BUILD_DATE
#define HYPHAE_BUILD_DATE __DATE__ " " __TIME__
#endif

#define HZ_PER_MHZ	1000000ull
#define HZ_PER_KHZ	1000ull

/* isa-debug-exit (QEMU -device isa-debug-exit,iobase=0xf4): QEMU exits
 * with status (value << 1) | 1. */
#define QEMU_EXIT_PORT	0xf4
#define QEMU_EXIT_OK	0
#define QEMU_EXIT_FLAG	"qemu-exit"

/* IA32_APIC_BASE and the xAPIC / x2APIC registers `dump arch apic` reads. */
#define MSR_APIC_BASE		0x1bu
#define   APIC_BASE_BSP		  (1ull << 8)
#define   APIC_BASE_X2APIC	  (1ull << 10)
#define   APIC_BASE_ENABLE	  (1ull << 11)
#define   APIC_BASE_ADDR_MASK	  0xffffff000ull
#define XAPIC_ID		0x20
#define XAPIC_VERSION		0x30
#define XAPIC_SVR		0xf0
#define   SVR_ENABLE		  (1u << 8)
#define XAPIC_LVT_LINT0		0x350
#define X2APIC_MSR_BASE		0x800u
#define X2APIC_MSR(off)		(X2APIC_MSR_BASE + ((off) >> 4))
#define XAPIC_ID_SHIFT		24
#define APIC_VERSION_MASK	0xffu
#define APIC_MAX_LVT_SHIFT	16	/* version register: LVT entries - 1 */
#define APIC_MAX_LVT_MASK	0xffu

/* Descriptor bits (SDM vol. 3 section 3.4.5). */
#define DESC_PRESENT		(1ull << 47)
#define DESC_S			(1ull << 44)	/* code/data, not system */
#define DESC_CODE		(1ull << 43)
#define DESC_LONG		(1ull << 53)
#define DESC_DPL_SHIFT		45
#define DESC_TYPE_SHIFT		40
#define DESC_TYPE_MASK		0xfull
#define DESC_TYPE_TSS_AVAIL	0x9
#define DESC_TYPE_TSS_BUSY	0xb
/* A system descriptor's base: bits 16-39 and 56-63, then the next slot. */
#define DESC_BASE_LO_SHIFT	16
#define DESC_BASE_LO_MASK	0xffffffull
#define DESC_BASE_MID_SHIFT	56
#define DESC_BASE_MID_POS	24
#define DESC_DPL_MASK		3u
#define IDT_GATE_BYTES		16
#define GATE_IST_MASK		0x7u
#define GATE_PRESENT		0x80u

/* Most time `halt` waits for the other cores. */
#define HALT_WAIT_NS		(1000ull * 1000 * 1000)
#define HALT_POLL_NS		(10ull * 1000 * 1000)

static struct shell_commands kernel_cmds;
static struct shell_input kernel_input;

static void console_out_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	arch_console_write(s, n);
}

static const struct shell_out console_out = { .write = console_out_write };

/* ---- dump heap, dump serial ------------------------------------------------ */

static int cmd_dump_heap(const struct shell_cmd *cmd, int argc, char **argv,
			 const struct shell_out *out)
{
	struct heap_stats st;

	(void)cmd;
	(void)argc;
	(void)argv;
	heap_stats(kmalloc_heap(), &st);
	shell_print_heap_stats(out, &st);
	return 0;
}

static int cmd_dump_serial(const struct shell_cmd *cmd, int argc, char **argv,
			   const struct shell_out *out)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "serial: COM1 receive via the %s: %llu interrupts, %llu bytes, "
		     "%llu dropped (ring of %u full), %llu UART overruns\n",
		     serial_rx_route(), (unsigned long long)serial_rx_irqs(),
		     (unsigned long long)serial_rx_bytes(),
		     (unsigned long long)shell_ring_dropped(&kernel_input.ring),
		     SHELL_RING_SIZE, (unsigned long long)serial_rx_overruns());
	return 0;
}

/* ---- dump arch ------------------------------------------------------------- */

static int parse_u32(const struct shell_cmd *cmd, const struct shell_out *out,
		     const char *s, uint32_t *v)
{
	uint64_t x;
	const char *why = "";

	if (shell_parse_u64(s, 0, UINT32_MAX, &x, &why) < 0)
		return shell_usage_error(out, cmd, "'%s': %s", s, why);
	*v = (uint32_t)x;
	return 0;
}

static int cmd_cpuid(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	uint32_t leaf = 0, sub = 0;
	struct cpuid_regs r;

	if (parse_u32(cmd, out, argv[1], &leaf) ||
	    (argc > 2 && parse_u32(cmd, out, argv[2], &sub)))
		return -EINVAL;
	r = cpuid(leaf, sub);
	shell_printf(out, "cpuid 0x%x.%u: eax=0x%08x ebx=0x%08x ecx=0x%08x edx=0x%08x\n",
		     leaf, sub, r.eax, r.ebx, r.ecx, r.edx);
	if (leaf == 0) {
		char vendor[13];

		memcpy(vendor, &r.ebx, 4);
		memcpy(vendor + 4, &r.edx, 4);
		memcpy(vendor + 8, &r.ecx, 4);
		vendor[12] = '\0';
		shell_printf(out, "  max leaf 0x%x, vendor \"%s\"\n", r.eax, vendor);
	}
	return 0;
}

/* MSRs every x86_64 CPU hyphae runs on has: reading another may #GP. */
static const struct {
	uint32_t num;
	const char *name;
} known_msrs[] = {
	{ 0x10, "IA32_TIME_STAMP_COUNTER" },
	{ MSR_APIC_BASE, "IA32_APIC_BASE" },
	{ 0xfe, "IA32_MTRRCAP" },
	{ 0x174, "IA32_SYSENTER_CS" },
	{ 0x175, "IA32_SYSENTER_ESP" },
	{ 0x176, "IA32_SYSENTER_EIP" },
	{ 0x277, "IA32_PAT" },
	{ 0x2ff, "IA32_MTRR_DEF_TYPE" },
	{ MSR_EFER, "IA32_EFER" },
	{ 0xc0000081u, "IA32_STAR" },
	{ 0xc0000082u, "IA32_LSTAR" },
	{ 0xc0000084u, "IA32_FMASK" },
	{ MSR_FS_BASE, "IA32_FS_BASE" },
	{ MSR_GS_BASE, "IA32_GS_BASE" },
	{ MSR_KERNEL_GS_BASE, "IA32_KERNEL_GS_BASE" },
};

static int cmd_msr(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	uint32_t num = 0;

	(void)argc;
	if (parse_u32(cmd, out, argv[1], &num))
		return -EINVAL;
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++) {
		if (known_msrs[i].num != num)
			continue;
		shell_printf(out, "msr 0x%x %s = 0x%016llx\n", num, known_msrs[i].name,
			     (unsigned long long)rdmsr(num));
		return 0;
	}
	shell_printf(out, "error: dump arch msr: 0x%x is not in the list of MSRs every "
		     "CPU has (reading an absent one faults); known:\n", num);
	for (size_t i = 0; i < ARRAY_SIZE(known_msrs); i++)
		shell_printf(out, "  0x%08x %s\n", known_msrs[i].num, known_msrs[i].name);
	return -EINVAL;
}

static void print_flags(const struct shell_out *out, uint64_t v,
			const char *const names[], unsigned n)
{
	for (unsigned b = 0; b < n; b++)
		if (names[b] && (v & (1ull << b)))
			shell_printf(out, " %s", names[b]);
	shell_puts(out, "\n");
}

static int cmd_cr(const struct shell_cmd *cmd, int argc, char **argv,
		  const struct shell_out *out)
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

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "cr0  = 0x%016llx", (unsigned long long)cr0);
	print_flags(out, cr0, cr0_bits, ARRAY_SIZE(cr0_bits));
	shell_printf(out, "cr2  = 0x%016llx (last page-fault address)\n",
		     (unsigned long long)read_cr2());
	shell_printf(out, "cr3  = 0x%016llx (page tables)\n",
		     (unsigned long long)read_cr3());
	shell_printf(out, "cr4  = 0x%016llx", (unsigned long long)cr4);
	print_flags(out, cr4, cr4_bits, ARRAY_SIZE(cr4_bits));
	shell_printf(out, "efer = 0x%016llx", (unsigned long long)efer);
	print_flags(out, efer, efer_bits, ARRAY_SIZE(efer_bits));
	return 0;
}

struct __packed desc_ptr {
	uint16_t limit;
	uint64_t base;
};

static int cmd_gdt(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	struct desc_ptr p;
	const uint64_t *gdt;
	unsigned n;

	(void)cmd;
	(void)argc;
	(void)argv;
	__asm__ volatile("sgdt %0" : "=m"(p));
	gdt = (const uint64_t *)(uintptr_t)p.base;
	n = (p.limit + 1u) / sizeof(uint64_t);
	shell_printf(out, "gdt on cpu%u: base 0x%llx, limit 0x%x (%u slots)\n",
		     arch_cpu_index(), (unsigned long long)p.base, p.limit, n);
	for (unsigned i = 0; i < n; i++) {
		uint64_t d = gdt[i];
		unsigned type = (unsigned)(d >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK;
		unsigned dpl = (unsigned)(d >> DESC_DPL_SHIFT) & DESC_DPL_MASK;

		if (!(d & DESC_PRESENT)) {
			shell_printf(out, "  %2u 0x%04x  0x%016llx  %s\n", i, i * 8,
				     (unsigned long long)d, d ? "not present" : "null");
			continue;
		}
		if (d & DESC_S) {
			shell_printf(out, "  %2u 0x%04x  0x%016llx  %s%s, DPL %u\n", i,
				     i * 8, (unsigned long long)d,
				     d & DESC_CODE ? "code" : "data",
				     (d & DESC_CODE) && (d & DESC_LONG) ? " (64-bit)" : "",
				     dpl);
		} else if ((type == DESC_TYPE_TSS_AVAIL || type == DESC_TYPE_TSS_BUSY) &&
			   i + 1 < n) {
			uint64_t base = ((d >> DESC_BASE_LO_SHIFT) & DESC_BASE_LO_MASK) |
					((d >> DESC_BASE_MID_SHIFT) << DESC_BASE_MID_POS) |
					(gdt[i + 1] << 32);

			shell_printf(out, "  %2u 0x%04x  0x%016llx  TSS (%s), base 0x%llx\n",
				     i, i * 8, (unsigned long long)d,
				     type == DESC_TYPE_TSS_BUSY ? "busy" : "available",
				     (unsigned long long)base);
			i++;	/* the upper half of the 16-byte descriptor */
		} else {
			shell_printf(out, "  %2u 0x%04x  0x%016llx  system type 0x%x\n",
				     i, i * 8, (unsigned long long)d, type);
		}
	}
	return 0;
}

static int cmd_idt(const struct shell_cmd *cmd, int argc, char **argv,
		   const struct shell_out *out)
{
	struct desc_ptr p;
	const uint8_t *idt;
	unsigned n, present = 0;

	(void)cmd;
	(void)argc;
	(void)argv;
	__asm__ volatile("sidt %0" : "=m"(p));
	idt = (const uint8_t *)(uintptr_t)p.base;
	n = (p.limit + 1u) / IDT_GATE_BYTES;
	for (unsigned v = 0; v < n; v++)
		present += (idt[v * IDT_GATE_BYTES + 5] & GATE_PRESENT) != 0;
	shell_printf(out, "idt: base 0x%llx, limit 0x%x: %u gates, %u present\n",
		     (unsigned long long)p.base, p.limit, n, present);
	shell_puts(out, "  exceptions on their own stack (IST):\n");
	for (unsigned v = 0; v < TRAP_EXCEPTIONS && v < n; v++) {
		unsigned ist = idt[v * IDT_GATE_BYTES + 4] & GATE_IST_MASK;

		if (ist)
			shell_printf(out, "    vector %2u %-24s IST %u\n", v,
				     trap_name(v), ist);
	}
	shell_printf(out, "  COM1 receive: vector 0x%x (PIC) / 0x%x (I/O APIC), "
		     "routed via the %s\n", SERIAL_RX_VECTOR_PIC,
		     SERIAL_RX_VECTOR_IOAPIC, serial_rx_route());
	return 0;
}

static int cmd_apic(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	uint64_t msr = rdmsr(MSR_APIC_BASE);
	uint64_t base = msr & APIC_BASE_ADDR_MASK;
	bool x2 = msr & APIC_BASE_X2APIC;
	uint32_t id, ver, svr, lint0;

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "IA32_APIC_BASE = 0x%llx: base 0x%llx,%s%s%s\n",
		     (unsigned long long)msr, (unsigned long long)base,
		     msr & APIC_BASE_ENABLE ? " enabled" : " disabled",
		     msr & APIC_BASE_BSP ? ", boot processor" : "",
		     x2 ? ", x2APIC mode" : ", xAPIC mode");
	shell_printf(out, "CPUID says x2APIC %s\n",
		     cpuid(1, 0).ecx & CPUID_1_ECX_X2APIC ? "supported" : "not supported");
	if (!(msr & APIC_BASE_ENABLE))
		return 0;
	if (x2) {
		id = (uint32_t)rdmsr(X2APIC_MSR(XAPIC_ID));
		ver = (uint32_t)rdmsr(X2APIC_MSR(XAPIC_VERSION));
		svr = (uint32_t)rdmsr(X2APIC_MSR(XAPIC_SVR));
		lint0 = (uint32_t)rdmsr(X2APIC_MSR(XAPIC_LVT_LINT0));
	} else {
		volatile const uint32_t *mmio = (volatile const uint32_t *)(uintptr_t)base;

		id = mmio[XAPIC_ID / 4] >> XAPIC_ID_SHIFT;
		ver = mmio[XAPIC_VERSION / 4];
		svr = mmio[XAPIC_SVR / 4];
		lint0 = mmio[XAPIC_LVT_LINT0 / 4];
	}
	shell_printf(out, "cpu%u: APIC id %u, version 0x%x (%u LVT entries), "
		     "SVR 0x%x (%s), LINT0 0x%x\n", arch_cpu_index(), id,
		     ver & APIC_VERSION_MASK,
		     ((ver >> APIC_MAX_LVT_SHIFT) & APIC_MAX_LVT_MASK) + 1, svr,
		     svr & SVR_ENABLE ? "software enabled" : "software disabled", lint0);
	return 0;
}

static const struct shell_cmd arch_subs[] = {
	{ .name = "cpuid", .help = "run CPUID", .usage = "dump arch cpuid LEAF [SUBLEAF]",
	  .run = cmd_cpuid, .min_args = 1, .max_args = 2 },
	{ .name = "msr", .help = "read a model-specific register",
	  .usage = "dump arch msr NUM", .run = cmd_msr, .min_args = 1, .max_args = 1 },
	{ .name = "cr", .help = "control registers CR0/2/3/4 and EFER",
	  .usage = "dump arch cr", .run = cmd_cr },
	{ .name = "gdt", .help = "this core's GDT", .usage = "dump arch gdt",
	  .run = cmd_gdt },
	{ .name = "idt", .help = "the IDT", .usage = "dump arch idt", .run = cmd_idt },
	{ .name = "apic", .help = "this core's local APIC", .usage = "dump arch apic",
	  .run = cmd_apic },
	{ 0 },
};

static const struct shell_cmd dump_extra[] = {
	{ .name = "heap", .help = "kernel heap: bytes used/free, per size class",
	  .usage = "dump heap", .run = cmd_dump_heap },
	{ .name = "serial", .help = "serial input: interrupts, bytes, drops",
	  .usage = "dump serial", .run = cmd_dump_serial },
	{ .name = "arch", .help = "x86_64 state: cpuid, msr, cr, gdt, idt, apic",
	  .usage = "dump arch cpuid|msr|cr|gdt|idt|apic ...", .subcmds = arch_subs },
	{ .name = "traps", .help = SHELL_TRAPS_HELP, .usage = SHELL_TRAPS_USAGE,
	  .run = shell_traps_run, .max_args = 1 },
	{ 0 },
};

/* ---- cpus, version, fault --------------------------------------------------- */

static int cmd_cpus(const struct shell_cmd *cmd, int argc, char **argv,
		    const struct shell_out *out)
{
	static const char *const states[] = {
		[RT_CORE_UNCLAIMED] = "unclaimed", [RT_CORE_RUNNING] = "running",
		[RT_CORE_IDLE] = "idle", [RT_CORE_STOPPED] = "stopped",
	};
	struct runtime *rt = shell_runtime();
	unsigned n = rt_active_cores(rt);
	uint64_t hz = tsc_hz();

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "%u cores; this is cpu%u\n", n, arch_cpu_index());
	shell_printf(out, "  %4s %7s %-9s %s\n", "cpu", "apic id", "state", "TSC");
	for (unsigned i = 0; i < n; i++) {
		struct rt_slot *s = &rt->slots[i];
		int st = atomic_load_explicit(&s->state, memory_order_relaxed);

		shell_printf(out, "  %4u %7u %-9s %llu.%03llu MHz\n", i,
			     (unsigned)s->hwid,
			     st >= 0 && st <= RT_CORE_STOPPED ? states[st] : "?",
			     (unsigned long long)(hz / HZ_PER_MHZ),
			     (unsigned long long)(hz % HZ_PER_MHZ / HZ_PER_KHZ));
	}
	return 0;
}

static int cmd_version(const struct shell_cmd *cmd, int argc, char **argv,
		       const struct shell_out *out)
{
	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "hyphae %s (x86_64), built %s with gcc %s\n",
		     HYPHAE_VERSION, HYPHAE_BUILD_DATE, __VERSION__);
	return 0;
}

static int cmd_fault(const struct shell_cmd *cmd, int argc, char **argv,
		     const struct shell_out *out)
{
	uint32_t x = 1, zero = 0;

	(void)cmd;
	(void)argc;
	(void)argv;
	shell_printf(out, "fault: dividing by zero on cpu%u (#DE)\n", arch_cpu_index());
	/* The asm hides the zero from the compiler, which may not fold it. */
	__asm__ volatile("xor %%edx, %%edx; divl %1" : "+a"(x) : "r"(zero) : "rdx");
	shell_printf(out, "fault: still here (%u)?\n", x);
	return -EIO;
}

/* ---- halt ---------------------------------------------------------------------- */

static atomic_uint cores_halted;

struct stopper {
	struct task task;
	unsigned target;	/* the slot whose core this task stops */
};

static enum poll stopper_poll(struct task *t, struct context *cx);

static const struct task_vtable stopper_vt = {
	.poll = stopper_poll,
	.name = "halt",
};

static enum poll stopper_poll(struct task *t, struct context *cx)
{
	struct stopper *s = container_of(t, struct stopper, task);
	struct rt_core *core = rt_current_core();
	struct runtime *rt = shell_runtime();

	(void)cx;
	if (core->slot->index != s->target) {
		/* Stolen on the way: send a fresh one to the target. */
		struct stopper init = { .target = s->target };

		if (sched_spawn(&rt->slots[s->target].sched, &stopper_vt, &init,
				sizeof(init), NULL) != 0)
			log_warn("halt: cannot resend the stopper of cpu%u", s->target);
		return POLL_READY;
	}
	rt_core_stop(core);
	/* relaxed: a count the halting core polls; nothing else is published. */
	atomic_fetch_add_explicit(&cores_halted, 1, memory_order_relaxed);
	halt_forever();
}

static bool cmdline_has(const char *word)
{
	char buf[8];
	int n = cmdline_get(kernel_cmdline(), word, buf, sizeof(buf));

	return n >= 0 || n == -ENAMETOOLONG;
}

struct halt_job {
	struct task task;
	unsigned pt;
	int status;
	struct shell_out out;
	unsigned others;
	ticks_t start;
	struct sleep sleep;
};

static enum poll halt_job_poll(struct task *t, struct context *cx)
{
	struct halt_job *j = container_of(t, struct halt_job, task);
	struct runtime *rt = shell_runtime();
	struct rt_core *core;

	TASK_BEGIN(j->pt);
	j->start = clock_now(rt->clock);
	core = rt_current_core();
	for (unsigned i = 0; i < rt_active_cores(rt); i++) {
		struct stopper init = { .target = i };

		if (i == core->slot->index)
			continue;
		if (sched_spawn(&rt->slots[i].sched, &stopper_vt, &init,
				sizeof(init), NULL) == 0)
			j->others++;
	}
	while (atomic_load_explicit(&cores_halted, memory_order_relaxed) < j->others &&
	       clock_now(rt->clock) - j->start < HALT_WAIT_NS) {
		if (sleep_init_duration(&j->sleep, &rt->timer, HALT_POLL_NS) != 0)
			break;
		TASK_AWAIT(sleep_poll(&j->sleep, cx));
	}
	core = rt_current_core();
	shell_printf(&j->out, "halt: %u of %u other cores stopped; cpu%u stops last\n",
		     atomic_load_explicit(&cores_halted, memory_order_relaxed),
		     j->others, core->slot->index);
	rt_core_stop(core);
	if (cmdline_has(QEMU_EXIT_FLAG)) {
		shell_puts(&j->out, "halt: exiting QEMU (isa-debug-exit)\n");
		outb(QEMU_EXIT_PORT, QEMU_EXIT_OK);
	}
	shell_puts(&j->out, "halt: halted\n");
	halt_forever();
	TASK_END;
}

static void halt_job_drop_state(struct task *t)
{
	struct halt_job *j = container_of(t, struct halt_job, task);

	if (j->sleep.timer)
		sleep_drop(&j->sleep);
}

static const struct task_vtable halt_job_vt = {
	.poll = halt_job_poll,
	.drop_state = halt_job_drop_state,
	TASK_OUTPUT(struct halt_job, status),
	.name = "halt",
};

static int start_halt(const struct shell_cmd *cmd, int argc, char **argv,
		      const struct shell_out *out, struct shell_job *job)
{
	struct halt_job init = { .out = *out };
	int err;

	(void)cmd;
	(void)argc;
	(void)argv;
	err = rt_spawn(shell_runtime(), &halt_job_vt, &init, sizeof(init), &job->jh);
	if (err) {
		shell_printf(out, "error: halt: cannot spawn its task (%d)\n", err);
		return err;
	}
	return SHELL_PENDING;
}

static const struct shell_cmd kernel_only[] = {
	{ .name = "cpus", .help = "each core: id, APIC id, state, TSC frequency",
	  .usage = "cpus", .run = cmd_cpus },
	{ .name = "version", .help = "version, build date and compiler",
	  .usage = "version", .run = cmd_version },
	{ .name = "fault", .help = "divide by zero on purpose (#DE report, core halts)",
	  .usage = "fault", .run = cmd_fault },
	{ .name = "halt", .help = "stop every core (QEMU exits with `qemu-exit` on the command line)",
	  .usage = "halt", .start = start_halt },
};

void kernel_spawn_initial_tasks(struct runtime *rt)
{
	struct join_handle jh = JOIN_HANDLE_NONE;

	shell_commands_init(&kernel_cmds);
	if (shell_register_builtins(&kernel_cmds) != 0 ||
	    shell_register_rt_commands(&kernel_cmds, rt, dump_extra) != 0)
		panic("kernel_spawn_initial_tasks: shell command table");
	for (size_t i = 0; i < ARRAY_SIZE(kernel_only); i++)
		if (shell_register(&kernel_cmds, &kernel_only[i]) != 0)
			panic("kernel_spawn_initial_tasks: shell command %s",
			      kernel_only[i].name);
	shell_input_init(&kernel_input);
	if (shell_task_spawn(rt, &kernel_input, &kernel_cmds, &console_out, &jh) != 0)
		panic("kernel_spawn_initial_tasks: cannot spawn the shell");
	join_detach(&jh);
	serial_rx_init(&kernel_input);
}
