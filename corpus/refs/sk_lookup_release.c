// bpf_sk_lookup_tcp, read the socket, bpf_sk_release.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int sk_lookup_release(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	t.ipv4.dport = skb->mark;
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	int family = sk->family;

	bpf_sk_release(sk);
	return family == 2 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
