// Same as var_index_unbounded, but the index is masked with 15, so every possible offset is inside the initialised array.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int var_index_bounded(struct xdp_md *ctx)
{
	volatile __u8 buf[16];
	__u32 i = ctx->ingress_ifindex & 15;

	for (int j = 0; j < 16; j++)
		buf[j] = j;
	return buf[i];
}

char LICENSE[] SEC("license") = "GPL";
