# mk/host.mk - the portable code and arch/host, compiled for the host.
#
# Three variants of one library, libhyphae.a, from the same sources:
#   asan  -O1, ASan + UBSan        unit tests (tests/**/test_*.c), stress
#   tsan  -O2, ThreadSanitizer     stress tests, threaded unit tests
#   rel   -O2 -DNDEBUG             benchmarks (bench/)
# A program under tests/ or bench/ links its variant's libhyphae.a and the
# shared test support library (tests/support/, libsupport.a).
#
# lib/string.c defines memcpy, memset, strlen & co. under their standard
# names for the kernel.  In libhyphae.a they would replace the C library's
# (and the sanitizers' interceptors), so the host build leaves the file out
# and compiles a second copy with every symbol renamed hy_<name>, linked
# only into tests/lib/test_string, which compares it with libc.

HOST_ARCH_SRCS	:= $(sort $(wildcard arch/host/*.c))
# arch/x86_64's pure-C parsers, which host tests (tests/arch/x86_64/) run.
ARCH_PURE_SRCS	:= arch/x86_64/multiboot2.c arch/x86_64/frame.c arch/x86_64/acpi.c
HOST_SRCS	:= $(filter-out lib/string.c,$(PORTABLE_SRCS)) $(HOST_ARCH_SRCS) \
		   $(ARCH_PURE_SRCS)
SUPPORT_SRCS	:= $(sort $(wildcard tests/support/*.c))

HOST_CFLAGS	:= $(COMMON_CFLAGS) -DARCH_TARGET_HOST -O1 -fno-omit-frame-pointer -pthread
HOST_CFLAGS_asan := $(HOST_CFLAGS) -fsanitize=address,undefined -fno-sanitize-recover=undefined
HOST_CFLAGS_tsan := $(HOST_CFLAGS) -O2 -fsanitize=thread
HOST_CFLAGS_rel  := $(COMMON_CFLAGS) -DARCH_TARGET_HOST -O2 -fno-omit-frame-pointer -pthread -DNDEBUG
HOST_LDLIBS	:= -lcmocka -pthread -lm

define host_variant
$(BUILD)/host/$(1)/%.o: %.c | $(DEPS_HOST)
	@mkdir -p $$(@D)
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) -c $$< -o $$@

$(BUILD)/host/$(1)/libhyphae.a: $$(patsubst %.c,$(BUILD)/host/$(1)/%.o,$$(HOST_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

$(BUILD)/host/$(1)/libsupport.a: $$(patsubst %.c,$(BUILD)/host/$(1)/%.o,$$(SUPPORT_SRCS))
	@rm -f $$@
	ar rcs $$@ $$^

# Objects before archives: an extra object given as a prerequisite of one
# program (bench_rt's rt_sync.o) comes last in $^, and the linker pulls
# from an archive only what the objects before it need.
$(BUILD)/host/$(1)/tests/%: $(BUILD)/host/$(1)/tests/%.o $(BUILD)/host/$(1)/libsupport.a $(BUILD)/host/$(1)/libhyphae.a
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) $$(filter %.o,$$^) $$(filter %.a,$$^) -o $$@ $(HOST_LDLIBS)

$(BUILD)/host/$(1)/bench/%: $(BUILD)/host/$(1)/bench/%.o $(BUILD)/host/$(1)/libsupport.a $(BUILD)/host/$(1)/libhyphae.a
	$(HOST_CC) $$(HOST_CFLAGS_$(1)) $$(filter %.o,$$^) $$(filter %.a,$$^) -o $$@ $(HOST_LDLIBS)

-include $$(shell find $(BUILD)/host/$(1) -name '*.d' 2>/dev/null)
endef
$(foreach v,asan tsan rel,$(eval $(call host_variant,$(v))))

LIB_STRING_FUNCS := memcpy memmove memset memcmp strlen strnlen strcmp \
		    strncmp strchr strrchr strncpy
LIB_STRING_RENAME := -fno-builtin $(foreach f,$(LIB_STRING_FUNCS),-D$(f)=hy_$(f))
LIB_STRING_HOST_OBJ := $(BUILD)/host/asan/lib/string_hy.o

$(LIB_STRING_HOST_OBJ): lib/string.c | $(DEPS_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS_asan) $(LIB_STRING_RENAME) -c $< -o $@

# An extra prerequisite of the pattern-rule target: it joins $^ at link time.
$(BUILD)/host/asan/tests/lib/test_string: $(LIB_STRING_HOST_OBJ)
