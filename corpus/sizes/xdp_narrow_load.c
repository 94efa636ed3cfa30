// A 1-byte load of xdp_md->ingress_ifindex: xdp_md fields must be read as 4 bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_narrow_load(struct xdp_md *ctx)
{
	return *(volatile __u8 *)&ctx->ingress_ifindex;
}

char LICENSE[] SEC("license") = "GPL";
