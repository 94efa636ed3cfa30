// One path returns after a successful reserve without submit or discard: the reference leaks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("xdp")
int ringbuf_leak_one_path(struct xdp_md *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	if (ctx->ingress_ifindex == 1)
		return XDP_DROP;
	*e = 1;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
