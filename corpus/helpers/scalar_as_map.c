// Passes the constant 0 where bpf_map_lookup_elem expects a map pointer.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int scalar_as_map(struct xdp_md *ctx)
{
	__u32 key = 0;

	return bpf_map_lookup_elem((void *)0, &key) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
