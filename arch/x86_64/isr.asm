; isr.asm - entry stubs for all 256 interrupt vectors.
;
; Each stub pushes a zero error code when the CPU does not push one (so
; every frame has the same shape), then its vector number, and jumps to
; isr_common, which saves the general registers in the order of struct
; trap_frame (arch/x86_64/trap.h), calls trap_dispatch(frame) and returns
; with iretq.  trap_dispatch may rewrite the frame (the test harness
; resumes itself that way after an expected fault).  The CPU aligns RSP to
; 16 before pushing its 5-word frame; 2 + 15 more words keep it aligned
; for the call.  Reference: Intel SDM vol. 3 sections 6.12-6.14.

bits 64
extern trap_dispatch

section .text

%macro ISR_NOERR 1
isr_%1:
	push qword 0
	push qword %1
	jmp isr_common
%endmacro

%macro ISR_ERR 1
isr_%1:
	push qword %1
	jmp isr_common
%endmacro

; Vectors for which the CPU pushes an error code.
%assign v 0
%rep 256
%if v == 8 || v == 10 || v == 11 || v == 12 || v == 13 || v == 14 || v == 17 || v == 21 || v == 29 || v == 30
	ISR_ERR v
%else
	ISR_NOERR v
%endif
%assign v v + 1
%endrep

isr_common:
	push rax
	push rbx
	push rcx
	push rdx
	push rsi
	push rdi
	push rbp
	push r8
	push r9
	push r10
	push r11
	push r12
	push r13
	push r14
	push r15
	cld
	mov rdi, rsp
	call trap_dispatch
	pop r15
	pop r14
	pop r13
	pop r12
	pop r11
	pop r10
	pop r9
	pop r8
	pop rbp
	pop rdi
	pop rsi
	pop rdx
	pop rcx
	pop rbx
	pop rax
	add rsp, 16			; vector and error code
	iretq

section .rodata
align 8
global isr_table
isr_table:
%assign v 0
%rep 256
	dq isr_ %+ v
%assign v v + 1
%endrep
