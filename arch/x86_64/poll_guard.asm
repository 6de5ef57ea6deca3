; poll_guard.asm - arch_poll_call(): a task's poll with a recovery point.
;
; arch_poll_call(fn, a, b) saves the callee-saved registers and the
; enclosing guard on its stack, stores its stack pointer in the core's
; struct cpu (gs:CPU_POLL_GUARD, see cpu.h) and calls fn(a, b).  A normal
; return restores the enclosing guard and returns fn's result.  When a CPU
; exception inside fn is contained (poll_guard.c), the fault handler
; rewrites the trap frame so that its iretq lands on poll_guard_resume
; with RSP = the stored value: the frames of fn are abandoned, the saved
; registers come back, and arch_poll_call returns ARCH_POLL_FAULTED (-1).
; The same idea as the test harness's ktest_setjmp resumption, per poll:
; five pushes and one store to arm.

bits 64
section .text

CPU_POLL_GUARD	equ 32		; offsetof(struct cpu, poll_guard)
POLL_FAULTED	equ -1		; ARCH_POLL_FAULTED (include/arch.h)

global arch_poll_call
global poll_guard_resume

; int arch_poll_call(int (*fn)(void *a, void *b), void *a, void *b)
arch_poll_call:
	push rbp
	mov rbp, rsp
	push rbx
	push r12
	push r13
	push r14
	push r15
	push qword [gs:CPU_POLL_GUARD]	; the enclosing guard (0: none)
	mov [gs:CPU_POLL_GUARD], rsp	; armed; RSP is 16-byte aligned here
	mov rax, rdi
	mov rdi, rsi
	mov rsi, rdx
	call rax
.done:
	pop qword [gs:CPU_POLL_GUARD]
	pop r15
	pop r14
	pop r13
	pop r12
	pop rbx
	pop rbp
	ret

; Reached only through a rewritten trap frame, RSP = the armed value.
poll_guard_resume:
	mov eax, POLL_FAULTED
	jmp arch_poll_call.done
