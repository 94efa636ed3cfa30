// Writes below the 512-byte stack: fp-520.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int const_oob_write(void)
{
	asm volatile(
		"r1 = 0\n"
		"*(u64 *)(r10 - 520) = r1\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
