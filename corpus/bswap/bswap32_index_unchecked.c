// A byte-swapped value is as unknown as its input: using bpf_ntohl(x) as an array index without a bound check is refused (clang emits be64 then a shift and mask that keeps it unbounded within 0..0x3fffffffc).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
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
int bswap32_index_unchecked(struct xdp_md *ctx)
{
	__u32 key = 0, i = bpf_ntohl(ctx->rx_queue_index);
	struct val *v = bpf_map_lookup_elem(&table, &key);

	if (!v)
		return XDP_DROP;
	return v->arr[i];
}

char LICENSE[] SEC("license") = "GPL";
