// A global (non-static) function is verified on its own, with its int * argument possibly NULL; it checks before reading.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__attribute__((noinline)) int read_or_zero(int *p)
{
	if (!p)
		return 0;
	return *p;
}

SEC("xdp")
int global_func_null_checked(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;

	return read_or_zero(&x) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
