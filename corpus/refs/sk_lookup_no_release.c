// bpf_sk_lookup_tcp without bpf_sk_release: the socket reference leaks.
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
SEC("tc")
int sk_lookup_no_release(struct __sk_buff *skb)
{
	struct bpf_sock_tuple t = {};
	struct bpf_sock *sk;

	t.ipv4.dport = skb->mark;
	sk = bpf_sk_lookup_tcp(skb, &t, sizeof(t.ipv4), BPF_F_CURRENT_NETNS, 0);
	if (!sk)
		return 0;
	return sk->family == 2 ? 0 : 2;
}

char LICENSE[] SEC("license") = "GPL";
