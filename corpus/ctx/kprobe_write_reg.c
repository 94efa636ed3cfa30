// kprobe programs may not write pt_regs.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <asm/ptrace.h>
SEC("kprobe/do_nanosleep")
int kprobe_write_reg(struct pt_regs *ctx)
{
	ctx->rdi = 0;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
