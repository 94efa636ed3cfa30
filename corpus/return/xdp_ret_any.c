// XDP return values are not range-checked at load time: 42 is accepted (it acts as XDP_ABORTED at run time).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_ret_any(struct xdp_md *ctx)
{
	return 42;
}

char LICENSE[] SEC("license") = "GPL";
