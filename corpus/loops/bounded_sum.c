// A 16-iteration loop kept as a loop (unrolling disabled): the verifier walks every iteration.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int bounded_sum(struct xdp_md *ctx)
{
	__u32 sum = 0;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 16; i++)
		sum += bpf_get_prandom_u32() & 1;
	return sum > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
