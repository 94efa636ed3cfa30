// Division by the immediate 0 is refused at load time.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int div_imm_zero(void)
{
	asm volatile(
		"r0 = 1\n"
		"r0 /= 0\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
