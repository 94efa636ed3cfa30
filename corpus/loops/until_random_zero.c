// Loops until bpf_get_prandom_u32 returns 0: nothing in the state changes between iterations.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int until_random_zero(struct xdp_md *ctx)
{
	while (bpf_get_prandom_u32() != 0)
		;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
