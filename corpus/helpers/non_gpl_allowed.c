// A proprietary-licensed program may call helpers that are not GPL-only, e.g. bpf_map_lookup_elem.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int non_gpl_allowed(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem(&vals, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "Proprietary";
