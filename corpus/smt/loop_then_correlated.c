// A correlated-register false alarm (`idx << 1 < 32` means idx < 16) after an 8-iteration loop:
// unrolling the loop 4 times leaves the search incomplete; with the loop bound from the termination
// proof (8), Z3 covers every path and proves the access safe.
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
int loop_then_correlated(struct xdp_md *ctx)
{
	__u32 key = 0, sum = 0;
	__u64 idx, twice;
	struct val *v;

#pragma clang loop unroll(disable)
	for (int i = 0; i < 8; i++)
		sum += bpf_get_prandom_u32() & 1;
	idx = bpf_get_prandom_u32();
	twice = idx << 1;
	asm volatile("" : "+r"(twice));
	v = bpf_map_lookup_elem(&table, &key);
	if (!v)
		return XDP_DROP;
	if (twice < 32)
		return v->arr[idx] + sum;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
