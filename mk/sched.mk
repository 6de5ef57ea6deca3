# mk/sched.mk - sched/ extras.
#   make sched-soak   the sched stress tests (tests/sched/stress_*.c) with
#                     HYPHAE_SOAK=1 (50x the iterations), under ASan and TSan.
SCHED_STRESS	:= $(patsubst %.c,%,$(wildcard tests/sched/stress_*.c))
SCHED_SOAK_BINS	:= $(foreach v,asan tsan,$(addprefix $(BUILD)/host/$(v)/,$(SCHED_STRESS)))

.PHONY: sched-soak
sched-soak: $(SCHED_SOAK_BINS)
	@for t in $^; do echo "==> $$t (soak)"; \
		HYPHAE_SOAK=1 $(TSAN_OPTIONS_RUN) $$t || exit 1; done
