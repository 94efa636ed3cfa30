// Exits without writing R0: the return value is uninitialised.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int r0_unset_exit(void)
{
	asm volatile(
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
