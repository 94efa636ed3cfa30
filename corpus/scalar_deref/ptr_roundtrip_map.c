// Stores a stack pointer into a map value (allowed as root: pointer leak) and loads it back: it comes back as a scalar, and dereferencing it is refused.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int ptr_roundtrip_map(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return XDP_DROP;
	*(volatile __u64 *)v = (__u64)(long)&key;
	return *(__u32 *)(long)*(volatile __u64 *)v;
}

char LICENSE[] SEC("license") = "GPL";
