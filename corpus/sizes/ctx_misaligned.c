// A 4-byte load at offset 2 of xdp_md.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
__attribute__((naked)) int ctx_misaligned(void)
{
	asm volatile(
		"r0 = *(u32 *)(r1 + 2)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
