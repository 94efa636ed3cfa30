// A global function reading its int * argument without a NULL check: global functions are verified for any argument, including NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__attribute__((noinline)) int read_it(int *p)
{
	return *p;
}

SEC("xdp")
int global_func_no_null_check(struct xdp_md *ctx)
{
	int x = ctx->ingress_ifindex;

	return read_it(&x) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
