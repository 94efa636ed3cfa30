// Indexes a 32-byte .bss array with an unchecked ctx value.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
__u32 slots[8];

SEC("xdp")
int global_array_unchecked(struct xdp_md *ctx)
{
	return slots[ctx->rx_queue_index];
}

char LICENSE[] SEC("license") = "GPL";
