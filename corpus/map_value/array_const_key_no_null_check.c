// bpf_map_lookup_elem on an array map with a constant in-range key (0 < max_entries) cannot fail: since 6.x the kernel returns map_value, not map_value_or_null, so no NULL check is needed.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int array_const_key_no_null_check(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	return *v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
