// R1-R5 are clobbered by a helper call: reading R1 after call bpf_get_prandom_u32 reads an uninitialised register.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int caller_saved_after_call(void)
{
	asm volatile(
		"call 7\n"
		"r0 = r1\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
