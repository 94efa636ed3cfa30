// Writes above the frame pointer: fp+0 is outside the stack frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int positive_off_write(void)
{
	asm volatile(
		"r1 = 0\n"
		"*(u64 *)(r10 + 0) = r1\n"
		"r0 = 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
