// __builtin_bswap64 of a ctx value (be64 on this little-endian target), stored to a .bss variable so clang keeps the swap.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u64 swapped;

SEC("xdp")
int bswap64(struct xdp_md *ctx)
{
	swapped = __builtin_bswap64(ctx->ingress_ifindex);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
