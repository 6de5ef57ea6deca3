; trampoline.asm - the application processors' way from real mode to C.
;
; smp.c copies [smp_trampoline_start, smp_trampoline_end) to physical
; TRAMPOLINE_PA (a STARTUP IPI with vector TRAMPOLINE_PA >> 12 starts the
; AP there, CS = 0x0800, IP = 0, real mode) and fills the parameter block
; at TRAMPOLINE_PA + DATA_OFF (the next page, which stays writable).  The
; AP: sets `started`, loads this file's GDT, enters protected mode, enables
; PAE, loads the kernel's CR3, sets EFER.LME (and NXE: the kernel's tables
; use NX), enables paging and CR0.WP, jumps to 64-bit code, takes its
; stack and calls entry(arg) in C, which never returns.  Everything here
; is position-dependent on TRAMPOLINE_PA (equal to the value in smp.c).
; Reference: Intel SDM vol. 3 sections 8.4.4 (MP initialisation example),
; 9.9 (mode switching), 9.8.5 (initialising IA-32e mode).

%include "boot/x86.inc"

%define TRAMPOLINE_PA		0x8000
%define DATA_OFF		0x1000		; parameter block: the next page
%define D_STARTED		0		; u32, set by the AP in real mode
%define D_CR3			4		; u32, kernel PML4 (below 4 GiB)
%define D_EFER			8		; u32, bits to set in EFER
%define D_STACK			16		; u64, initial RSP
%define D_ENTRY			24		; u64, void entry(void *arg)
%define D_ARG			32		; u64, its argument
%define DATA			(TRAMPOLINE_PA + DATA_OFF)


%define SEL_CODE32		0x08
%define SEL_DATA		0x10
%define SEL_CODE64		0x18

; Physical address of a label once copied.
%define PA(label)		(TRAMPOLINE_PA + (label - smp_trampoline_start))

section .rodata
align 16
global smp_trampoline_start
global smp_trampoline_end

bits 16
smp_trampoline_start:
	cli
	cld
	mov ax, cs
	mov ds, ax
	mov dword [DATA_OFF + D_STARTED], 1
	o32 lgdt [tramp_gdtr - smp_trampoline_start]
	mov eax, cr0
	or eax, CR0_PE
	mov cr0, eax
	jmp dword SEL_CODE32:PA(pm32)

bits 32
pm32:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov eax, cr4
	or eax, CR4_PAE
	mov cr4, eax
	mov eax, [DATA + D_CR3]
	mov cr3, eax
	mov ecx, MSR_EFER
	rdmsr
	or eax, [DATA + D_EFER]
	wrmsr
	mov eax, cr0
	or eax, CR0_PG | CR0_WP
	mov cr0, eax
	jmp SEL_CODE64:PA(lm64)

bits 64
lm64:
	mov ax, SEL_DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor eax, eax
	mov fs, ax
	mov gs, ax
	mov rsp, [DATA + D_STACK]
	mov rdi, [DATA + D_ARG]
	mov rax, [DATA + D_ENTRY]
	xor ebp, ebp			; the backtrace stops here
	call rax
.hang:
	cli
	hlt
	jmp .hang

align 8
global smp_trampoline_gdt
global smp_trampoline_gdt_end
smp_trampoline_gdt:
	dq 0
	gdt_desc DESC_CODE32		; 0x08
	gdt_desc DESC_DATA		; 0x10
	gdt_desc DESC_CODE64		; 0x18
smp_trampoline_gdt_end:
tramp_gdtr:
	dw smp_trampoline_gdt_end - smp_trampoline_gdt - 1
	dd PA(smp_trampoline_gdt)
smp_trampoline_end:
