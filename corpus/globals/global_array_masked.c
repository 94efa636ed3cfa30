// Indexes the .bss array with the ctx value masked to 0..7.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u32 slots[8];

SEC("xdp")
int global_array_masked(struct xdp_md *ctx)
{
	return slots[ctx->rx_queue_index & 7];
}

char LICENSE[] SEC("license") = "GPL";
