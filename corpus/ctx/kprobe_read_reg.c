// A kprobe reads pt_regs->rdi (off=112).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <asm/ptrace.h>
SEC("kprobe/do_nanosleep")
int kprobe_read_reg(struct pt_regs *ctx)
{
	return ctx->rdi == 0;
}

char LICENSE[] SEC("license") = "GPL";
