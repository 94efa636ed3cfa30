// The same array map lookup with a key from ctx may fail (key >= max_entries), so the result is map_value_or_null.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vals SEC(".maps");

SEC("xdp")
int array_var_key_no_null_check(struct xdp_md *ctx)
{
	__u32 key = ctx->ingress_ifindex;
	__u64 *v = bpf_map_lookup_elem(&vals, &key);

	return *v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
