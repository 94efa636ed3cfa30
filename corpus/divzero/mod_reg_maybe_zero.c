// 64-bit modulo by a register that may be 0 is allowed: eBPF defines x % 0 = x.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int mod_reg_maybe_zero(struct xdp_md *ctx)
{
	__u64 a = ctx->ingress_ifindex, b = ctx->rx_queue_index;

	return (a << 20) % b > 3 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
