// Loads through a ctx pointer moved by a constant: the kernel wants ctx accesses as r1 + off with an unmodified pointer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
__attribute__((naked)) int xdp_modified_ctx(void)
{
	asm volatile(
		"r1 += 12\n"
		"r0 = *(u32 *)(r1 + 0)\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
