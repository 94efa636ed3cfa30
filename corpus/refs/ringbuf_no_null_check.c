// Writes into the reserved record without checking bpf_ringbuf_reserve for NULL.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} rb SEC(".maps");

SEC("xdp")
int ringbuf_no_null_check(struct xdp_md *ctx)
{
	__u32 *e = bpf_ringbuf_reserve(&rb, sizeof(*e), 0);

	*e = 1;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
