; boot.asm - the multiboot2 header and the 32-bit entry into long mode.
;
; GRUB loads the ELF at its link address (1 MiB, see linker.ld) and jumps to
; _start in 32-bit protected mode, paging off, EAX = the multiboot2 magic,
; EBX = the physical address of the boot information.  We check the magic
; and that the CPU has long mode (a readable message on COM1 and the VGA
; text screen otherwise, then HLT: never a silent hang), build early page
; tables that identity-map the first 4 GiB with 2 MiB pages, enable PAE,
; long mode, NX (when the CPU has it) and CR0.WP, load a 64-bit GDT and call
; stack_protector_init() then kmain(magic, info) on the boot stack.
;
; The kernel is identity-mapped (virtual == physical), not higher-half:
; the AP trampoline, MMIO (LAPIC, IOAPIC) and the multiboot2 info are
; reachable at their physical addresses, and C builds with -mcmodel=small.
; arch/x86_64/paging.c replaces these tables with per-section permissions.
; Reference: Multiboot2 specification 3.1; Intel SDM vol. 3 sections 9.8
; (initializing IA-32e mode) and 4.5 (4-level paging).

%include "boot/x86.inc"

%define MB2_HEADER_MAGIC	0xe85250d6
%define MB2_ARCH_I386		0
%define MB2_BOOT_MAGIC		0x36d76289	; in EAX from the loader

%define COM1			0x3f8
%define VGA_TEXT		0xb8000
%define VGA_ATTR_ERROR		0x4f		; white on red

%define PTE_PRESENT		(1 << 0)
%define PTE_WRITE		(1 << 1)
%define PTE_HUGE		(1 << 7)	; 2 MiB page in a PD entry
%define EARLY_MAP_GIB		4		; identity-mapped by the early tables
%define PD_ENTRIES		512

%define EFLAGS_ID		(1 << 21)
%define CPUID_EXT_MAX		0x80000000
%define CPUID_EXT_FEATURES	0x80000001
%define CPUID_EDX_NX		(1 << 20)
%define CPUID_EDX_LM		(1 << 29)

%define GDT_CODE64		0x08
%define GDT_DATA		0x10

; Must equal KSTACK_SIZE in arch/x86_64/mm.h: every stack in .bss.kstacks is
; one guard page followed by KSTACK_SIZE bytes (paging.c unmaps the guards
; and checks the layout at boot).
%define KSTACK_SIZE		16384

extern kmain
extern stack_protector_init
extern __bss_start
extern __bss_end

section .multiboot2 progbits alloc noexec nowrite align=8
mb2_header:
	dd MB2_HEADER_MAGIC
	dd MB2_ARCH_I386
	dd mb2_header_end - mb2_header
	dd 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
	; end tag: type 0, flags 0, size 8
	dw 0, 0
	dd 8
mb2_header_end:

section .boot.text progbits alloc exec nowrite align=16
bits 32
global _start
_start:
	cli
	cld
	mov esp, boot_stack_top
	; .bss is ours to clear before anything lives there (the loader may
	; leave it dirty); boot_magic/boot_info live in .data for that reason.
	mov [boot_magic], eax
	mov [boot_info], ebx
	; The TSC at entry: the kernel's clock counts from here, and its
	; value tells how long firmware and loader took (tsc.c).
	rdtsc
	mov [boot_tsc], eax
	mov [boot_tsc + 4], edx
	mov edi, __bss_start
	mov ecx, __bss_end
	sub ecx, edi
	shr ecx, 2
	xor eax, eax
	rep stosd
	call early_serial_init

	cmp dword [boot_magic], MB2_BOOT_MAGIC
	jne .no_multiboot

	; CPUID exists if EFLAGS.ID can be toggled.
	pushfd
	pop eax
	mov ecx, eax
	xor eax, EFLAGS_ID
	push eax
	popfd
	pushfd
	pop eax
	push ecx
	popfd
	cmp eax, ecx
	je .no_long_mode

	mov eax, CPUID_EXT_MAX
	cpuid
	cmp eax, CPUID_EXT_FEATURES
	jb .no_long_mode
	mov eax, CPUID_EXT_FEATURES
	cpuid
	test edx, CPUID_EDX_LM
	jz .no_long_mode
	mov ebx, edx			; keep the NX bit for EFER below

	; PML4[0] -> PDPT; PDPT[0..3] -> four PDs of 2 MiB pages: 0..4 GiB.
	mov dword [boot_pml4], boot_pdpt + PTE_PRESENT + PTE_WRITE
	xor ecx, ecx
.pdpt:
	mov eax, ecx
	shl eax, 12
	add eax, boot_pd + PTE_PRESENT + PTE_WRITE
	mov [boot_pdpt + ecx * 8], eax
	inc ecx
	cmp ecx, EARLY_MAP_GIB
	jne .pdpt
	xor ecx, ecx
.pd:
	mov eax, ecx
	shl eax, 21
	or eax, PTE_PRESENT + PTE_WRITE + PTE_HUGE
	mov [boot_pd + ecx * 8], eax
	inc ecx
	cmp ecx, EARLY_MAP_GIB * PD_ENTRIES
	jne .pd

	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, boot_pml4
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, EFER_LME
	test ebx, CPUID_EDX_NX
	jz .no_nx
	or eax, EFER_NXE
.no_nx:
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP
	mov cr0, eax

	lgdt [boot_gdt_ptr]
	jmp GDT_CODE64:long_entry

.no_multiboot:
	mov esi, msg_no_multiboot
	jmp boot_fail
.no_long_mode:
	mov esi, msg_no_long_mode
	jmp boot_fail

; Print the NUL-terminated message at ESI on COM1 and the VGA screen, halt.
boot_fail:
	mov edi, VGA_TEXT
.next:
	lodsb
	test al, al
	jz .halt
	mov ah, VGA_ATTR_ERROR
	mov [edi], ax
	add edi, 2
	call early_serial_putc
	jmp .next
.halt:
	mov al, 13
	call early_serial_putc
	mov al, 10
	call early_serial_putc
.forever:
	cli
	hlt
	jmp .forever

; COM1 at 115200 8N1, FIFOs on, interrupts off (serial.c redoes this in C).
early_serial_init:
	mov dx, COM1 + 1		; IER: no interrupts
	xor al, al
	out dx, al
	mov dx, COM1 + 3		; LCR: DLAB on
	mov al, 0x80
	out dx, al
	mov dx, COM1 + 0		; divisor low: 115200 / 1
	mov al, 1
	out dx, al
	mov dx, COM1 + 1		; divisor high
	xor al, al
	out dx, al
	mov dx, COM1 + 3		; LCR: 8 data bits, no parity, 1 stop
	mov al, 0x03
	out dx, al
	mov dx, COM1 + 2		; FCR: enable + clear FIFOs
	mov al, 0x07
	out dx, al
	ret

; Write AL to COM1 once the transmitter holding register is empty.
early_serial_putc:
	push edx
	push eax
	mov dx, COM1 + 5		; LSR
.wait:
	in al, dx
	test al, 0x20			; THR empty
	jz .wait
	pop eax
	mov dx, COM1
	out dx, al
	pop edx
	ret

bits 64
long_entry:
	mov ax, GDT_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, boot_stack_top
	xor ebp, ebp			; the backtrace stops at a zero frame pointer
	call stack_protector_init	; before any protected frame exists
	mov edi, [boot_magic]
	mov esi, [boot_info]
	call kmain
.hang:
	cli
	hlt
	jmp .hang

section .rodata
msg_no_multiboot:
	db "hyphae: not started by a multiboot2 loader (bad magic in EAX); halting", 0
msg_no_long_mode:
	db "hyphae: this CPU has no long mode (x86_64 required); halting", 0

align 8
global boot_gdt
global boot_gdt_end
boot_gdt:
	dq 0
	gdt_desc DESC_CODE64		; 0x08
	gdt_desc DESC_DATA		; 0x10
boot_gdt_end:
boot_gdt_ptr:
	dw boot_gdt_end - boot_gdt - 1
	dq boot_gdt

section .data
global boot_magic
global boot_info
global boot_tsc
boot_magic:	dd 0
boot_info:	dd 0
align 8
boot_tsc:	dq 0

; Page-aligned by the section (first in it); `alignb` trips a NASM 2.16
; warning bug under -w+all.
section .bss nobits alloc noexec write align=4096
boot_pml4:	resb PAGE_SIZE
boot_pdpt:	resb PAGE_SIZE
boot_pd:	resb PAGE_SIZE * EARLY_MAP_GIB

; The boot core's stack: a guard page (unmapped by paging.c), then the stack.
section .bss.kstacks nobits alloc noexec write align=4096
global boot_stack_guard
global boot_stack_top
boot_stack_guard:	resb PAGE_SIZE
boot_stack:		resb KSTACK_SIZE
boot_stack_top:
