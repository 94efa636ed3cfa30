// Unsigned division by a register that may be 0 is allowed: eBPF defines x / 0 = 0.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int div_reg_maybe_zero(struct xdp_md *ctx)
{
	return ctx->ingress_ifindex / ctx->rx_queue_index;
}

char LICENSE[] SEC("license") = "GPL";
