/*
 * ctx.c - coroutine contexts for the model threads.
 *
 * Every step of a model thread ends in a switch to the thread the
 * scheduler picks, so a switch must be cheap: on x86_64 it saves the
 * callee-saved registers on the old stack, swaps stack pointers and pops
 * them from the new one (no signal mask, no system call; swapcontext()
 * makes one per switch).  Other machines use ucontext.  A new context
 * starts in `entry` on its own stack, with the stack aligned as the ABI
 * wants at a function's first instruction.
 */
#include <stdlib.h>

#include "tests/model/checker.h"

#if defined(__x86_64__)

__asm__(
	".text\n"
	".globl model_ctx_switch\n"
	".type model_ctx_switch, @function\n"
	"model_ctx_switch:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	movq %rsp, (%rdi)\n"
	"	movq (%rsi), %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size model_ctx_switch, .-model_ctx_switch\n");

void model_ctx_init(struct model_ctx *c, void *stack, size_t size,
		    void (*entry)(void))
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	void **sp = (void **)top;

	/* `entry` is entered by `ret`, as if called: the slot above its
	 * return address (a zero here) sits at 8 mod 16. */
	*--sp = NULL;
	*--sp = (void *)entry;
	for (int i = 0; i < 6; i++)
		*--sp = NULL;		/* rbp rbx r12 r13 r14 r15 */
	c->sp = sp;
	c->uc = NULL;
}

#else /* !__x86_64__ */

#include <ucontext.h>

void model_ctx_init(struct model_ctx *c, void *stack, size_t size,
		    void (*entry)(void))
{
	ucontext_t *uc = c->uc ? c->uc : calloc(1, sizeof(*uc));

	if (uc == NULL)
		abort();
	getcontext(uc);
	uc->uc_stack.ss_sp = stack;
	uc->uc_stack.ss_size = size;
	uc->uc_link = NULL;
	makecontext(uc, entry, 0);
	c->uc = uc;
}

void model_ctx_switch(struct model_ctx *from, struct model_ctx *to)
{
	if (from->uc == NULL) {
		from->uc = calloc(1, sizeof(ucontext_t));
		if (from->uc == NULL)
			abort();
	}
	swapcontext(from->uc, to->uc);
}

#endif
