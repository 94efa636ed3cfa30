// Reads xdp_md->ingress_ifindex (off=12) and rx_queue_index (off=16).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_read_fields(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex + ctx->rx_queue_index > 10 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
