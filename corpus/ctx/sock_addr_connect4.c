// cgroup/connect4 reads bpf_sock_addr->user_ip4 and rewrites ->user_port.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/connect4")
int sock_addr_connect4(struct bpf_sock_addr *ctx)
{
	if (ctx->user_ip4 == 0x0100007f)
		ctx->user_port = 0x5000;
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
