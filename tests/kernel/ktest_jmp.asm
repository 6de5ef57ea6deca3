; ktest_jmp.asm - setjmp/longjmp for the in-kernel test harness.
;
; struct ktest_jmp (tests/kernel/ktest.c) holds the callee-saved registers
; of the System V ABI, the stack pointer after ktest_setjmp returns, and
; its return address.  ktest_longjmp restores them and makes ktest_setjmp
; return `val`.  The fault hook does the same through a trap frame so that
; iretq performs the jump.

bits 64
section .text

global ktest_setjmp
global ktest_longjmp

; int ktest_setjmp(struct ktest_jmp *buf)
ktest_setjmp:
	mov [rdi + 0], rbx
	mov [rdi + 8], rbp
	mov [rdi + 16], r12
	mov [rdi + 24], r13
	mov [rdi + 32], r14
	mov [rdi + 40], r15
	lea rdx, [rsp + 8]		; rsp once we have returned
	mov [rdi + 48], rdx
	mov rdx, [rsp]			; return address
	mov [rdi + 56], rdx
	xor eax, eax
	ret

; _Noreturn void ktest_longjmp(struct ktest_jmp *buf, int val)
ktest_longjmp:
	mov rbx, [rdi + 0]
	mov rbp, [rdi + 8]
	mov r12, [rdi + 16]
	mov r13, [rdi + 24]
	mov r14, [rdi + 32]
	mov r15, [rdi + 40]
	mov rsp, [rdi + 48]
	mov eax, esi
	jmp [rdi + 56]
