// bpf_ringbuf_reserve, NULL check, write, bpf_ringbuf_submit: the reference is released on every path.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("xdp")
int ringbuf_submit(struct xdp_md *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	*e = ctx->ingress_ifindex;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
