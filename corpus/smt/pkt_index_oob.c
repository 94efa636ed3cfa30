// A real bug: the first packet byte indexes a 16-entry array checked with `<=`, so byte 16 reads
// 4 bytes past the map value; the counterexample is a packet starting with 0x10.
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
int pkt_index_oob(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 key = 0, idx;
	struct val *v;

	if (data + 1 > data_end)
		return XDP_DROP;
	idx = *(__u8 *)data;
	v = bpf_map_lookup_elem(&table, &key);
	if (!v)
		return XDP_DROP;
	if (idx <= 16)
		return v->arr[idx];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
