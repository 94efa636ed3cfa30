// A loop whose bound is an unknown 32-bit ctx value: the kernel walks it until its 1M-instruction budget runs out.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int unknown_bound(struct xdp_md *ctx)
{
	__u32 n = ctx->ingress_ifindex, sum = 0;

#pragma clang loop unroll(disable)
	for (__u32 i = 0; i < n; i++)
		sum += bpf_get_prandom_u32() & 1;
	return sum > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
