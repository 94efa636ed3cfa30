// Returns the ctx pointer itself from XDP. XDP return values are unchecked and root may leak pointers (allow_ptr_leaks), so this is accepted; an unprivileged loader would get `R0 leaks addr as return value`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
__attribute__((naked)) int xdp_ret_ctx(void)
{
	asm volatile(
		"r0 = r1\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
