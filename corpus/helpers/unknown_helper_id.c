// Calls helper id 300, which does not exist.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
__attribute__((naked)) int unknown_helper_id(void)
{
	asm volatile(
		"call 300\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
