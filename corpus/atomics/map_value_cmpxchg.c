// cflags: -mcpu=v3
// __sync_val_compare_and_swap on a map value (cmpxchg, cpu v3; R0 is the implicit comparand).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int map_value_cmpxchg(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	if (!v)
		return XDP_DROP;
	return __sync_val_compare_and_swap(v, 0, 1) ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
