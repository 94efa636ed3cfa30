// Reads 4 bytes at offset 8 of an 8-byte value: one past the end.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int off_by_one(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return XDP_DROP;
	return *(volatile __u32 *)((char *)v + 8);
}

char LICENSE[] SEC("license") = "GPL";
