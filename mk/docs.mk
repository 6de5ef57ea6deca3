# mk/docs.mk - the code the documents show, compiled, run and compared.
#
#   examples/*.c        programs whose marked regions (example:begin NAME
#                       ... example:end) README.md and docs/*.md quote;
#                       built against the host runtime with ASan + UBSan
#                       and run by `make test`, which checks their output
#   tools/check-docs    each quoted code block is byte for byte the region
#                       it names, and every region is quoted somewhere
#   tests/tools/check-docs-test   the check passes on the tree and fails
#                       on planted differences
#
#> check-docs    the documents' code blocks against examples/ alone

EXAMPLE_SRCS	:= $(sort $(wildcard examples/*.c))
EXAMPLES	:= $(patsubst %.c,$(BUILD)/host/asan/%,$(EXAMPLE_SRCS))

$(BUILD)/host/asan/examples/%: $(BUILD)/host/asan/examples/%.o \
		$(BUILD)/host/asan/libsupport.a $(BUILD)/host/asan/libhyphae.a
	$(HOST_CC) $(HOST_CFLAGS_asan) $^ -o $@ $(HOST_LDLIBS)

TEST_DEPS	+= $(EXAMPLES)
TEST_CMDS	+= $(EXAMPLES) tools/check-docs tests/tools/check-docs-test

.PHONY: check-docs
check-docs:
	tools/check-docs
