// __builtin_bswap64 of a ctx value (be64).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int bswap64(struct xdp_md *ctx)
{
	return __builtin_bswap64(ctx->ingress_ifindex) > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
