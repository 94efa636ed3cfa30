// Spills the ctx pointer and fills back only its low 4 bytes: a partial fill of a spilled pointer is refused even as root.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int partial_fill_ptr(void)
{
	asm volatile(
		"*(u64 *)(r10 - 8) = r1\n"
		"r0 = *(u32 *)(r10 - 8)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
