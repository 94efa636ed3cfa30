// A jump to itself: the simplest infinite loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int self_loop(void)
{
	asm volatile(
		"r0 = 0\n"
		"l0_%=:\n"
		"goto l0_%=\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
