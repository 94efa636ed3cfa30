// Passes a pointer to an initialised stack array of the caller to a subprogram that reads it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int sum4(volatile int *p)
{
	return p[0] + p[1] + p[2] + p[3];
}

SEC("xdp")
int subprog_stack_ptr(struct xdp_md *ctx)
{
	volatile int a[4] = {1, 2, 3, (int)ctx->ingress_ifindex};

	return sum4(a) > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
