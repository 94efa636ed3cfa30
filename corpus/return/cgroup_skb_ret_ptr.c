// cgroup_skb returning a stack pointer: R0 must be a known scalar in [0, 1].
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup_skb/egress")
__attribute__((naked)) int cgroup_skb_ret_ptr(void)
{
	asm volatile(
		"r0 = r10\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
