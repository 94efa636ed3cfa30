// Reads a 16-byte stack array at an index taken from ctx without any bound check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int var_index_unbounded(struct xdp_md *ctx)
{
	volatile __u8 buf[16];
	__u32 i = ctx->ingress_ifindex;

	for (int j = 0; j < 16; j++)
		buf[j] = j;
	return buf[i];
}

char LICENSE[] SEC("license") = "GPL";
