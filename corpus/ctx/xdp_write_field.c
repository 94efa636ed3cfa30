// XDP programs may not write their context.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_write_field(struct xdp_md *ctx)
{
	ctx->ingress_ifindex = 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
