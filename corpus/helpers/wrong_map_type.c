// bpf_ringbuf_output needs a ringbuf map; an array map is passed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int wrong_map_type(struct xdp_md *ctx)
{
	__u64 x = 1;

	bpf_ringbuf_output(&vals, &x, sizeof(x), 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
