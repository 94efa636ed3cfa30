// Reads the record after bpf_ringbuf_submit released it.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("xdp")
int ringbuf_use_after_submit(struct xdp_md *ctx)
{
	volatile __u32 *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	if (!e)
		return XDP_PASS;
	*e = 1;
	bpf_ringbuf_submit((void *)e, 0);
	return *e;
}

char LICENSE[] SEC("license") = "GPL";
