# mk/acpi.mk - the ACPI table parser is pure C: the host tests
# (tests/arch/test_acpi.c) link it.  The kernel side (acpi_boot.c) is not.
HOST_EXTRA_SRCS	+= arch/x86_64/acpi.c
