// Atomic add into the ctx is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
__attribute__((naked)) int ctx_atomic(void)
{
	asm volatile(
		"r2 = 1\n"
		"lock *(u32 *)(r1 + 12) += r2\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
