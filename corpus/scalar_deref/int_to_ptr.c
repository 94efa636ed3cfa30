// Casts an integer ctx field to a pointer and dereferences it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int int_to_ptr(struct xdp_md *ctx)
{
	__u32 *p = (__u32 *)(long)ctx->ingress_ifindex;

	return *p;
}

char LICENSE[] SEC("license") = "GPL";
