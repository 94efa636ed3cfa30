// A false alarm of the domains: `t` is `idx * 3` in another register, so `t < 48` means
// `idx < 16`, but neither the kernel's nor bpfcheck's domains relate the two registers; Z3 does.
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
int correlated_index(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 idx = bpf_get_prandom_u32();
	__u64 t = idx * 3;
	struct val *v;

	/* Keep the two registers apart (clang would rewrite the test on idx). */
	asm volatile("" : "+r"(t));
	v = bpf_map_lookup_elem(&table, &key);
	if (!v)
		return XDP_DROP;
	if (t < 48)
		return v->arr[idx];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
