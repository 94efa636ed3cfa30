// bpf_ntohs(x) & 15 is a valid index into the 16-entry array (the swapped value goes through a volatile stack slot so clang keeps the be16).
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
int bswap16_index_masked(struct xdp_md *ctx)
{
	volatile __u16 be = bpf_ntohs((__u16)ctx->rx_queue_index);
	__u32 key = 0, i = be & 15;
	struct val *v = bpf_map_lookup_elem(&table, &key);

	if (!v)
		return XDP_DROP;
	return v->arr[i];
}

char LICENSE[] SEC("license") = "GPL";
