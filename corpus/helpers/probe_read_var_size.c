// bpf_probe_read_kernel with a size taken from a register (unbounded) into a 16-byte stack buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <asm/ptrace.h>
SEC("kprobe/do_nanosleep")
int probe_read_var_size(struct pt_regs *ctx)
{
	char buf[16];
	__u32 size = ctx->rsi;

	bpf_probe_read_kernel(buf, size, (void *)ctx->rdi);
	return buf[0];
}

char LICENSE[] SEC("license") = "GPL";
