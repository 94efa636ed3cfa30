// XDP may write into the packet after a bound check.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <linux/if_ether.h>
SEC("xdp")
int write_ok(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;

	if (data + sizeof(*eth) > data_end)
		return XDP_DROP;
	eth->h_dest[0] = 0xff;
	return XDP_TX;
}

char LICENSE[] SEC("license") = "GPL";
