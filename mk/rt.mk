# mk/rt.mk - the runtime's threaded unit tests also run under TSan.
RT_TSAN_TESTS	:= $(BUILD)/host/tsan/tests/rt/test_rt
TEST_DEPS	+= $(RT_TSAN_TESTS)
TEST_CMDS	+= $(foreach t,$(RT_TSAN_TESTS),"$(TSAN_OPTIONS_RUN) $(t)")
