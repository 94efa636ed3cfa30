// Passes the ctx pointer to a subprogram that reads a ctx field.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static __attribute__((noinline)) int ifindex(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex;
}

SEC("xdp")
int subprog_ctx(struct xdp_md *ctx)
{
	return ifindex(ctx) == 1 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
