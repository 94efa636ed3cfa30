// bpf_ntohs on a packet field (be16).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <linux/if_ether.h>
SEC("xdp")
int ntohs_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_DROP;
	return bpf_ntohs(eth->h_proto) == ETH_P_IP ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
