// Two offsets chosen by one condition (38 and 46, or 22 and 30) stay paired: the kernel
// walks each side with constant offsets, so both 8-byte loads fit the 54 proven bytes.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int paired_offsets(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u32 c = ctx->rx_queue_index & 1;
	__u64 a_off = 22, b_off = 30;

	if (data + 54 > data_end)
		return XDP_DROP;
	if (c)
		a_off = 38;
	asm volatile("" : "+r"(a_off));
	if (c)
		b_off = 46;
	asm volatile("" : "+r"(b_off));
	return *(__u64 *)(data + a_off) == *(__u64 *)(data + b_off) ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
