// Counts the set bits of a random byte by clearing the lowest one per iteration: the interval
// domain keeps x in [0, 255] on every iteration and cannot bound the loop; Z3 proves that x
// decreases strictly (x & (x - 1) < x for x != 0), hence at most 255 iterations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int clear_lowest_bit(struct xdp_md *ctx)
{
	__u64 x = bpf_get_prandom_u32() & 0xff, sum = 0;

#pragma clang loop unroll(disable)
	while (x) {
		x &= x - 1;
		sum += bpf_get_prandom_u32() & 1;
	}
	return sum > 4 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
