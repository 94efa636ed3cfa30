// bpf_ntohs on the 2-byte EtherType loaded with one u16 load (be16); the result goes through a volatile stack slot so clang keeps the swap.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
SEC("xdp")
int ntohs_proto(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u16 *type = data + 12;
	volatile __u16 proto;

	if ((void *)(type + 1) > data_end)
		return XDP_DROP;
	proto = bpf_ntohs(*type);
	return proto >= 0x600 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
