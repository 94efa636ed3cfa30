// Stack accesses are always checked for alignment: an 8-byte store at fp-12.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int misaligned(void)
{
	asm volatile(
		"r1 = 0\n"
		"*(u64 *)(r10 - 12) = r1\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
