// The user_ip6 fields of bpf_sock_addr are not readable from an IPv4 hook (cgroup/connect4).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("cgroup/connect4")
int sock_addr_ip6_in_connect4(struct bpf_sock_addr *ctx)
{
	return ctx->user_ip6[0] == 0;
}

char LICENSE[] SEC("license") = "GPL";
