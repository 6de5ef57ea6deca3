# mk/lib.mk - lib/ on the host.
#
# lib/string.c defines memcpy, memset, strlen & co. under their standard
# names for the kernel.  In libhyphae.a they would replace the C library's
# (and the sanitizers' interceptors), so the host build leaves the file out
# and compiles a second copy with every symbol renamed hy_<name>, linked
# only into tests/lib/test_string, which compares it with libc.
HOST_EXCLUDE_SRCS += lib/string.c

LIB_STRING_FUNCS := memcpy memmove memset memcmp strlen strnlen strcmp \
		    strncmp strchr strrchr strncpy
LIB_STRING_RENAME := -fno-builtin $(foreach f,$(LIB_STRING_FUNCS),-D$(f)=hy_$(f))
LIB_STRING_HOST_OBJ := $(BUILD)/host/asan/lib/string_hy.o

$(LIB_STRING_HOST_OBJ): lib/string.c | $(DEPS_HOST)
	@mkdir -p $(@D)
	$(HOST_CC) $(HOST_CFLAGS_asan) $(LIB_STRING_RENAME) -c $< -o $@

# An extra prerequisite of the pattern-rule target: it joins $^ at link time.
$(BUILD)/host/asan/tests/lib/test_string: $(LIB_STRING_HOST_OBJ)
