// Loads through the constant 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int null_const(void)
{
	asm volatile(
		"r1 = 0\n"
		"r0 = *(u64 *)(r1 + 0)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
