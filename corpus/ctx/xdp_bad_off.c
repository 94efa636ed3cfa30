// Reads 4 bytes at offset 100 of struct xdp_md, which is 24 bytes long.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("xdp")
int xdp_bad_off(struct xdp_md *ctx)
{
	return *(__u32 *)((char *)ctx + 100);
}

char LICENSE[] SEC("license") = "GPL";
