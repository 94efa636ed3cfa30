// A bpf_loop callback must return 0 or 1; this one returns 5.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
static long bad_cb(__u32 index, void *data)
{
	return 5;
}

SEC("xdp")
int bpf_loop_cb_bad_ret(struct xdp_md *ctx)
{
	bpf_loop(16, bad_cb, 0, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
