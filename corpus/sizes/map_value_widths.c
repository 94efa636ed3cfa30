// Loads of 1, 2, 4 and 8 bytes at their natural offsets inside an 8-byte map value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int map_value_widths(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return XDP_DROP;
	return *(volatile __u8 *)((char *)v + 7) + *(volatile __u16 *)((char *)v + 6) +
	       *(volatile __u32 *)((char *)v + 4) + *(volatile __u64 *)v;
}

char LICENSE[] SEC("license") = "GPL";
