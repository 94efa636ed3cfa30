// bpf_loop with a static callback that returns 0 (continue).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static long add_one(__u32 index, void *data)
{
	*(__u64 *)data += index;
	return 0;
}

SEC("xdp")
int bpf_loop_cb(struct xdp_md *ctx)
{
	__u64 sum = 0;

	bpf_loop(16, add_one, &sum, 0);
	return sum > 8 ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
