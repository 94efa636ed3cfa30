// A map key on the stack that is never written, passed to bpf_map_lookup_elem (which reads it). An unprivileged loader gets `invalid indirect read from stack`, but as root (CAP_PERFMON sets env->allow_uninit_stack) the kernel lets helpers and loads read uninitialised stack, so this is accepted.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

SEC("xdp")
int map_key_uninit(struct xdp_md *ctx)
{
	__u32 key;
	__u64 *v = bpf_map_lookup_elem(&counts, &key);

	return v ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
