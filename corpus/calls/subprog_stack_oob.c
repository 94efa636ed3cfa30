// The subprogram reads p[4] of the caller's 4-int stack array: past the caller's frame.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int fifth(volatile int *p)
{
	return p[4];
}

SEC("xdp")
int subprog_stack_oob(struct xdp_md *ctx)
{
	volatile int a[4] = {1, 2, 3, (int)ctx->ingress_ifindex};

	return fifth(a) > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
