// bpf_map_update_elem with an 8-byte key and value on the stack.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u64);
	__type(value, __u64);
} wide SEC(".maps");

SEC("xdp")
int update_ok(struct xdp_md *ctx)
{
	__u64 key = ctx->ingress_ifindex, val = 1;

	bpf_map_update_elem(&wide, &key, &val, BPF_ANY);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
