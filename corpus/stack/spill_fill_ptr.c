// Spills the ctx pointer to the stack and fills it back: the fill keeps the pointer type, so the ctx load is valid.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int spill_fill_ptr(void)
{
	asm volatile(
		"*(u64 *)(r10 - 8) = r1\n"
		"r2 = *(u64 *)(r10 - 8)\n"
		"r0 = *(u32 *)(r2 + 0)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
