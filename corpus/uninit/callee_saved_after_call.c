// R6-R9 survive a helper call: R6 still holds the ctx copy after call bpf_get_prandom_u32.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int callee_saved_after_call(void)
{
	asm volatile(
		"r6 = r1\n"
		"call 7\n"
		"r1 = r6\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
