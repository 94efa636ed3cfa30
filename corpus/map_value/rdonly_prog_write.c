// The map is created with BPF_F_RDONLY_PROG: programs may read its values but not write them.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__uint(map_flags, BPF_F_RDONLY_PROG);
	__type(key, __u32);
	__type(value, __u64);
} ro SEC(".maps");

SEC("xdp")
int rdonly_prog_write(struct xdp_md *ctx)
{
	__u32 key = 0;
	__u64 *v = bpf_map_lookup_elem(&ro, &key);

	if (!v)
		return XDP_DROP;
	*v = 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
