// An 8-byte key struct of which only the first field is written; the helper reads all 8 bytes. Accepted as root (allow_uninit_stack), like map_key_uninit.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct key {
	__u32 a;
	__u32 b;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, struct key);
	__type(value, __u64);
} pairs SEC(".maps");

SEC("xdp")
int struct_key_partial(struct xdp_md *ctx)
{
	struct key k;

	k.a = ctx->ingress_ifindex;
	return bpf_map_lookup_elem(&pairs, &k) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
