// Uses the whole 512-byte stack: the lowest slot is fp-512.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int full_512(void)
{
	asm volatile(
		"r1 = 7\n"
		"*(u64 *)(r10 - 512) = r1\n"
		"r0 = *(u64 *)(r10 - 512)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
