// cflags: -mcpu=v3
// __sync_fetch_and_add on an initialised stack slot (cpu v3).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int stack_add(struct xdp_md *ctx)
{
	__u64 x = ctx->ingress_ifindex;

	__sync_fetch_and_add(&x, 1);
	return x > 3 ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
