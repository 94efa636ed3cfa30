// Two counters walking towards each other: j - i ranks the loop (50 iterations from 0 and 100),
// but bpfcheck's termination prover does not find that ranking function in the rotated loop.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int two_counters(struct xdp_md *ctx)
{
	__u32 i = 0, j = 100, sum = 0;

	/* Hide the constants from clang, so it keeps both counters. */
	asm volatile("" : "+r"(i), "+r"(j));
#pragma clang loop unroll(disable)
	while (i < j) {
		sum += bpf_get_prandom_u32() & 1;
		i++;
		j--;
	}
	return sum > 25 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
