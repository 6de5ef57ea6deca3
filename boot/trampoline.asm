; trampoline.asm - the application processors' way from real mode to C.
;
; smp.c copies [smp_trampoline_start, smp_trampoline_end) to physical
; TRAMPOLINE_PA (a STARTUP IPI with vector TRAMPOLINE_PA >> 12 starts the
; AP there, CS = 0x0800, IP = 0, real mode) and fills the parameter block
; at TRAMPOLINE_PA + DATA_OFF (the next page, which stays writable).  The
; AP: sets `started`, loads this file's GDT, enters protected mode, takes
; an early stack and a stub IDT, enables PAE, loads the kernel's CR3, sets
; EFER.LME (and NXE: the kernel's tables use NX), enables paging and
; CR0.WP, loads the 64-bit stub IDT, jumps to 64-bit code, takes its stack
; and calls entry(arg) in C, which never returns.  An exception anywhere
; from protected mode until C loads the kernel's IDT is reported (see the
; stub below and smp.c), never a silent triple fault.  Everything here
; is position-dependent on TRAMPOLINE_PA (equal to the value in smp.c).
; Reference: Intel SDM vol. 3 sections 8.4.4 (MP initialisation example),
; 9.9 (mode switching), 9.8.5 (initialising IA-32e mode).

%include "boot/x86.inc"

%define TRAMPOLINE_PA		0x8000
%define DATA_OFF		0x1000		; parameter block: the next page
%define D_STARTED		0		; u32, set by the AP in real mode
%define D_CR3			4		; u32, kernel PML4 (below 4 GiB)
%define D_EFER			8		; u32, bits to set in EFER
%define D_FAULT_TEST		12		; u32, 32: ud2 in 32-bit code (tests)
%define D_STACK			16		; u64, initial RSP
%define D_ENTRY			24		; u64, void entry(void *arg)
%define D_ARG			32		; u64, its argument
%define D_FAULT_VECTOR		40		; u32, vector + 1 (0: none)
%define D_FAULT_MODE		44		; u32, 32 or 64
%define D_FAULT_ERROR		48		; u64, error code (0 if none)
%define D_FAULT_IP		56		; u64, faulting EIP/RIP
%define D_FAULT_CR2		64		; u64
%define DATA			(TRAMPOLINE_PA + DATA_OFF)
%define EARLY_STACK		(DATA + PAGE_SIZE)	; top of the data page

%define FAULT_VECTORS		32
%define STUB_SIZE		16
%define GATE_INT_PRESENT	0x8e		; present, DPL 0, interrupt gate
%define COM1			0x3f8
%define COM1_LSR		(COM1 + 5)
%define LSR_THR_EMPTY		0x20
%define DEBUGCON		0xe9		; QEMU's -debugcon port


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
	; From here on an exception is reported, not a triple fault: a
	; stack in the writable data page and the 32-bit stub IDT.
	mov esp, EARLY_STACK
	lidt [PA(idt32_ptr)]
	cmp dword [DATA + D_FAULT_TEST], 32
	jne .no_test
	ud2				; smp.c's `ap_fault` test: #UD here
.no_test:
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
	; IA-32e compatibility mode now: exceptions take 64-bit gates.  The
	; far jump below is where KVM faulted on a read-only GDT.
	lidt [PA(idt64_ptr)]
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

; ---- the early exception stub ------------------------------------------------
; Until cpu_init_ap() loads the kernel's IDT, an exception lands here: one
; entry per vector (STUB_SIZE bytes each, so the gates can be computed)
; pushes a zero error code where the CPU pushes none, then the vector.
; The common code stores mode, error code, IP and CR2 in the parameter
; block, prints a line on COM1 and the debug port 0xe9, then stores
; vector + 1 (last: the boot core polls it, then logs the details, so the
; two messages do not interleave) and halts.  An NMI (vector 2: a panic
; stopping the cores) only halts.

%macro fault_entry 2			; vector, common code
%%start:
%if %1 == 2
	hlt
	jmp %%start
%else
%if !(%1 == 8 || (%1 >= 10 && %1 <= 14) || %1 == 17 || %1 == 21 || %1 == 29 || %1 == 30)
	push byte 0
%endif
	push byte %1
	jmp %2
%endif
	times STUB_SIZE - ($ - %%start) db 0xcc
%endmacro

%macro fault_entries 1
%assign v 0
%rep FAULT_VECTORS
	fault_entry v, %1
%assign v v + 1
%endrep
%endmacro

bits 32
align STUB_SIZE
entries32:
	fault_entries fault32
fault32:				; [esp] vector, error, eip, cs, eflags
	mov eax, [esp + 4]
	mov [DATA + D_FAULT_ERROR], eax
	mov eax, [esp + 8]
	mov [DATA + D_FAULT_IP], eax
	mov eax, cr2
	mov [DATA + D_FAULT_CR2], eax
	xor eax, eax
	mov [DATA + D_FAULT_ERROR + 4], eax
	mov [DATA + D_FAULT_IP + 4], eax
	mov [DATA + D_FAULT_CR2 + 4], eax
	mov dword [DATA + D_FAULT_MODE], 32
	mov esi, PA(fault_msg)
.puts:
	lodsb
	test al, al
	jz .halt
	mov bl, al
	mov dx, COM1_LSR
.wait:
	in al, dx
	test al, LSR_THR_EMPTY
	jz .wait
	mov al, bl
	mov dx, COM1
	out dx, al
	out DEBUGCON, al
	jmp .puts
.halt:
	mov eax, [esp]
	inc eax
	mov [DATA + D_FAULT_VECTOR], eax
.hlt:
	cli
	hlt
	jmp .hlt

bits 64
align STUB_SIZE
entries64:
	fault_entries fault64
fault64:				; [rsp] vector, error, rip, cs, rflags, rsp, ss
	mov rax, [rsp + 8]
	mov [DATA + D_FAULT_ERROR], rax
	mov rax, [rsp + 16]
	mov [DATA + D_FAULT_IP], rax
	mov rax, cr2
	mov [DATA + D_FAULT_CR2], rax
	mov dword [DATA + D_FAULT_MODE], 64
	mov esi, PA(fault_msg)
.puts:
	lodsb
	test al, al
	jz .halt
	mov bl, al
	mov dx, COM1_LSR
.wait:
	in al, dx
	test al, LSR_THR_EMPTY
	jz .wait
	mov al, bl
	mov dx, COM1
	out dx, al
	out DEBUGCON, al
	jmp .puts
.halt:
	mov eax, [rsp]
	inc eax
	mov [DATA + D_FAULT_VECTOR], eax
.hlt:
	cli
	hlt
	jmp .hlt

fault_msg:
	db 13, 10, "hyphae: an application processor faulted in its start-up code, "
	db "before its IDT; it halts (the boot core logs the details)", 13, 10, 0

; Interrupt gates, present, DPL 0: 32-bit ones for protected mode, 64-bit
; ones (16 bytes) for IA-32e mode.  Everything sits below 64 KiB.
align 8
idt32:
%assign v 0
%rep FAULT_VECTORS
	dw (PA(entries32) + v * STUB_SIZE) & 0xffff
	dw SEL_CODE32
	db 0, GATE_INT_PRESENT
	dw (PA(entries32) + v * STUB_SIZE) >> 16
%assign v v + 1
%endrep
idt32_end:
align 16
idt64:
%assign v 0
%rep FAULT_VECTORS
	dw (PA(entries64) + v * STUB_SIZE) & 0xffff
	dw SEL_CODE64
	db 0, GATE_INT_PRESENT
	dw (PA(entries64) + v * STUB_SIZE) >> 16
	dd 0
	dd 0
%assign v v + 1
%endrep
idt64_end:
idt32_ptr:
	dw idt32_end - idt32 - 1
	dd PA(idt32)
idt64_ptr:
	dw idt64_end - idt64 - 1
	dd PA(idt64)

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

%if smp_trampoline_end - smp_trampoline_start > PAGE_SIZE
%error "trampoline.asm: the trampoline outgrew its page"
%endif
