// Access in the true branch of `if (data + 14 <= data_end)`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
SEC("xdp")
int check_le(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (data + sizeof(*eth) <= data_end)
		return eth->h_proto == 8 ? XDP_PASS : XDP_DROP;
	return XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
