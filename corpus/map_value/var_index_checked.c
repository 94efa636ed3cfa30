// Indexes a 16-entry u32 array in the map value with a ctx-derived index after `if (i < 16)`.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct val {
	__u32 arr[16];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct val);
} table SEC(".maps");

SEC("xdp")
int var_index_checked(struct xdp_md *ctx)
{
	__u32 key = 0, i = ctx->rx_queue_index;
	struct val *v = bpf_map_lookup_elem(&table, &key);

	if (!v)
		return XDP_DROP;
	if (i < 16)
		return v->arr[i];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
