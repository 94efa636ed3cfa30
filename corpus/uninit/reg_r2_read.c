// Reads R2, which is not an argument of the program (only R1 and R10 are initialised at entry).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("socket")
__attribute__((naked)) int reg_r2_read(void)
{
	asm volatile(
		"r0 = r2\n"
		"exit\n"
		::: "memory");
}

char LICENSE[] SEC("license") = "GPL";
