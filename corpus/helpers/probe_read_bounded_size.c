// Same as probe_read_var_size, but the size is masked to 0..15, which fits the buffer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <asm/ptrace.h>
SEC("kprobe/do_nanosleep")
int probe_read_bounded_size(struct pt_regs *ctx)
{
	char buf[16] = {};
	__u32 size = ctx->rsi & 15;

	bpf_probe_read_kernel(buf, size, (void *)ctx->rdi);
	return buf[0];
}

char LICENSE[] SEC("license") = "GPL";
