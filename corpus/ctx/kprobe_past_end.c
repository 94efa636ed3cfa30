// Reads 8 bytes at offset 168, just past the end of struct pt_regs (168 bytes on x86-64).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <asm/ptrace.h>
SEC("kprobe/do_nanosleep")
int kprobe_past_end(struct pt_regs *ctx)
{
	return *(volatile __u64 *)((char *)ctx + sizeof(*ctx)) != 0;
}

char LICENSE[] SEC("license") = "GPL";
