// The loop bound is `i <= 16`: its last iteration reads 4 bytes past the 64-byte map value.
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
int map_array_loop_oob(struct xdp_md *ctx)
{
	__u32 key = 0, sum = 0;
	struct val *v = bpf_map_lookup_elem(&table, &key);

	if (!v)
		return XDP_DROP;
#pragma clang loop unroll(disable)
	for (int i = 0; i <= 16; i++)
		sum += v->arr[i];
	return sum > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
