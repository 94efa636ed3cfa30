// A bpf-to-bpf call to a static __noinline function taking scalars.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int add(int a, int b)
{
	return a + b;
}

SEC("xdp")
int subprog_add(struct xdp_md *ctx)
{
	return add(ctx->ingress_ifindex, 1) > 3 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
